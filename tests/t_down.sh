#!/bin/sh
# SPDX-License-Identifier: MIT
# t_down: `mint down` and `mint node stop` trust nothing in the fabric
# (issue 12).  `w OFF FMT VAL` writes struct.pack(FMT, VAL) at byte OFF of
# the fabric file, as a hostile peer would.
#
# 1. A bad header version (w 8 <I 2) with three nodes up: `down` exits 0
#    and leaves no agent, namespace or file; a second `down` exits 0
#    saying there was nothing to remove.
# 2. A node entry set FREE (w 0x1000+2*4096 <I 0): `node stop 2` still
#    stops node 2's agent and removes its namespace; then `down` of the
#    rest with entry 1 set FREE too leaves nothing.
# 3. The pid and start time of a process that is no agent (a sleep of
#    ours) written into a node entry set UP: `down` warns it is not
#    signalled, and the sleep lives on.
# 4. A `node start` that fails after its namespace was made (an address
#    the TAP refuses) leaves no namespace; `node stop` of the node then
#    says it is not running.
# 5. Names that cannot collide: fabrics collisiontestfabric0A and 0B
#    (once both node 0 in mint-collisiontestfabric0-0) and two 31-character
#    names that differ in their last character each get their own
#    namespace, and `down` of one leaves the other's running node and
#    namespace.  A fabric whose short name equals the hashed name of a
#    long one is refused by `mint up` (its run directory is the long
#    one's); made by copying the file, it is refused the namespace the
#    long one holds, and its `down` leaves that namespace alone.
# 6. The first ping right after `node start --vni` is answered, both ways,
#    in each of 20 stop/start cycles (40 under MINT_STRESS).
#
# Needs root, ip, jq, ping, python3 and /dev/net/tun.  Exit 0 pass, 1 fail,
# 77 skip.
set -u

. tests/lib.sh
need_vni "for network namespaces"
need python3
FAB=t-$$-down
OTHERS="" # the other fabrics this test makes: taken down at exit
t_begin

# fab_down NAME: take fabric NAME down, quietly (the cleanup's).
fab_down() { timeout -k 5 30 "$MINT" --fabric "$1" down >/dev/null 2>&1; }
cleanup_more() {
	for _f in $OTHERS; do
		fab_down "$_f"
		rm -rf "/dev/shm/mint-$_f" "/dev/shm/mint-$_f".*
	done
	[ -n "${SLEEPER:-}" ] && kill "$SLEEPER" 2>/dev/null
	delete_our_namespaces
}

# w OFF FMT VAL: a hostile write into $FAB's file.
w() {
	python3 -c 'import os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, struct.pack(sys.argv[3], int(sys.argv[4], 0)), int(sys.argv[2], 0))' \
		"/dev/shm/mint-$FAB" "$1" "$2" "$3"
}
entry() { echo $((0x1000 + $1 * 4096 + ${2:-0})); }

# up_three: $FAB with nodes 0 and 1 (--vni) and 2; their pids in P0..P2.
up_three() {
	mint up >/dev/null || die "mint up"
	vni_start 0
	P0=$pid
	vni_start 1
	P1=$pid
	node_start 2
	P2=$pid
}

# nothing_left WHAT: no agent of $AGENTS, namespace or file of $FAB.
nothing_left() {
	for _p in $AGENTS; do
		running "$_p" && is_agent "$_p" && fail "$1: agent $_p still runs"
	done
	_ns=$(our_namespaces)
	[ -z "$_ns" ] || fail "$1: namespaces left: $_ns"
	_files=$(ls -d "/dev/shm/mint-$FAB" "/dev/shm/mint-$FAB".* 2>/dev/null)
	[ -z "$_files" ] || fail "$1: files left: $_files"
}

# down_clean WHAT: `mint down` exits 0 and leaves nothing.
down_clean() {
	no_sanitizer_reports
	mint down >"$TMP/down" 2>&1 || fail "$1: down exit $?: $(cat "$TMP/down")"
	nothing_left "$1"
	AGENTS=""
}

# ---- 1. a bad header version ----
up_three
w 8 '<I' 2
down_clean "bad version"
mint down >"$TMP/down" 2>&1 && grep -q "nothing to remove" "$TMP/down" ||
	fail "a second down: $(cat "$TMP/down")"

# ---- 2. node entries set FREE ----
up_three
w "$(entry 2)" '<I' 0
mint node stop 2 >"$TMP/stop" 2>&1 || fail "node stop 2 of a FREE entry: $(cat "$TMP/stop")"
running "$P2" && fail "node 2's agent $P2 survived node stop"
ns_listed "$(node_ns 2)" && fail "node 2's namespace survived node stop"
w "$(entry 1)" '<I' 0
down_clean "entries set FREE"

# ---- 3. a pid that is no agent ----
sleep 600 &
SLEEPER=$!
mint up >/dev/null || die "mint up"
vni_start 0
start=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$SLEEPER/stat")
w "$(entry 3 12)" '<i' "$SLEEPER"
w "$(entry 3 16)" '<Q' "$start"
w "$(entry 3)" '<I' 1
mint down >"$TMP/down" 2>&1 || fail "down with a forged pid: $(cat "$TMP/down")"
running "$SLEEPER" || fail "down killed pid $SLEEPER, which the fabric named but is no agent"
grep -q "pid $SLEEPER.*not signalled" "$TMP/down" || fail "down did not say it left pid $SLEEPER: $(cat "$TMP/down")"
nothing_left "forged pid"
kill "$SLEEPER"
wait "$SLEEPER" 2>/dev/null
SLEEPER=""
AGENTS=""

