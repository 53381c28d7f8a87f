#!/bin/sh
# SPDX-License-Identifier: MIT
# t_guest: QEMU system guests as nodes (issue 13).  An x86_64 and an
# aarch64 guest (TCG where there is no /dev/kvm) join a fabric beside a
# process node, through mint's ivshmem server and the guest driver.
#
#  1. Bad input first (nothing may start): no --arch, an unknown one, a
#     bad --accel (usage, exit 2); QEMU missing from PATH, a kernel that
#     does not exist (one line naming the package or target, exit 1).
#  2. Both guests in `mint status -j`: kind guest, their architecture,
#     kernel release, QEMU's pid as theirs.
#  3. Channels and doorbells across the boundary, every way: `mint ping`
#     (a tool on the host), process node <-> each guest, guest <-> guest
#     (each `mint ping --from` is the agent of one node talking to
#     another's); `mint ipi` into a guest counted by its dispatcher.
#     VNI ping from node 0's namespace to guest 1's TAP (in its kernel).
#  4. `mint exec` into each guest runs on that guest's kernel.
#  5. Clients of the server that speak garbage or hang are refused
#     without blocking the guests (pings still work meanwhile).
#  6. kill -9 of the aarch64 guest's QEMU amid a ping and an exec (both
#     err out within a bound): seen dead within 1 s; `mint
#     guest start` of the same id rejoins (epoch + 1) while the others
#     keep their pids and epochs; pings work again.
#  6b. Health on the host's clock: a guest's heartbeat age is under 1 s;
#     guest 1 frozen whole (SIGSTOP to its QEMU: alive, nothing beats) is
#     `hung` (-j state, text status) within 3 s + 2 s, with an age over
#     3 s, while the others stay up; SIGCONT: up again within 2 s.
#  7. A guest that cannot reach the fabric in --timeout: stopped, the
#     error names its console log, no QEMU left.
#  8. `mint down`: no QEMU, server, socket or file left.
#
# Needs root, qemu-system-x86 and qemu-system-arm, jq, python3 and the
# guest images (make guest-images).  Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
frozen=""
cleanup_more() {
	[ -n "$frozen" ] && kill -CONT "$frozen" 2>/dev/null
	delete_our_namespaces
}
FAB=t-$$-guest
t_begin

need_root "(QEMU guests, the server's socket)"
need jq
need python3
need qemu-system-x86_64 "qemu-system-x86"
need qemu-system-aarch64 "qemu-system-arm"
need_built "$MINT" tools
for a in x86_64 aarch64; do
	[ -r "$BUILD/guest/$a/kernel" ] && [ -r "$BUILD/guest/$a/initrd.cpio.gz" ] ||
		die "$BUILD/guest/$a is missing (make guest-images)"
done
SOCK=/dev/shm/mint-$FAB.ivshmem.sock
SLOG=/dev/shm/mint-$FAB.ivshmem.log
MINT=$(realpath "$MINT") # exec runs in the caller's directory: / below

# gmint ARGS...: the mint command with a guest's time to boot.
gmint() { timeout -k 5 150 "$MINT" --fabric "$FAB" "$@"; }

# expect_exit STATUS WHAT ARGS...: mint ARGS exits with STATUS and says
# one line starting "mint: " on stderr.
expect_exit() {
	_want=$1 _what=$2
	shift 2
	gmint "$@" >"$TMP/out" 2>"$TMP/err"
	_rc=$?
	[ "$_rc" -eq "$_want" ] || fail "$_what: exit $_rc, want $_want ($(cat "$TMP/err"))"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q '^mint: ' "$TMP/err" ||
		fail "$_what: not one 'mint:' line: $(cat "$TMP/err")"
}

no_qemu_of() { ! pgrep -f "mint-$FAB\.ivshmem\.sock" >/dev/null; }
no_qemu_for() { ! pgrep -f "mint\.id=$1 .*mint-$FAB\.ivshmem\.sock" >/dev/null; }

mint up --size 16M >/dev/null || die "mint up failed"

# ---- 1. bad input ----
expect_exit 2 "no --arch" guest start 3
expect_exit 2 "--arch sparc" guest start 3 --arch sparc
expect_exit 2 "--accel xen" guest start 3 --arch x86_64 --accel xen
mkdir -p "$TMP/bin" && ln -s "$(command -v timeout)" "$TMP/bin/timeout"
PATH=$TMP/bin timeout -k 5 60 "$MINT" --fabric "$FAB" guest start 3 --arch x86_64 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q '^mint: .*qemu-system-x86' "$TMP/err" ||
	fail "no QEMU: want exit 1 and one line naming qemu-system-x86: $(cat "$TMP/err")"
