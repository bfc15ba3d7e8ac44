#!/usr/bin/env bash
# A throwaway Samba Active Directory domain controller on 127.0.0.1, for the
# LDAP source's integration tests and benchmark.
#
#   scripts/samba-ad.sh start          install what is missing, provision, start
#                                      (a healthy running lab is reused)
#   scripts/samba-ad.sh seed N [T]     N users and T team groups plus the fixed
#                                      set (nesting, a cycle, GG-Big); a lab
#                                      seeded differently is replaced
#   scripts/samba-ad.sh stop           stop the lab and delete its folder
#   scripts/samba-ad.sh status         exit 0 when the lab answers
#   scripts/samba-ad.sh env            print the SCIMGATE_TEST_LDAP_* variables
#
# Needs root on Debian (apt) to install samba, ldb-tools, ldap-utils and
# winbind and to bind the fixed AD ports (389, 636, 3268, 88). Samba has no
# port setting, so there is one lab per machine: every command holds a lock,
# and a lab from an earlier run is detected and reused or replaced.
# Facts behind the choices are in the project's notes on running Samba AD for tests.
set -euo pipefail

LAB=${SCIMGATE_LAB_DIR:-/tmp/scimgate-ad}
LOCK="$LAB.lock" # outside $LAB, which is wiped on replace
REALM=EXAMPLE.TEST
DOMAIN=EXAMPLE
BASE="DC=example,DC=test"
ADMIN_DN="CN=Administrator,CN=Users,$BASE"
ADMIN_PASS='Passw0rd!Lab1'
USER_PASS='Us3r!Passw0rd'
HOST=127.0.0.1
PACKAGES=(samba samba-ad-dc samba-ad-provision winbind ldb-tools ldap-utils openssl)

say() { echo "samba-ad: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

lock() {
	exec 9>"$LOCK"
	flock 9
}

# ---- packages ---------------------------------------------------------------

missing_packages() {
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
	done
}

install_packages() {
	local missing
	missing=$(missing_packages | tr '\n' ' ')
	[ -z "${missing// /}" ] && return 0
	[ "$(id -u)" -eq 0 ] || die "packages missing ($missing) and not root to install them"
	command -v apt-get >/dev/null || die "packages missing ($missing) and no apt-get"
	say "installing $missing"
	# The packages would start smbd/nmbd/samba-ad-dc on a host with an init
	# system; a policy-rc.d that forbids starting services keeps them down.
	local policy=/usr/sbin/policy-rc.d created=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		created=1
	fi
	local apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends)
	# shellcheck disable=SC2086
	if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install $missing >"$LAB.install.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update >>"$LAB.install.log" 2>&1 || true
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive "${apt[@]}" install $missing >>"$LAB.install.log" 2>&1 ||
			{ [ -n "$created" ] && rm -f "$policy"; die "apt-get install failed; see $LAB.install.log"; }
	fi
	[ -n "$created" ] && rm -f "$policy"
	return 0
}

# ---- process ----------------------------------------------------------------