# ---- 4. a node start that fails ----
mint up >/dev/null || die "mint up"
vni_start 0
mint node start 1 --vni --vni-addr 224.0.0.1/24 >"$TMP/start" 2>&1 &&
	fail "node start with a multicast address succeeded"
ns_listed "$(node_ns 1)" && fail "a failed node start left namespace $(node_ns 1)"
mint node stop 1 >"$TMP/stop" 2>&1
grep -q "not running" "$TMP/stop" || fail "node stop after a failed start: $(cat "$TMP/stop")"
down_clean "failed start"

# ---- 5. names that cannot collide ----
# two NAME1 NAME2: node 0 on each; down of NAME1 leaves NAME2's.
two() {
	OTHERS="$OTHERS $1 $2"
	for _f in "$1" "$2"; do
		"$MINT" --fabric "$_f" up >/dev/null || die "up $_f"
		"$MINT" --fabric "$_f" node start 0 >"$TMP/start" 2>&1 || die "start on $_f: $(cat "$TMP/start")"
	done
	_ns2=$("$MINT" --fabric "$2" status -j | jq -r '.nodes[0].netns')
	_pid2=$("$MINT" --fabric "$2" status -j | jq -r '.nodes[0].pid')
	_ns1=$("$MINT" --fabric "$1" status -j | jq -r '.nodes[0].netns')
	[ "$_ns1" != "$_ns2" ] || fail "fabrics $1 and $2 share namespace $_ns1"
	fab_down "$1" || fail "down $1"
	ns_listed "$_ns2" || fail "down of $1 removed $2's namespace $_ns2"
	running "$_pid2" || fail "down of $1 stopped $2's agent"
	fab_down "$2"
}
two collisiontestfabric0A collisiontestfabric0B
long=t$$-a-fabric-name-of-31-chars
long=$(printf '%.30s' "$long-xxxxxxxxxxxxxxxxxxxx")
two "${long}A" "${long}B"

OTHERS="$OTHERS ${long}A"
"$MINT" --fabric "${long}A" up >/dev/null || die "up ${long}A"
# A copy of its file (before its node starts) under that name: a fabric
# not made by mint up.
cp --sparse=always "/dev/shm/mint-${long}A" "$TMP/copy"
"$MINT" --fabric "${long}A" node start 0 >/dev/null 2>&1 || die "node start on ${long}A"
ns=$("$MINT" --fabric "${long}A" status -j | jq -r '.nodes[0].netns')
alias=${ns#mint-}
alias=${alias%-0}
OTHERS="$OTHERS $alias"
"$MINT" --fabric "$alias" up >"$TMP/up" 2>&1 && fail "fabric $alias was made beside ${long}A"
grep -q "another fabric's" "$TMP/up" || fail "mint up of $alias: $(cat "$TMP/up")"
[ -e "/dev/shm/mint-$alias" ] && fail "a refused mint up left /dev/shm/mint-$alias"
mv "$TMP/copy" "/dev/shm/mint-$alias"
"$MINT" --fabric "$alias" node start 0 >"$TMP/start" 2>&1 &&
	fail "fabric $alias was given namespace $ns, ${long}A's"
grep -q "is fabric .*${long}A's" "$TMP/start" || fail "refusal does not name the owner: $(cat "$TMP/start")"
fab_down "$alias"
ns_listed "$ns" || fail "down of $alias removed ${long}A's namespace $ns"
[ -e "/dev/shm/mint-$alias" ] && fail "down of $alias left its file"
fab_down "${long}A"
ns_listed "$ns" && fail "down of ${long}A left its namespace $ns"
ls -d "/dev/shm/mint-$alias"* "/dev/shm/mint-${long}A"* 2>/dev/null && fail "files left"

# ---- 6. the first ping after node start ----
mint up >/dev/null || die "mint up"
vni_start 0
vni_start 1
cycles=20
[ -n "${MINT_STRESS:-}" ] && cycles=40
lost=0
i=0
while [ $i -lt $cycles ]; do
	mint node stop 1 >/dev/null 2>&1 || fail "node stop 1 (cycle $i)"
	mint node start 1 --vni >/dev/null 2>&1 || die "node start 1 (cycle $i)"
	in_ns 0 5 ping -n -c 1 -W 1 10.77.0.2 >/dev/null 2>&1 || lost=$((lost + 1))
	in_ns 1 5 ping -n -c 1 -W 1 10.77.0.1 >/dev/null 2>&1 || lost=$((lost + 1))
	i=$((i + 1))
done
say "first pings after node start: $lost of $((2 * cycles)) unanswered"
[ "$lost" -eq 0 ] || fail "$lost first pings after node start got no reply"
AGENTS="$AGENTS $(node_field 1 pid)"
down_clean "after the ping cycles"

t_finish
