#!/usr/bin/env bash
# Installs wrk (Debian package wrk), the HTTP load generator that
# `scimgate-load -driver wrk` runs; BENCHMARKS.md's issue 15 figures are
# taken with it. Not part of `make test`.
#
#   scripts/wrk.sh            # install when missing, print its version line
#
# Needs root and apt-get; otherwise one line says why and it exits 1.
set -uo pipefail

# wrk has no version flag: it prints its banner with the usage and exits 1.
version() { { wrk --version 2>&1 || true; } | head -n 1; }

if command -v wrk >/dev/null; then
	version
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "wrk is not installed and installing it needs root (uid $(id -u)): apt-get install wrk" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "wrk is not installed and there is no apt-get to install it" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 install -y -q wrk ||
	{ apt-get -o DPkg::Lock::Timeout=600 update -q && apt-get -o DPkg::Lock::Timeout=600 install -y -q wrk; } ||
	{ echo "apt-get could not install wrk" >&2; exit 1; }
version