expect_exit 1 "no kernel" guest start 3 --arch aarch64 --kernel /nonexistent/kernel
grep -q 'make guest-images' "$TMP/err" || fail "no kernel: the line does not say how to build it"
[ ! -e "$SOCK" ] || fail "bad input started the server"
no_qemu_of || fail "bad input started a QEMU"

# ---- 2. a process node and two guests ----
node_start 0 --vni
t0=$(now_ms)
gmint guest start 1 --arch x86_64 --vni >"$TMP/g1" 2>&1 &
g1=$!
PIDS="$PIDS $g1"
wait_until 10 test -S "$SOCK" || fail "no server socket after the first guest start"
gmint guest start 2 --arch aarch64 >"$TMP/g2" 2>&1 || fail "guest 2: $(cat "$TMP/g2")"
wait "$g1" || fail "guest 1: $(cat "$TMP/g1")"
forget "$g1"
say "$(cat "$TMP/g1" "$TMP/g2") (both within $(($(now_ms) - t0)) ms)"
for id in 1 2; do
	AGENTS="$AGENTS $(node_field "$id" pid)"
	[ "$(node_field "$id" alive)" = true ] || die "guest $id is not up"
	[ "$(node_field "$id" kind)" = guest ] || fail "guest $id: kind $(node_field "$id" kind)"
	[ -n "$(node_field "$id" guest.kernel)" ] || fail "guest $id: no kernel release"
	[ "$(node_field "$id" pid)" = "$(node_field "$id" guest.qemu_pid)" ] ||
		fail "guest $id: its pid is not QEMU's"
	grep -qs qemu-system "/proc/$(node_field "$id" pid)/cmdline" ||
		fail "guest $id: pid $(node_field "$id" pid) is not a QEMU"
done
[ "$(node_field 1 guest.arch)" = x86_64 ] || fail "guest 1 is $(node_field 1 guest.arch)"
[ "$(node_field 2 arch)" = aarch64 ] || fail "guest 2's agent is $(node_field 2 arch)"
[ "$(node_field 0 kind)" = process ] || fail "node 0: kind $(node_field 0 kind)"

# ---- 3. channels and doorbells every way ----
ping_ok() {
	gmint ping "$@" -c 3 >"$TMP/ping" 2>&1 && grep -q '3 received' "$TMP/ping" ||
		fail "ping $*: $(tail -2 "$TMP/ping")"
}
for id in 1 2; do
	ping_ok "$id"
	ping_ok "$id" --from 0
	ping_ok 0 --from "$id"
done
ping_ok 2 --from 1
ping_ok 1 --from 2
# handled ID VECTOR: how often node ID's dispatcher handled VECTOR.
handled() { mint irq -j | jq --arg id "$1" --arg v "$2" '.nodes[] | select(.id == ($id | tonumber)) | .handled[$v] // 0'; }
handled_more() { [ "$(handled "$1" "$2")" -gt "$3" ]; }
for id in 1 2; do
	before=$(handled "$id" 77)
	mint ipi "$id" 77 >/dev/null || fail "ipi $id 77"
	wait_until 10 handled_more "$id" 77 "$before" || fail "vector 77 never handled by guest $id"
done

# The VNI: a TAP in node 0's namespace and one in guest 1's kernel, both
# driven by their agents, one Ethernet segment.
ip netns exec "mint-$FAB-0" ping -c 3 -W 10 10.77.0.2 >"$TMP/vping" 2>&1 ||
	fail "VNI ping node 0 -> guest 1: $(tail -2 "$TMP/vping")"

