#!/bin/sh
# SPDX-License-Identifier: MIT
# t_cross_user: root acting on a fabric another user made (issue 12,
# "Across users").  The user is nobody (setpriv); its fabric $FAB has two
# nodes of its own (no namespaces: it is not root).  Root's fabric $RFAB
# has node 0 in namespace mint-$RFAB-0.
#
# 1. Logs: the user plants, in its fabric's run directory, node3.log as a
#    symlink to a root-owned file and node4.log as a file anyone may read
#    (and, at the old log path /dev/shm/mint-$FAB.node3.log, another
#    symlink).  Root starts nodes 3 and 4 on the user's fabric: the
#    root-owned file is unchanged, and root's node logs are root's own,
#    mode 0600 (the user cannot read them).
# 2. The user writes the pid and start time of a root process (a sleep)
#    into node entry 5, set UP, and sets its header's name and node 0's
#    namespace to root's fabric's.  Root's `mint --fabric $FAB down`
#    warns that it did not signal that pid, and leaves the sleep, root's
#    node 0 and its namespace running; it stops every agent of $FAB
#    (the user's and root's) and leaves no namespace, process or file of
#    $FAB.
# 3. The user's own `down` of a fabric root runs a node on stops nothing
#    of root's (it cannot), says so, and root's `down` then removes it all.
#
# Needs root, setpriv, ip, jq, python3.  Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
need_root "to act as another user"
need setpriv "setpriv (util-linux)"
need ip "ip (iproute2)"
need jq
need python3
PY=$(command -v /usr/bin/python3 || command -v python3) # one the user may run
need_built "$MINT" tools
FAB=t-$$-xu
RFAB=t-$$-xr
USER_ID=65534 # nobody
t_begin
chmod 711 "$TMP"

cleanup_more() {
	timeout -k 5 30 "$MINT" --fabric "$RFAB" down >/dev/null 2>&1
	rm -rf "/dev/shm/mint-$RFAB" "/dev/shm/mint-$RFAB".* "/dev/shm/mint-$FAB".*
	[ -n "${SLEEPER:-}" ] && kill "$SLEEPER" 2>/dev/null
	delete_our_namespaces
}

# as_user ARGS...: mint on $FAB as the user.
as_user() {
	timeout -k 5 60 setpriv --reuid=$USER_ID --regid=$USER_ID --clear-groups \
		"$MINT" --fabric "$FAB" "$@"
}
# user_sh SCRIPT: a shell command as the user.
user_sh() { setpriv --reuid=$USER_ID --regid=$USER_ID --clear-groups sh -c "$1"; }
# w OFF FMT VAL: the user's write into its own fabric.
w() {
	setpriv --reuid=$USER_ID --regid=$USER_ID --clear-groups "$PY" -c 'import os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
v = sys.argv[4]
os.pwrite(fd, struct.pack(sys.argv[3], v.encode() if "s" in sys.argv[3] else int(v, 0)), int(sys.argv[2], 0))' \
		"/dev/shm/mint-$FAB" "$1" "$2" "$3"
}
entry() { echo $((0x1000 + $1 * 4096 + ${2:-0})); }

as_user up >"$TMP/up" 2>&1 || die "the user's mint up: $(cat "$TMP/up")"
for id in 0 1; do
	as_user node start "$id" >"$TMP/start" 2>&1 || die "the user's node start $id: $(cat "$TMP/start")"
	AGENTS="$AGENTS $(node_field "$id" pid)"
done
RUNDIR=/dev/shm/mint-$FAB.d
[ "$(stat -c '%u %a' "$RUNDIR")" = "$USER_ID 700" ] ||
	fail "run directory $RUNDIR: $(stat -c '%U %a' "$RUNDIR"), not the user's alone"
"$MINT" --fabric "$RFAB" up >/dev/null || die "root's mint up"
"$MINT" --fabric "$RFAB" node start 0 >"$TMP/start" 2>&1 || die "root's node start: $(cat "$TMP/start")"
RPID=$("$MINT" --fabric "$RFAB" status -j | jq -r '.nodes[0].pid')
RNS=$("$MINT" --fabric "$RFAB" status -j | jq -r '.nodes[0].netns')

# ---- 1. logs ----
echo "root's secret" >"$TMP/victim"
chmod 600 "$TMP/victim"
user_sh "ln -s '$TMP/victim' '$RUNDIR/node3.log'; ln -s '$TMP/victim' /dev/shm/mint-$FAB.node3.log;
	umask 0; : >'$RUNDIR/node4.log'" || fail "the user could not plant its traps"
for id in 3 4; do
	mint node start "$id" --no-exec >"$TMP/start" 2>&1 || fail "root's node start $id: $(cat "$TMP/start")"
	AGENTS="$AGENTS $(node_field "$id" pid)"
done
[ "$(cat "$TMP/victim")" = "root's secret" ] || fail "root's node wrote into $TMP/victim"
for id in 3 4; do
	log=$RUNDIR/node$id.log
	[ -f "$log" ] && [ ! -L "$log" ] && [ "$(stat -c '%u %a' "$log")" = "0 600" ] ||
		fail "root's node $id log: $(ls -l "$log")"
	user_sh "cat '$log'" >/dev/null 2>&1 && fail "the user can read root's node $id log"
done
rm -f "/dev/shm/mint-$FAB.node3.log" # the trap at the old path: no file of mint's

# ---- 2. a forged pid, a forged name and namespace ----
sleep 600 &
SLEEPER=$!
start=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$SLEEPER/stat")
w "$(entry 5 12)" '<i' "$SLEEPER"
w "$(entry 5 16)" '<Q' "$start"
w "$(entry 5)" '<I' 1
w 80 '32s' "$RFAB"
w "$(entry 0 96)" '32s' "$RNS"
mint down >"$TMP/down" 2>&1 || fail "root's down of the user's fabric: $(cat "$TMP/down")"
grep -q "pid $SLEEPER.*not signalled" "$TMP/down" || fail "down did not say it left pid $SLEEPER: $(cat "$TMP/down")"
running "$SLEEPER" || fail "root's down killed root's process $SLEEPER, named by the user's fabric"
running "$RPID" || fail "root's down of the user's fabric stopped root's node $RPID"
ns_listed "$RNS" || fail "root's down of the user's fabric removed root's namespace $RNS"
for p in $AGENTS; do
	running "$p" && fail "agent $p of the user's fabric survived down"
done
left=$(ls -d "/dev/shm/mint-$FAB" "/dev/shm/mint-$FAB".d 2>/dev/null; ip netns list | grep "mint-$FAB-")
[ -z "$left" ] || fail "down of the user's fabric left: $left"
kill "$SLEEPER"
wait "$SLEEPER" 2>/dev/null
SLEEPER=""
AGENTS=""

# ---- 3. the user's down of a fabric with root's node ----
as_user up >/dev/null 2>&1 || die "the user's second mint up"
mint node start 0 >"$TMP/start" 2>&1 || fail "root's node start on the user's fabric: $(cat "$TMP/start")"
pid=$(node_field 0 pid)
as_user down >"$TMP/down" 2>&1
running "$pid" || fail "the user's down stopped root's agent"
mint down >"$TMP/down" 2>&1 || fail "root's down: $(cat "$TMP/down")"
running "$pid" && fail "root's down left agent $pid"
left=$(ls -d "/dev/shm/mint-$FAB" "/dev/shm/mint-$FAB".* 2>/dev/null; ip netns list | grep "mint-$FAB-")
[ -z "$left" ] || fail "down left: $left"

t_finish
