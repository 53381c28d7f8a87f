# SPDX-License-Identifier: MIT
# tests/lib.sh: what the test scripts tests/t_*.sh share.  They run from
# the repository root (as tests/run.sh starts them) and begin with
#
#	. tests/lib.sh
#
# which sets BUILD and MINT (the build under test, from $MINT_BUILD and
# $MINT), T_NAME (the script's name: t_crash), fails (the failed checks so
# far), and PIDS and AGENTS (empty: see t_cleanup).  A script that makes a
# fabric sets FAB to its name, then calls t_begin for a private $TMP and
# the cleanup at exit.  It ends with t_finish.  Exit status of a script:
# 0 pass, 1 fail, 77 skip (the reason on stdout, "skip: ...").

BUILD=${MINT_BUILD:-build}
MINT=${MINT:-$BUILD/mint}
T_NAME=$(basename "$0" .sh)
PIDS=""   # processes this script started: killed and reaped at exit
AGENTS="" # agent pids seen in status, for the last resort at exit
fails=0

say() { printf '%s\n' "$*"; }
# fail MESSAGE: a check failed; the script goes on.
fail() {
	say "FAIL: $*"
	fails=$((fails + 1))
}
# die MESSAGE: a failure after which there is nothing more to check.
die() {
	say "FAIL: $*"
	exit 1
}
# skip REASON: the test cannot run here.
skip() {
	say "skip: $*"
	exit 77
}
# need COMMAND [WHAT]: skip unless COMMAND is installed ("needs WHAT").
need() { command -v "$1" >/dev/null 2>&1 || skip "needs ${2:-$1}"; }
# need_root [WHY]: skip unless root.
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root${1:+ $1}"; }
# need_built FILE TARGET: fail unless FILE (from `make TARGET`) is there.
need_built() { [ -x "$1" ] || die "$1 is missing (make $2)"; }

# t_finish [MESSAGE]: exit 1 if a check failed, else say MESSAGE
# ("T_NAME: ok") and exit 0.
# no_sanitizer_reports: fail if a sanitizer build's agents reported
# anything (their reports go to their logs, /dev/shm/mint-$FAB.d/node*.log).
no_sanitizer_reports() {
	grep -Eqs 'runtime error|Sanitizer' "/dev/shm/mint-$FAB.d"/node*.log &&
		fail "sanitizer reports in the agents' logs: $(grep -Ehs 'runtime error|Sanitizer' "/dev/shm/mint-$FAB.d"/node*.log | head -3)"
	return 0
}

t_finish() {
	if [ "$fails" -ne 0 ]; then
		say "$T_NAME: $fails check(s) failed"
		exit 1
	fi
	say "${1:-$T_NAME: ok}"
	exit 0
}

# ---- the fabric $FAB ----

# mint ARGS...: the mint command on $FAB, bounded in time.
mint() { timeout -k 5 60 "$MINT" --fabric "$FAB" "$@"; }

# node_field ID FIELD: that field of node ID in `mint status -j`.
node_field() {
	mint status -j 2>/dev/null |
		jq -r --argjson id "$1" ".nodes[] | select(.id == \$id) | .$2"
}

# is_agent PID: PID is (still) one of $FAB's agents.
is_agent() { grep -qs "$FAB" "/proc/$1/cmdline"; }

# node_start ID ARGS...: mint node start ID ARGS, or die; sets $pid to
# the agent's pid (added to AGENTS); the command's output in
# $TMP/start.ID.
node_start() {
	_t_id=$1
	shift
	mint node start "$_t_id" "$@" >"$TMP/start.$_t_id" 2>&1 ||
		die "node start $_t_id $*: $(cat "$TMP/start.$_t_id")"
	pid=$(node_field "$_t_id" pid)
	[ -n "$pid" ] && [ "$(node_field "$_t_id" alive)" = true ] || die "node $_t_id is not up"
	AGENTS="$AGENTS $pid"
}

