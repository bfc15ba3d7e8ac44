#!/usr/bin/env bash
# Runs a test command with the integration labs this machine can provide,
# passing their connection details in environment variables; takes them
# down afterwards and exits with the command's status.
#
#   scripts/test-env.sh go test -race -count=1 ./...
#
# The Samba AD lab (scripts/samba-ad.sh) backs the sources/ldap
# integration tests (SCIMGATE_TEST_LDAP_*). It is started when this runs as
# root with apt-get (as CI does); otherwise one line says why and those
# tests skip. Where it could run but setup fails, the tests still run
# (skipping LDAP) and the exit status is a failure.
#
#   SCIMGATE_LAB=off          skip the lab
#   SCIMGATE_LAB_KEEP=1       leave it running afterwards (for a dev loop)
#   SCIMGATE_LAB_USERS=N      seed N users (default 2000: GG-Big needs > 1500)
#   SCIMGATE_LAB_TEAMS=T      and T team groups (default 10)
#   SCIMGATE_LAB_EXCLUSIVE=1  wait until no other run uses the lab (benchmarks)
#
# Several runs on one machine share one lab (Samba's ports are fixed):
# each holds a shared lock on $LAB.users while it tests; the last one out
# stops the lab.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
LAB=${SCIMGATE_LAB_DIR:-/tmp/scimgate-ad}
export SCIMGATE_LAB_DIR=$LAB

why_not() {
	if [ "${SCIMGATE_LAB:-}" = off ]; then
		echo "SCIMGATE_LAB=off"
	elif [ "$(uname -s)" != Linux ]; then
		echo "the Samba AD lab needs Linux"
	elif [ "$(id -u)" -ne 0 ]; then
		echo "not root (uid $(id -u)); the Samba AD lab needs root to install packages and bind ports 389/636"
	elif ! command -v apt-get >/dev/null && ! command -v samba >/dev/null; then
		echo "Samba is not installed and there is no apt-get to install it"
	elif ! command -v flock >/dev/null; then
		echo "flock (util-linux) is missing"
	fi
}

lab_failed=""
lab_held=""

teardown() {
	[ -n "$lab_held" ] || return 0
	if [ "${SCIMGATE_LAB_KEEP:-}" = 1 ]; then
		echo "==> Samba AD lab left running (SCIMGATE_LAB_KEEP=1); stop it with scripts/samba-ad.sh stop" >&2
		return 0
	fi
	# Turning the shared lock exclusive only works when no other run holds
	# it; that run then stops the lab when it finishes.
	if flock -n -x 8; then
		"$here/samba-ad.sh" stop 8>&- 2>>"$LAB.setup.log" || echo "==> stopping the Samba AD lab failed; see $LAB.setup.log" >&2
	fi
	flock -u 8
}

main() {
	reason=$(why_not)
	if [ -n "$reason" ]; then
		echo "*** LDAP integration tests SKIPPED: $reason ***" >&2
	else
		exec 8>"$LAB.users"
		if [ "${SCIMGATE_LAB_EXCLUSIVE:-}" = 1 ]; then flock -x 8; else flock -s 8; fi
		lab_held=1
		trap teardown EXIT
		trap 'exit 130' INT TERM
		t0=$SECONDS
		echo "--- $(date -u +%FT%TZ) run $$" >>"$LAB.setup.log"
		if "$here/samba-ad.sh" start 8>&- 2>>"$LAB.setup.log" &&
			"$here/samba-ad.sh" seed "${SCIMGATE_LAB_USERS:-2000}" "${SCIMGATE_LAB_TEAMS:-10}" 8>&- 2>>"$LAB.setup.log"; then
			set -a
			eval "$("$here/samba-ad.sh" env)"
			set +a
			echo "==> Samba AD lab ready for the LDAP integration tests: $SCIMGATE_TEST_LDAP_URL, $SCIMGATE_TEST_LDAP_USERS users ($((SECONDS - t0)) s)" >&2
		else
			lab_failed=1
			echo "*** LDAP integration tests SKIPPED, and this run FAILS: the Samba AD lab could not be set up (SCIMGATE_LAB=off skips it):" >&2
			tail -n 5 "$LAB.setup.log" | sed 's/^/***   /' >&2
		fi
	fi

	"$@" 8>&-
	status=$?
	if [ "$status" -eq 0 ] && [ -n "$lab_failed" ]; then
		status=1
	fi
	exit "$status"
}

# One line read in full before anything runs: editing this file while a
# test run uses it cannot derail that run.
main "$@"
