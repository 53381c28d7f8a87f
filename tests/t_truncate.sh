#!/bin/sh
# SPDX-License-Identifier: MIT
# t_truncate: a fabric file cut short under running nodes (any process that
# may write it can truncate it, and every access past the new end faults).
#
# 1. Nodes 1 (sleep mode) and 2 (poll mode) run; the file is truncated to
#    8 KiB.  Both agents stop within 5 s, each logging that the fabric file
#    was truncated by another process (the heartbeat's size check, or the
#    SIGBUS guard of a thread that touched the cut part first), none killed
#    by the signal itself.
# 2. `mint status` refuses the fabric with one line ("fabric file is
#    truncated", exit 1); `mint down` removes the file and the nodes' logs
#    and says the file had been truncated (exit 0).
# 3. A file that is no fabric is never removed by `mint down`: one error
#    line, exit 1, the file intact.
#
# Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
FAB=t-$$-trunc
t_begin

need_built "$MINT" tools
mint up --size 16M >/dev/null || die "mint up failed"
node_start 1 --no-netns --mode sleep
pid1=$pid
node_start 2 --no-netns --mode poll
pid2=$pid

# ---- 1. cut the file short under them
truncate -s 8192 "/dev/shm/mint-$FAB" || die "truncate failed"
both_gone() { ! running "$pid1" && ! running "$pid2"; }
wait_until 5 both_gone || fail "agents still running 5 s after the truncation"
for id in 1 2; do
	log=/dev/shm/mint-$FAB.d/node$id.log
	grep -q "node $id: .*fabric file was truncated.* by another process" "$log" ||
		fail "node $id did not say why it stopped: $(tail -n 2 "$log")"
done

# ---- 2. status refuses it, down removes it
mint status >"$TMP/out" 2>"$TMP/err" && fail "status of a truncated fabric succeeded"
[ "$(cat "$TMP/err")" = "mint: fabric $FAB: fabric file is truncated" ] ||
	fail "status said: $(cat "$TMP/err")"
mint down >"$TMP/out" 2>&1 || fail "down of a truncated fabric failed: $(cat "$TMP/out")"
grep -q "truncated" "$TMP/out" || fail "down did not say the file was truncated: $(cat "$TMP/out")"
[ ! -e "/dev/shm/mint-$FAB" ] || fail "the truncated fabric file is still there"
ls /dev/shm/mint-$FAB.d/node*.log >/dev/null 2>&1 && fail "node logs left behind"

# ---- 3. never remove what is not a fabric
echo "not a fabric" >"$TMP/other"
timeout -k 5 30 "$MINT" --fabric "$TMP/other" down >"$TMP/out" 2>&1 &&
	fail "down of a file that is no fabric succeeded"
[ "$(cat "$TMP/other")" = "not a fabric" ] || fail "down touched a file that is no fabric"
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "down of a non-fabric said: $(cat "$TMP/out")"

t_finish