# dead_within ID PID: kill -9 PID (node ID), then poll `mint status -j`
# every 50 ms until it calls node ID dead; fail unless that took <= 1 s.
dead_within() {
	_t_t0=$(now_ms)
	kill -9 "$2"
	_t_seen=""
	while [ $(($(now_ms) - _t_t0)) -lt 5000 ]; do
		_t_s=$(mint status -j 2>/dev/null | jq -r --argjson id "$1" \
			'.nodes[] | select(.id == $id) | "\(.state) \(.alive)"')
		if [ "$_t_s" = "dead false" ]; then
			_t_seen=$(($(now_ms) - _t_t0))
			break
		fi
		sleep 0.05
	done
	if [ -z "$_t_seen" ]; then
		fail "node $1 not seen dead within 5 s of kill -9 (status: $_t_s)"
	elif [ "$_t_seen" -gt 1000 ]; then
		fail "node $1 seen dead after $_t_seen ms (limit 1000 ms)"
	else
		say "node $1 seen dead $_t_seen ms after kill -9"
	fi
}

# ---- processes and time ----

now_ms() { date +%s%3N; }

# running PID: the process exists and is not a zombie (nor dead).
running() {
	[ -r "/proc/$1/stat" ] || return 1
	_t_state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_t_state" ] && [ "$_t_state" != Z ] && [ "$_t_state" != X ]
}

# without PID LIST...: the words of LIST but PID, each after a space.
without() {
	_t_drop=$1
	shift
	for _t_p in "$@"; do
		[ "$_t_p" = "$_t_drop" ] || printf ' %s' "$_t_p"
	done
}

# no_libpcap COMMAND...: COMMAND (bounded) in a private mount namespace in
# which every libpcap the dynamic linker knows is an empty file, so that
# dlopen() fails as on a machine without libpcap.  Needs root and unshare.
no_libpcap() {
	_t_libs=$(ldconfig -p | awk '/libpcap\.so/ { print $NF }' | xargs -r readlink -f | sort -u)
	[ -n "$_t_libs" ] || die "ldconfig knows no libpcap"
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -k 5 60 unshare -m sh -c \
		'for l in $1; do mount --bind /dev/null "$l" || exit 125; done; shift; exec "$@"' \
		sh "$_t_libs" "$@"
}

# forget PID: a child in $PIDS was reaped; the cleanup must not kill its
# number again.
forget() {
	# shellcheck disable=SC2086 # split on purpose
	PIDS=$(without "$1" $PIDS)
}