samba_pid() {
	local pid
	pid=$(cat "$LAB/samba.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

rootdse() {
	LDAPTLS_CACERT="$LAB/tls/ca.pem" timeout 5 ldapsearch -LLL -o ldif-wrap=no -x -H "ldaps://$HOST" \
		-b "" -s base "(objectClass=*)" "$@" 2>/dev/null
}

healthy() {
	samba_pid >/dev/null && [ -f "$LAB/tls/ca.pem" ] && rootdse defaultNamingContext | grep -qi "^defaultNamingContext: $BASE"
}

port_holder() {
	command -v ss >/dev/null || return 0 # images without iproute2 skip the check
	ss -Hltnp "( sport = :389 or sport = :636 )" 2>/dev/null | head -1
}

# orphan_pid finds a samba of this lab whose pid file is gone: the holder
# of port 636 with files of this lab open (samba rewrites its command line,
# so that cannot tell).
orphan_pid() {
	command -v ss >/dev/null || return 1
	local pid
	pid=$(ss -Hltnp "( sport = :636 )" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
	[ -n "$pid" ] && ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF -- " $LAB/" || return 1
	sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f3 # the process group, after "state ppid"
}

stop_samba() {
	local pid
	pid=$(samba_pid) || pid=$(orphan_pid) || return 0
	# samba was started in its own session: end its whole process group.
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$LAB/samba.pid"
}

# ---- provisioning -----------------------------------------------------------

make_tls() {
	# Samba's own certificate has no subjectAltName, which Go refuses; so a
	# CA of our own signs a server certificate for the names and the IP.
	local d="$LAB/tls"
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=scimgate test CA" \
		-keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=dc1.example.test" \
		-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
	printf 'subjectAltName=DNS:dc1.example.test,DNS:example.test,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
		-extfile "$d/ext.cnf" -out "$d/server.pem" >/dev/null 2>&1
	chmod 600 "$d/server.key" "$d/ca.key" # samba refuses a key others can read
}

write_conf() {
	mkdir -p "$LAB/etc" "$LAB/log" "$LAB/run"
	cat >"$LAB/etc/smb.conf" <<EOF
[global]
	netbios name = DC1
	realm = $REALM
	workgroup = $DOMAIN
	server role = active directory domain controller
	server services = ldap, cldap, kdc
	interfaces = $HOST
	bind interfaces only = yes
	private dir = $LAB/dc/private
	binddns dir = $LAB/dc/bind-dns
	state directory = $LAB/dc/state
	cache directory = $LAB/dc/cache
	lock directory = $LAB/dc/lock
	pid directory = $LAB/run
	ncalrpc dir = $LAB/run/ncalrpc
	log file = $LAB/log/samba.log
	log level = 1
	idmap_ldb:use rfc2307 = yes
	ldap server require strong auth = ${AD_STRONG_AUTH:-no}
	tls enabled = yes
	tls keyfile = $LAB/tls/server.key
	tls certfile = $LAB/tls/server.pem
	tls cafile = $LAB/tls/ca.pem
	ldb:nosync = true
EOF
}

provision() {
	stop_samba
	rm -rf "$LAB"
	mkdir -p "$LAB/dc"
	local args=(domain provision --targetdir="$LAB/dc" --realm="$REALM" --domain="$DOMAIN" --server-role=dc
		--dns-backend=NONE --use-rfc2307 --adminpass="$ADMIN_PASS" --host-name=dc1)
	say "provisioning $REALM into $LAB"
	if ! TDB_NO_FSYNC=1 samba-tool "${args[@]}" >"$LAB/provision.log" 2>&1; then
		# Without CAP_SYS_ADMIN the sysvol ACL cannot go into security.NTACL;
		# the ACL only matters for SMB file serving, which the lab does not run.
		grep -q -e setsysvolacl -e NT_STATUS_ACCESS_DENIED "$LAB/provision.log" ||
			die "provision failed; see $LAB/provision.log"
		say "provisioning again with the sysvol ACL in user.NTACL (no CAP_SYS_ADMIN)"
		rm -rf "$LAB/dc" && mkdir -p "$LAB/dc"
		TDB_NO_FSYNC=1 samba-tool "${args[@]}" --option="acl_xattr:security_acl_name=user.NTACL" \
			>>"$LAB/provision.log" 2>&1 || die "provision failed; see $LAB/provision.log"
	fi
	make_tls
	write_conf
}

start_samba() {
	local holder
	holder=$(port_holder)
	[ -z "$holder" ] || die "ports 389/636 are taken by another process ($holder); stop it first"
	# samba must not inherit our descriptors: an inherited lock file (the
	# lab's, or a caller's) would stay locked as long as samba runs. setsid
	# gives it its own process group, which stop ends as a whole.
	(
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		TDB_NO_FSYNC=1 exec setsid samba -F -s "$LAB/etc/smb.conf" -l "$LAB/log"
	) </dev/null >>"$LAB/log/stdout.log" 2>&1 &
	echo $! >"$LAB/samba.pid"
	for _ in $(seq 1 300); do
		healthy && return 0
		samba_pid >/dev/null || die "samba exited at start; see $LAB/log/"
		sleep 0.2
	done
	die "samba did not answer LDAP within 60 s; see $LAB/log/"
}

do_start() {
	install_packages
	if healthy; then
		say "reusing the running lab in $LAB"
		return 0
	fi
	stop_samba # a stale or half-started lab of ours
	if [ ! -f "$LAB/dc/private/sam.ldb" ] || [ ! -f "$LAB/etc/smb.conf" ] || [ ! -f "$LAB/tls/ca.pem" ]; then
		provision
	fi
	start_samba
	say "started on ldaps://$HOST:636 and ldap://$HOST:389"
}

do_stop() {
	stop_samba
	rm -rf "$LAB"
	say "stopped"
}

# ---- seeding ----------------------------------------------------------------

# utf16b64 gives the base64 of a unicodePwd value: the password in quotes,
# UTF-16LE.
utf16b64() { printf '"%s"' "$1" | iconv -f UTF-8 -t UTF-16LE | base64 -w0; }

# write_ldif N TEAMS: OUs, users, groups as LDIF for ldapmodify -a. Users go
# into three department OUs; every 20th is disabled, every 50th has expired,
# every 47th expires in the future; user k's manager is the first of its
# block of 50; the first 25 have a password.
write_ldif() {
	local n=$1 teams=$2 pwd
	pwd=$(utf16b64 "$USER_PASS")
	awk -v n="$n" -v teams="$teams" -v base="$BASE" -v pwd="$pwd" \
		-v francois="$(printf 'Fran\303\247ois' | base64 -w0)" \
		-v jackson="$(printf 'CN=Jackson\\, Fran\303\247ois,OU=Sales,OU=Lab,%s' "$BASE" | base64 -w0)" '
	function dept(i) { return (i % 3 == 0) ? "Sales" : ((i % 3 == 1) ? "Engineering" : "Support") }
	function udn(i) { return sprintf("CN=User %05d,OU=%s,OU=Lab,%s", i, dept(i), base) }
	function ou(dn) { printf "dn: %s\nobjectClass: organizationalUnit\n\n", dn }
	function group(name, type) {
		printf "dn: CN=%s,OU=Groups,OU=Lab,%s\nobjectClass: group\nsAMAccountName: %s\ngroupType: %s\ndescription: seeded\n", name, base, name, type
	}
	BEGIN {
		sec = "-2147483646"; dist = "2"
		ou("OU=Lab," base)
		ou("OU=Sales,OU=Lab," base); ou("OU=Engineering,OU=Lab," base); ou("OU=Support,OU=Lab," base)
		ou("OU=Groups,OU=Lab," base)
		for (i = 1; i <= n; i++) {
			printf "dn: %s\nobjectClass: user\nsAMAccountName: u%05d\nuserPrincipalName: u%05d@example.test\n", udn(i), i, i
			printf "givenName: Given%05d\nsn: Family%05d\ndisplayName: Given%05d Family%05d\n", i, i, i, i
			printf "mail: u%05d@example.test\ntelephoneNumber: +1 555 %07d\ntitle: %s\n", i, i, (i % 50 == 1) ? "Manager" : "Engineer"
			printf "department: %s\ncompany: Example Corp\nemployeeID: E%05d\n", dept(i), i
			if (i % 7 == 0) printf "mobile: +1 666 %07d\n", i
			if (i % 50 != 1) printf "manager: %s\n", udn(int((i - 1) / 50) * 50 + 1)
			uac = (i % 20 == 0) ? 514 : 512
			printf "userAccountControl: %d\n", uac
			if (i % 50 == 0) printf "accountExpires: 130000000000000000\n"       # 2012: expired
			else if (i % 47 == 0) printf "accountExpires: 159000000000000000\n"  # 2104: not yet
			if (i <= 25) printf "unicodePwd:: %s\n", pwd
			printf "\n"
		}
		# A DN with an escaped comma and a UTF-8 name.
		printf "dn:: %s\nobjectClass: user\nsAMAccountName: fjackson\nuserPrincipalName: fjackson@example.test\n", jackson
		printf "givenName:: %s\nsn: Jackson\nmail: fjackson@example.test\nuserAccountControl: 512\n\n", francois

		big = (n < 5000) ? n : 5000
		group("GG-Big", sec)
		for (i = 1; i <= big; i++) printf "member: %s\n", udn(i)
		printf "\n"
		group("GG-Grandchild", sec); printf "member: %s\n\n", udn(4)
		group("GG-Child", sec); printf "member: CN=GG-Grandchild,OU=Groups,OU=Lab,%s\nmember: %s\nmember: %s\n\n", base, udn(2), udn(3)
		group("GG-Parent", sec); printf "member: CN=GG-Child,OU=Groups,OU=Lab,%s\nmember: %s\n\n", base, udn(1)
		group("GG-CycleA", sec); printf "member: %s\n\n", udn(5)
		group("GG-CycleB", sec); printf "member: CN=GG-CycleA,OU=Groups,OU=Lab,%s\nmember: %s\n\n", base, udn(6)
		printf "dn: CN=GG-CycleA,OU=Groups,OU=Lab,%s\nchangetype: modify\nadd: member\nmember: CN=GG-CycleB,OU=Groups,OU=Lab,%s\n-\n\n", base, base
		group("GG-Empty", sec); printf "\n"
		group("GD-Newsletter", dist); printf "member: %s\nmember: %s\n\n", udn(7), udn(8)
		for (t = 1; t <= teams; t++) {
			group(sprintf("Team-%03d", t), sec)
			for (i = t; i <= n; i += teams) printf "member: %s\n", udn(i)
			printf "\n"
		}
	}'
}

do_seed() {
	local n=$1 teams=${2:-10} want
	want="users=$n teams=$teams"
	do_start
	if [ -f "$LAB/seeded" ]; then
		if [ "$(cat "$LAB/seeded")" = "$want" ]; then
			say "already seeded ($want)"
			return 0
		fi
		# Deleting is slower than provisioning afresh.
		say "seeded with $(cat "$LAB/seeded"); replacing the lab"
		provision
		start_samba
	fi
	local t0=$SECONDS
	write_ldif "$n" "$teams" >"$LAB/seed.ldif"
	LDAPTLS_CACERT="$LAB/tls/ca.pem" ldapmodify -a -x -H "ldaps://$HOST" -D "$ADMIN_DN" -w "$ADMIN_PASS" \
		-f "$LAB/seed.ldif" >"$LAB/seed.log" 2>&1 || die "seeding failed; see $LAB/seed.log"
	echo "$want" >"$LAB/seeded"
	say "seeded $n users and $((teams + 8)) groups in $((SECONDS - t0)) s"
}

do_env() {
	local users teams
	users=$(sed -n 's/^users=\([0-9]*\).*/\1/p' "$LAB/seeded" 2>/dev/null || true)
	teams=$(sed -n 's/.*teams=\([0-9]*\).*/\1/p' "$LAB/seeded" 2>/dev/null || true)
	cat <<EOF
SCIMGATE_TEST_LDAP_URL=ldaps://$HOST:636
SCIMGATE_TEST_LDAP_STARTTLS_URL=ldap://$HOST:389
SCIMGATE_TEST_LDAP_CA=$LAB/tls/ca.pem
SCIMGATE_TEST_LDAP_BIND_DN=$ADMIN_DN
SCIMGATE_TEST_LDAP_PASSWORD=$ADMIN_PASS
SCIMGATE_TEST_LDAP_BASE_DN=$BASE
SCIMGATE_TEST_LDAP_USER_PASSWORD=$USER_PASS
SCIMGATE_TEST_LDAP_USERS=${users:-0}
SCIMGATE_TEST_LDAP_TEAMS=${teams:-0}
EOF
}

main() {
	case "${1:-}" in
	start)
		lock
		do_start
		;;
	seed)
		[[ "${2:-}" =~ ^[0-9]+$ ]] || die "usage: $0 seed N [TEAMS]"
		[[ "${3:-10}" =~ ^[0-9]+$ ]] || die "usage: $0 seed N [TEAMS]"
		lock
		do_seed "$2" "${3:-10}"
		;;
	stop)
		lock
		do_stop
		;;
	status)
		healthy && say "running in $LAB ($(cat "$LAB/seeded" 2>/dev/null || echo not seeded))"
		;;
	env)
		do_env
		;;
	*)
		echo "usage: $0 start | seed N [TEAMS] | stop | status | env" >&2
		exit 2
		;;
	esac
}

# Everything runs from this one line, which bash has read in full before
# starting: editing this file while it runs cannot derail it.
main "$@"
exit $?
