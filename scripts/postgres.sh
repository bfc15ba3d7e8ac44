#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL for the store's PostgreSQL
# tests, passing its DSN in SCIMGATE_TEST_POSTGRES; stops the server and
# removes its files afterwards (also when the command fails) and exits
# with the command's status.
#
#   scripts/postgres.sh run go test ./...
#
# The server is Debian's PostgreSQL (installed with apt-get when missing),
# its cluster in a fresh temporary folder, listening on 127.0.0.1 only on
# a free port, trust authentication (loopback only; never elsewhere). Each
# run has its own cluster, so parallel runs do not meet.
#
# When it cannot (not Linux, not root, neither PostgreSQL nor apt-get, or
# SCIMGATE_PG=off) or setup fails, one loud line says so and the command
# runs without it: the PostgreSQL tests skip. SCIMGATE_PG=required turns a
# failed setup into a failed run. An already set SCIMGATE_TEST_POSTGRES is
# used as it is.
set -uo pipefail

pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && echo "$d"
	done | sort -V | tail -n 1
}

why_not() {
	if [ "${SCIMGATE_PG:-}" = off ]; then
		echo "SCIMGATE_PG=off"
	elif [ "$(uname -s)" != Linux ]; then
		echo "the throwaway PostgreSQL needs Linux"
	elif [ "$(id -u)" -ne 0 ]; then
		echo "not root (uid $(id -u)); installing PostgreSQL and running initdb as the postgres user need root"
	elif [ -z "$(pg_bin)" ] && ! command -v apt-get >/dev/null; then
		echo "PostgreSQL is not installed and there is no apt-get to install it"
	fi
}

install() {
	[ -n "$(pg_bin)" ] && return 0
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -q &&
		apt-get -o DPkg::Lock::Timeout=600 install -y -q postgresql
}

# start creates and starts a cluster in $PGDIR and prints its DSN.
start() {
	local bin port tries
	bin=$(pg_bin)
	[ -n "$bin" ] || { echo "no initdb after installing postgresql" >&2; return 1; }
	chmod 755 "$PGDIR"
	mkdir "$PGDIR/data" && chown postgres "$PGDIR/data" || return 1
	runuser -u postgres -- "$bin/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --no-sync >&2 || return 1
	for tries in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 20000))
		if runuser -u postgres -- "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/data/log" -w -t 60 \
			-o "-p $port -k $PGDIR/data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >&2; then
			echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			return 0
		fi
		tail -n 3 "$PGDIR/data/log" >&2
	done
	return 1
}

stop() {
	local bin
	bin=$(pg_bin)
	if [ -f "$PGDIR/data/postmaster.pid" ]; then
		runuser -u postgres -- "$bin/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 ||
			echo "==> stopping the throwaway PostgreSQL failed; see $PGDIR" >&2
	fi
	rm -rf "$PGDIR"
}

run() {
	if [ -n "${SCIMGATE_TEST_POSTGRES:-}" ]; then
		echo "==> PostgreSQL tests use SCIMGATE_TEST_POSTGRES from the environment" >&2
		"$@"
		return $?
	fi
	local reason setup_failed=""
	reason=$(why_not)
	if [ -n "$reason" ]; then
		echo "*** PostgreSQL tests SKIPPED: $reason ***" >&2
		"$@"
		return $?
	fi
	PGDIR=$(mktemp -d /tmp/scimgate-pg.XXXXXX)
	trap stop EXIT
	trap 'exit 130' INT TERM
	local t0=$SECONDS dsn
	if install >"$PGDIR.log" 2>&1 && dsn=$(start 2>>"$PGDIR.log"); then
		export SCIMGATE_TEST_POSTGRES=$dsn
		echo "==> throwaway PostgreSQL ready for the PostgreSQL tests: $dsn ($((SECONDS - t0)) s)" >&2
		rm -f "$PGDIR.log"
	else
		setup_failed=1
		echo "*** PostgreSQL tests SKIPPED: the throwaway PostgreSQL could not be set up; see $PGDIR.log ***" >&2
	fi
	"$@"
	local status=$?
	if [ "$status" -eq 0 ] && [ -n "$setup_failed" ] && [ "${SCIMGATE_PG:-}" = required ]; then
		status=1
	fi
	return "$status"
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