# wait_until SECONDS COMMAND...: run COMMAND every 50 ms until it
# succeeds (status 0), for SECONDS at most (status 1).
wait_until() {
	_t_end=$(($(now_ms) + $1 * 1000))
	shift
	while [ "$(now_ms)" -lt "$_t_end" ]; do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# has_line FILE REGEX: FILE has a line matching REGEX (extended).
has_line() { grep -Eq "$2" "$1" 2>/dev/null; }

# wait_line FILE REGEX SECONDS: until FILE has a line matching REGEX.
wait_line() { wait_until "$3" has_line "$1" "$2"; }

# wait_exit PID SECONDS: wait for our child PID, bounded; its exit status
# in $rc (124 when it had to be killed, and then status 1).
# shellcheck disable=SC2034 # rc is for the caller
wait_exit() {
	_t_end=$(($(now_ms) + $2 * 1000))
	while running "$1" && [ "$(now_ms)" -lt "$_t_end" ]; do
		sleep 0.05
	done
	if running "$1"; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		rc=124
		return 1
	fi
	wait "$1"
	rc=$?
	return 0
}

# ---- start and end ----

# t_cleanup, at exit whatever happened: kill and reap $PIDS; take $FAB
# down, kill its agents in $AGENTS that survived that, remove its files;
# then the script's cleanup_more, if it has one; remove $TMP.
t_cleanup() {
	for _t_p in $PIDS; do
		kill -9 "$_t_p" 2>/dev/null
	done
	for _t_p in $PIDS; do
		wait "$_t_p" 2>/dev/null
	done
	if [ -n "${FAB:-}" ]; then
		timeout -k 5 30 "$MINT" --fabric "$FAB" down >/dev/null 2>&1
		for _t_p in $AGENTS; do
			is_agent "$_t_p" && kill -9 "$_t_p" 2>/dev/null
		done
		rm -rf "/dev/shm/mint-$FAB" "/dev/shm/mint-$FAB".*
	fi
	command -v cleanup_more >/dev/null 2>&1 && cleanup_more
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
}

# t_begin: a private directory $TMP, and t_cleanup at exit or on a signal.
t_begin() {
	TMP=$(mktemp -d "/tmp/$T_NAME.XXXXXX") || exit 1
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM HUP PIPE
}

# ---- numbers ----

# gt0 NUMBER: NUMBER (perhaps a float) is above zero.
gt0() { awk -v x="${1:-0}" 'BEGIN { exit !(x + 0 > 0) }'; }
# eval_cpu_ok FILE KERN: `mint -j inject --evaluate`'s (b) in FILE holds
# together: 7 rounds, a resolution above 0; for "nic" and KERN (veth,
# qemu_e1000) packets delivered (the NIC's at most those sent), a spread
# not negative, and either a number at least the resolution or null with
# a bound (NAME_below) at least the resolution: never a negative figure;
# the ratio nic/KERN what the two figures give (to their rounding), a
# bound of it when the NIC's is a bound, none when KERN's is.
eval_cpu_ok() {
	jq -e --arg k "$2" '.cpu_ns_per_packet as $c | $c.rounds == 7 and $c.resolution > 0 and
		$c.nic_delivered <= $c.sent and
		(["nic", $k] | map(. as $n | $c[$n + "_delivered"] > 0 and $c[$n + "_spread"] >= 0 and
			if $c[$n] == null then $c[$n + "_below"] >= $c.resolution
			else $c[$n] >= $c.resolution and $c[$n + "_below"] == null end) | all) and
		(($c.nic // $c.nic_below) as $x | $c[$k] as $y | ($c.ratio // $c.ratio_below) as $r |
		 if $y == null then $c.ratio == null and $c.ratio_below == null
		 else ($c.nic == null) == ($c.ratio == null) and ($c.nic == null) == ($c.ratio_below != null) and
			$r >= 0.995 * ($x - 0.5) / ($y + 0.5) and $r <= 1.005 * ($x + 0.5) / ($y - 0.5) end)' "$1" >/dev/null
}
# mbits BITS_PER_SECOND: "N Mbit/s".
mbits() { awk -v x="${1:-0}" 'BEGIN { printf "%.0f Mbit/s", x / 1e6 }'; }

# ---- network namespaces of $FAB's nodes ----

# our_namespaces: the names of $FAB's namespaces, a line each.
our_namespaces() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep "^mint-$FAB-"
}

# ns_listed NAME: `ip netns list` shows namespace NAME.
ns_listed() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

# delete_our_namespaces: at exit (from a script's cleanup_more, after
# t_cleanup took the fabric down), delete what is left of them.
delete_our_namespaces() {
	for _t_ns in $(our_namespaces); do
		timeout -k 5 10 ip netns delete "$_t_ns" 2>/dev/null
	done
}

# ---- programs in a node's network namespace (t_vni, t_vni_faults) ----

NSJOBS="" # process groups of bg_ns jobs: killed at exit by kill_ns_jobs

# node_ns ID: the name of node ID's network namespace on $FAB.
node_ns() { printf 'mint-%s-%s\n' "$FAB" "$1"; }

# in_ns ID SECONDS COMMAND...: COMMAND in node ID's namespace, bounded in
# time; its exit status (124 if it had to be stopped).
in_ns() {
	_t_ns=$(node_ns "$1")
	_t_s=$2
	shift 2
	timeout -k 5 "$_t_s" ip netns exec "$_t_ns" "$@"
}

# bg_ns ID SECONDS OUT COMMAND...: COMMAND in node ID's namespace in the
# background, bounded in time, its output in OUT.  Sets $bg to its pid
# (that of timeout, which leads a process group holding COMMAND); the pid
# goes in PIDS, the group in NSJOBS.  End it with stop_bg or wait_bg.
bg_ns() {
	_t_ns=$(node_ns "$1")
	_t_s=$2
	_t_out=$3
	shift 3
	timeout -k 5 "$_t_s" ip netns exec "$_t_ns" "$@" >"$_t_out" 2>&1 &
	bg=$!
	PIDS="$PIDS $bg"
	NSJOBS="$NSJOBS $bg"
}

# forget_job PID: a bg_ns job was reaped; nothing to kill at exit.
forget_job() {
	forget "$1"
	# shellcheck disable=SC2086 # split on purpose
	NSJOBS=$(without "$1" $NSJOBS)
}

# stop_bg PID: end the bg_ns job PID (its whole process group) and reap it.
stop_bg() {
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
	wait_exit "$1" 5 || kill -9 -- "-$1" 2>/dev/null
	kill -9 -- "-$1" 2>/dev/null
	forget_job "$1"
}

# wait_bg PID SECONDS: wait for the bg_ns job PID to end by itself (its
# status in $rc, 124 if it did not and was killed), then reap its group.
wait_bg() {
	wait_exit "$1" "$2"
	_t_r=$?
	kill -9 -- "-$1" 2>/dev/null
	forget_job "$1"
	return $_t_r
}

# kill_ns_jobs: at exit (from a script's cleanup_more), kill what is left
# of the bg_ns jobs' process groups.
kill_ns_jobs() {
	for _t_p in $NSJOBS; do
		kill -9 -- "-$_t_p" 2>/dev/null
	done
	NSJOBS=""
}

# ns_listening ID PORT [-t|-u]: something listens on PORT (TCP by default)
# in node ID's namespace.
ns_listening() {
	in_ns "$1" 5 ss -Hln "${3:--t}" "sport = :$2" 2>/dev/null | grep -q .
}

# vni_stat ID FIELD: a counter (or up, mac, ipv4) of node ID's VNI port in
# `mint vni stats -j`; empty if the port is not listed.
vni_stat() {
	mint vni stats -j 2>/dev/null |
		jq -r --argjson id "$1" ".ports[] | select(.node == \$id) | .vni.$2"
}

# link_local MAC: the IPv6 link-local address the kernel derives from MAC
# (modified EUI-64): 02:6d:39:7d:00:01 -> fe80::6d:39ff:fe7d:1.
link_local() {
	_t_ifs=$IFS
	IFS=:
	# shellcheck disable=SC2086 # split on purpose
	set -- $1
	IFS=$_t_ifs
	printf 'fe80::%x:%x:%x:%x\n' $(((0x$1 ^ 2) << 8 | 0x$2)) "0x${3}ff" "0xfe$4" "0x$5$6"
}

# ---- nodes with a virtual NIC (t_vni, t_vni_faults) ----

# need_vni WHAT: skip unless the VNI can run here: root (for WHAT),
# ip and ss (iproute2), jq, ping, iperf3, /dev/net/tun; fail without
# the mint tool.
need_vni() {
	need_root "$1"
	need ip "ip (iproute2)"
	need ss "ss (iproute2)"
	need jq
	need ping "ping (iputils-ping)"
	need iperf3
	need_built "$MINT" tools
	[ -c /dev/net/tun ] || skip "needs /dev/net/tun (the tun module)"
}

# vni_start ID ARGS...: node_start ID --vni ARGS.
vni_start() {
	_t_vid=$1
	shift
	node_start "$_t_vid" --vni "$@"
}

# vni_ready ID: node ID's mint0 has its carrier (a peer is up) and a
# link-local IPv6 address past duplicate address detection.
vni_ready() {
	in_ns "$1" 5 ip -o link show dev mint0 2>/dev/null | grep -q 'LOWER_UP' &&
		in_ns "$1" 5 ip -o -6 addr show dev mint0 scope link 2>/dev/null |
		grep -v tentative | grep -q 'inet6 fe80::'
}

# ping_check FROM ADDR COUNT [PING OPTIONS...]: ping ADDR COUNT times,
# every 0.2 s, from node FROM's namespace; status 0 if none was lost.
# The output in $TMP/ping.
ping_check() {
	_t_from=$1
	_t_addr=$2
	_t_n=$3
	shift 3
	in_ns "$_t_from" $((_t_n / 5 + 10)) ping -n -c "$_t_n" -i 0.2 -W 2 "$@" "$_t_addr" >"$TMP/ping" 2>&1 &&
		grep -q ' 0% packet loss' "$TMP/ping"
}

# ping_summary: the loss line of the last ping_check ("5 packets
# transmitted, 5 received, 0% packet loss, time 803ms").
ping_summary() { grep 'packet loss' "$TMP/ping" || tail -n 3 "$TMP/ping"; }

# ---- QEMU guest nodes (mint guest): tests/t_kdrv*.sh ----

# gexec ID COMMAND: COMMAND in guest ID's shell, through the fabric.
# Inside a guest the agent's exec server cannot see the host client's pid,
# takes it for dead and hangs up (129) a command still running at its
# first check, a few hundred ms in (reported to the guest-node work): so
# every COMMAND here is short and idempotent, is tried up to ten times,
# and may print more than once; longer ones run in the background (gbg).
gexec() {
	_t_id=$1
	shift
	for _t_try in 1 2 3 4 5 6 7 8 9 10; do
		timeout -k 5 60 "$MINT" --fabric "$FAB" exec "$_t_id" --cwd / -- sh -c "$*"
		_t_rc=$?
		[ "$_t_rc" -eq 129 ] || return "$_t_rc"
		sleep 0.3
	done
	return "$_t_rc"
}

# gbg ID NAME COMMAND: COMMAND in guest ID in a session of its own, deaf
# to the hang-up (which may come before setsid), its output in the
# guest's /tmp/NAME.out; returns once it started, 1 if it never did.
gbg() {
	for _t_try in 1 2 3; do
		gexec "$1" "trap '' HUP; setsid sh -c 'touch /tmp/$2.on; { $3; } >/tmp/$2.out 2>&1' </dev/null >/dev/null 2>&1 &"
		wait_until 5 gexec "$1" "test -e /tmp/$2.on" && return 0
	done
	return 1
}

# gload ID MODULE: load /lib/mint/MODULE.ko in guest ID unless it is
# loaded; fails (with insmod's words) unless it is loaded within 30 s.
gload() {
	gexec "$1" "grep -q '^$2 ' /proc/modules" && return 0
	gbg "$1" "insmod.$2" "insmod /lib/mint/$2.ko" &&
		wait_until 30 gexec "$1" "grep -q '^$2 ' /proc/modules" && return 0
	say "insmod $2: $(gexec "$1" "cat /tmp/insmod.$2.out")"
	return 1
}

# gstat ID NAME: counter NAME of mint_nic in guest ID (debugfs).
gstat() {
	gexec "$1" 'cat /sys/kernel/debug/mint_nic/stats' | awk -v k="$2" '$1 == k { v = $2 } END { print v }'
}

# inject ID ARGS...: mint -j inject ID ARGS into $TMP/inj.json; J FIELD reads it.
inject() {
	_t_id=$1
	shift
	timeout -k 5 120 "$MINT" --fabric "$FAB" -j inject "$_t_id" "$@" >"$TMP/inj.json" 2>"$TMP/inj.err"
}
J() { jq -r ".$1" "$TMP/inj.json"; }

# no_oops ID: fail unless guest ID's console is free of oopses, BUGs,
# warnings and call traces ($ARCH names the guest in the message).
no_oops() {
	mint guest console "$1" >"$TMP/console.$1" 2>&1 || fail "$ARCH: mint guest console $1 failed"
	if grep -Eq 'Oops|BUG:|WARNING:|Call Trace|general protection|Kernel panic' "$TMP/console.$1"; then
		fail "$ARCH: guest $1's console: $(grep -Em3 'Oops|BUG:|WARNING:|Call Trace|general protection|Kernel panic' "$TMP/console.$1")"
	fi
}
