#!/usr/bin/env bash
# Runs a command with headless Chromium for the console's browser tests,
# passing the browser's path in SCIMGATE_TEST_CHROMIUM, and exits with the
# command's status.
#
#   scripts/chromium.sh run go test ./...
#
# The browser is Debian's chromium package (with fonts-liberation, so
# screenshots show real text, and without its desktop recommends), installed
# with apt-get when it is missing and this runs as root (as CI does); a second run finds it and
# installs nothing. Where there is no Chromium and it cannot be installed
# (not root, no apt-get, or SCIMGATE_CHROMIUM=off), or the install fails,
# one loud line says so and the command runs without it: the browser
# tests skip. An already set SCIMGATE_TEST_CHROMIUM is used as it is.
set -uo pipefail

# chromium_path prints the installed browser's path, if there is one.
chromium_path() {
	local c
	for c in chromium chromium-browser; do
		command -v "$c" && return 0
	done
	return 1
}

why_not() {
	if [ "${SCIMGATE_CHROMIUM:-}" = off ]; then
		echo "SCIMGATE_CHROMIUM=off"
	elif chromium_path >/dev/null; then
		return 0
	elif [ "$(id -u)" -ne 0 ]; then
		echo "Chromium is not installed and installing it needs root (uid $(id -u)); apt-get install chromium, or set SCIMGATE_TEST_CHROMIUM"
	elif ! command -v apt-get >/dev/null; then
		echo "Chromium is not installed and there is no apt-get to install it; set SCIMGATE_TEST_CHROMIUM"
	fi
}

install() {
	chromium_path >/dev/null && return 0
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -q &&
		apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends chromium fonts-liberation
}

run() {
	if [ -n "${SCIMGATE_TEST_CHROMIUM:-}" ]; then
		"$@"
		return $?
	fi
	local reason path log t0=$SECONDS
	reason=$(why_not)
	if [ -n "$reason" ]; then
		echo "*** browser tests SKIPPED: $reason ***" >&2
		"$@"
		return $?
	fi
	if ! path=$(chromium_path); then
		log=$(mktemp /tmp/scimgate-chromium.XXXXXX.log)
		if install >"$log" 2>&1 && path=$(chromium_path); then
			echo "==> installed Chromium for the browser tests: $path ($((SECONDS - t0)) s)" >&2
			rm -f "$log"
		else
			echo "*** browser tests SKIPPED: installing Debian's chromium failed; see $log ***" >&2
			"$@"
			return $?
		fi
	fi
	SCIMGATE_TEST_CHROMIUM=$path "$@"
}

case "${1:-}" in
run)
	shift
	run "$@"
	exit $?
	;;
*)
	echo "usage: $0 run COMMAND [ARG...]" >&2
	exit 2
	;;
esac