# ---- 4. exec into each guest ----
for pair in 1:x86_64 2:aarch64; do
	id=${pair%%:*} want=${pair#*:}
	got=$(cd / && gmint exec "$id" -- uname -m 2>"$TMP/err")
	[ "$got" = "$want" ] || fail "exec $id uname -m: '$got' ($(cat "$TMP/err"))"
done
# A command that outlives the server's client checks (the client is a
# host process the guest's /proc cannot see).
got=$(cd / && gmint exec 1 -- sh -c 'sleep 2; echo done' 2>"$TMP/err")
[ "$got" = done ] || fail "exec 1 of a 2 s command: '$got' ($(cat "$TMP/err"))"

# ---- 5. garbage and hanging clients of the server ----
python3 - "$SOCK" >"$TMP/py" 2>&1 <<'EOF' &
import socket, sys, time
s1 = socket.socket(socket.AF_UNIX); s1.connect(sys.argv[1])   # hangs
s2 = socket.socket(socket.AF_UNIX); s2.connect(sys.argv[1])   # speaks
s2.sendall(b"\xff" * 4096)
time.sleep(8)
EOF
py=$!
PIDS="$PIDS $py"
refused_both() { [ "$(grep -c 'refused a client' "$SLOG")" -ge 2 ]; }
wait_until 20 refused_both || fail "the server did not refuse the strangers: $(cat "$TMP/py")"
ping_ok 1 --from 2
ping_ok 2
kill "$py" 2>/dev/null
wait "$py" 2>/dev/null
forget "$py"

# ---- 6. kill -9 of a guest's QEMU, and rejoin ----
e0=$(node_field 0 epoch) p0=$(node_field 0 pid) e1=$(node_field 1 epoch) p1=$(node_field 1 pid)
e2=$(node_field 2 epoch)
# A ping and an exec in flight when the guest dies: both err out, bounded.
(cd / && exec timeout -k 5 60 "$MINT" --fabric "$FAB" ping 2 -c 100000 -i 0.05 -W 2) >"$TMP/inflight.ping" 2>&1 &
iping=$!
(cd / && exec timeout -k 5 60 "$MINT" --fabric "$FAB" exec 2 -- sleep 50) >"$TMP/inflight.exec" 2>&1 &
iexec=$!
PIDS="$PIDS $iping $iexec"
sleep 2
dead_within 2 "$(node_field 2 pid)"
for pair in "$iping:ping" "$iexec:exec"; do
	wait_exit "${pair%%:*}" 15 || fail "${pair#*:} in flight: still running 15 s after the guest died"
	forget "${pair%%:*}"
	[ "$rc" -ne 0 ] || fail "${pair#*:} in flight: exit 0 although the guest died"
	[ "$rc" -ne 124 ] || fail "${pair#*:} in flight: only its timeout ended it"
done
gmint guest start 2 --arch aarch64 >"$TMP/g2" 2>&1 || fail "guest 2 rejoin: $(cat "$TMP/g2")"
AGENTS="$AGENTS $(node_field 2 pid)"
[ "$(node_field 2 epoch)" = $((e2 + 1)) ] || fail "guest 2 rejoined with epoch $(node_field 2 epoch)"
[ "$(node_field 0 pid) $(node_field 0 epoch) $(node_field 1 pid) $(node_field 1 epoch)" = "$p0 $e0 $p1 $e1" ] ||
	fail "the others were restarted by the rejoin"
ping_ok 2 --from 0
ping_ok 1 --from 2

# ---- 6b. a frozen guest is hung, on the host's clock ----
age=$(node_field 1 heartbeat_age_ms)
[ "$age" -lt 1000 ] || fail "guest 1's heartbeat age on the host is $age ms"
state_is() { [ "$(node_field "$1" state)" = "$2" ]; }
frozen=$(node_field 1 pid)
kill -STOP "$frozen"
t0=$(now_ms)
wait_until 5 state_is 1 hung || fail "guest 1 frozen: state $(node_field 1 state) after 5 s"
say "frozen guest 1 seen hung after $(($(now_ms) - t0)) ms (heartbeat age $(node_field 1 heartbeat_age_ms) ms)"
[ "$(node_field 1 heartbeat_age_ms)" -ge 3000 ] ||
	fail "guest 1 hung with a heartbeat age of $(node_field 1 heartbeat_age_ms) ms"
[ "$(node_field 1 alive)" = true ] || fail "a hung guest is not alive (its QEMU runs)"
mint status | grep -Eq "^1 +hung " || fail "mint status does not show guest 1 hung: $(mint status | grep '^1 ')"
state_is 0 up && state_is 2 up || fail "the others: $(node_field 0 state), $(node_field 2 state)"
kill -CONT "$frozen"
frozen=""
wait_until 2 state_is 1 up || fail "guest 1 resumed: state $(node_field 1 state) after 2 s"
ping_ok 1 --from 0

# ---- 7. a guest that never reaches the fabric ----
expect_exit 1 "no join in time" guest start 3 --arch x86_64 --timeout 1
grep -q "node3.log" "$TMP/err" || fail "no join: the error does not name the console log"
[ "$(node_field 3 alive)" != true ] || fail "node 3 is up after its timeout"
wait_until 5 no_qemu_for 3 || fail "guest 3's QEMU still runs"

# ---- 8. down ----
mint down >/dev/null || fail "mint down"
wait_until 5 no_qemu_of || fail "QEMU left after mint down"
ls /dev/shm | grep -q "mint-$FAB" && fail "files left after mint down: $(ls /dev/shm | grep "mint-$FAB")"
t_finish
