#!/bin/sh
# SPDX-License-Identifier: MIT
# t_cli: the mint command's answers to bad input, and its plain outputs.
#
# Every bad input must give its exit status (1 runtime error, 2 usage) and
# one line "mint: ..." on stderr naming the problem:
#  - a fabric that does not exist (status, irq, node start/stop, ipi, ping,
#    down);
#  - a file that is not a fabric (random bytes; empty), a fabric of
#    another layout version (byte 8 patched), a truncated fabric: an error
#    for every command (but `down` of the truncated one, t_truncate), and
#    the file byte-identical afterwards;
#  - `mint up` on an existing fabric (left untouched) and bad sizes;
#  - node ids out of range (64, -1, abc), a node already running, cores
#    that do not exist and malformed core lists (both usage errors), a bad vector (256), stopping
#    a node that is not running, unknown commands and options.
# And: --help of mint and of every subcommand exits 0 with its usage on
# stdout; a node's agent holds none of the descriptors its starter had
# open (but 0-2: /dev/null and its log); `status -j`, `irq -j` and `ping -j` print valid JSON;
# `irq -j` labels every vector as the text does; a fabric name and a node
# name forged in the file (ESC, BEL, backslash, DEL, 0xe9) reach `status`
# escaped (\xHH) and `status -j` as valid JSON (\u00HH); two nodes
# on cores 0 and 1 are both up on those cores, a third on core 0 is
# started with a warning about sharing core 0; $MINT_FABRIC selects the
# fabric and --fabric overrides it; `mint down` stops the nodes and
# removes the fabric and the logs.
#
# JSON is checked with jq (mk/deps.sh installs it), and also with
# `python3 -m json.tool` when python3 is there.  Exit 0 pass, 1 fail.
set -u

. tests/lib.sh
FAB=t-$$-cli
NOFAB=t-$$-none            # never created
SHM=/dev/shm/t-$$-cli      # prefix of the path-form files of this run
cleanup_more() {
	for _f in "$SHM"-version "$SHM"-trunc; do # their run directories too
		timeout -k 5 30 "$MINT" --fabric "$_f" down >/dev/null 2>&1
	done
	rm -f "$SHM"-*
}
t_begin

need jq
need_built "$MINT" tools

# run ARGS...: mint ARGS, bounded, with MINT_FABRIC=$ENVFAB if that is set;
# exit status in $rc, output in $TMP/out and $TMP/err.
unset MINT_FABRIC
ENVFAB=""
run() {
	if [ -n "$ENVFAB" ]; then
		MINT_FABRIC=$ENVFAB timeout -k 5 60 "$MINT" "$@" >"$TMP/out" 2>"$TMP/err"
	else
		timeout -k 5 60 "$MINT" "$@" >"$TMP/out" 2>"$TMP/err"
	fi
	rc=$?
}

show_err() { sed 's/^/    stderr: /' "$TMP/err"; }

# expect WANT PHRASE ARGS...: exit status WANT ("1|2" allows either) and
# exactly one stderr line "mint: ..." containing PHRASE (any case).
expect() {
	want=$1 phrase=$2
	shift 2
	run "$@"
	case "|$want|" in
	*"|$rc|"*) ;;
	*) fail "mint $*: exit $rc, expected $want"; show_err; return ;;
	esac
	lines=$(wc -l <"$TMP/err")
	if [ "$lines" -ne 1 ] || ! grep -q '^mint: ' "$TMP/err"; then
		fail "mint $*: expected one line 'mint: ...' on stderr, got $lines"
		show_err
	elif ! grep -qiF -- "$phrase" "$TMP/err"; then
		fail "mint $*: stderr lacks '$phrase'"
		show_err
	fi
}

# expect_usage ARGS...: exit 2 with the usage on stderr (a bad option).
expect_usage() {
	run "$@"
	[ "$rc" -eq 2 ] || fail "mint $*: exit $rc, expected 2"
	grep -q '^usage: mint' "$TMP/err" || { fail "mint $*: no usage on stderr"; show_err; }
}

json_ok() { # FILE: valid JSON by jq, and by python3 when present
	jq -e . "$1" >/dev/null 2>&1 || return 1
	if command -v python3 >/dev/null 2>&1; then
		python3 -m json.tool "$1" >/dev/null 2>&1 || return 1
	fi
	return 0
}

# ---- --help ----
for cmd in "" up down node "node start" "node stop" status irq ipi ping vni dev exec inject; do
	ENVFAB=$NOFAB
	# shellcheck disable=SC2086 # CMD is words
	run $cmd --help
	ENVFAB=""
	[ "$rc" -eq 0 ] || fail "mint $cmd --help: exit $rc"
	head -n 1 "$TMP/out" | grep -q "^usage: mint $cmd" || fail "mint $cmd --help: no usage on stdout"
	[ -s "$TMP/err" ] && { fail "mint $cmd --help: wrote to stderr"; show_err; }
done
run -h
[ "$rc" -eq 0 ] && grep -q '^usage: mint' "$TMP/out" || fail "mint -h: exit $rc"
run --version
[ "$rc" -eq 0 ] && grep -q '^mint [0-9]' "$TMP/out" || fail "mint --version: exit $rc"
run
[ "$rc" -eq 2 ] && grep -q '^usage: mint' "$TMP/err" || fail "mint (no command): exit $rc, expected 2 and usage"

# ---- unknown commands and options ----
expect 2 "frob: unknown command" --fabric "$FAB" frob
expect 2 "unknown command" --fabric "$FAB" node frob
expect_usage --bogus-option status
expect_usage --fabric "$FAB" status --bogus-option
expect_usage --fabric "$FAB" status extra-argument
expect_usage --fabric "$FAB" node
expect_usage --fabric "$FAB" ipi 0
expect_usage --fabric "$FAB" ping

# ---- a fabric that does not exist ----
for args in "status" "status -j" "irq" "node start 0 --no-netns" "node stop 0" "ipi 0 1" \
	"ping 0" "ping 0 --from 1"; do
	# shellcheck disable=SC2086
	expect 1 "fabric $NOFAB: does not exist" --fabric "$NOFAB" $args
done
# down is idempotent: nothing there is nothing to remove.
run --fabric "$NOFAB" down
[ "$rc" -eq 0 ] && grep -q "nothing to remove" "$TMP/out" ||
	fail "down of a fabric that does not exist: exit $rc, $(cat "$TMP/out" "$TMP/err")"
[ -e "/dev/shm/mint-$NOFAB" ] && fail "a command created fabric $NOFAB"
ls /dev/shm/mint-"$NOFAB".* >/dev/null 2>&1 && fail "a command left files /dev/shm/mint-$NOFAB.*"

# ---- files that are no usable fabric: clear errors, file untouched ----
# check_file FILE PHRASE: every command fails on FILE, which stays as it was.
# (`node stop` and `down` trust nothing in a fabric and work on a corrupt
# or truncated one, t_down and t_truncate; they leave alone only a file
# that is no fabric at all.)
check_file() {
	cp "$1" "$TMP/copy" || { fail "cannot copy $1"; return; }
	for args in "status" "status -j" "irq" "node start 0 --no-netns" "ipi 0 1" "ping 0"; do
		# shellcheck disable=SC2086
		expect 1 "$2" --fabric "$1" $args
	done
	if [ "$2" = "not a mint fabric" ]; then
		expect 1 "$2" --fabric "$1" node stop 0
		expect 1 "$2" --fabric "$1" down
	fi
	expect 1 "already exists" --fabric "$1" up --size 10M
	cmp -s "$1" "$TMP/copy" || fail "$1 changed ($2)"
	ls "$1".node* >/dev/null 2>&1 && fail "a command left $1.node* behind"
}

head -c 1048576 /dev/urandom >"$SHM-garbage"
check_file "$SHM-garbage" "not a mint fabric"
: >"$SHM-empty"
check_file "$SHM-empty" "not a mint fabric"

run --fabric "$SHM-version" up --size 10M
[ "$rc" -eq 0 ] || fail "mint up of $SHM-version: exit $rc"
printf '\002\000\000\000' | dd of="$SHM-version" bs=1 seek=8 count=4 conv=notrunc 2>/dev/null
check_file "$SHM-version" "version not supported"
printf '\377\377\377\377' | dd of="$SHM-version" bs=1 seek=8 count=4 conv=notrunc 2>/dev/null
check_file "$SHM-version" "version not supported"

run --fabric "$SHM-trunc" up --size 10M
[ "$rc" -eq 0 ] || fail "mint up of $SHM-trunc: exit $rc"
truncate -s 8192 "$SHM-trunc"
check_file "$SHM-trunc" "truncated"
truncate -s 100 "$SHM-trunc"
check_file "$SHM-trunc" "truncated"

# ---- mint up: bad sizes, existing fabric ----
for size in abc 0 12Q 1M2 -5 ""; do
	expect 2 "not a size" --fabric "$FAB" up --size "$size"
done
# Parses, but below the minimum: a usage error naming the least size,
# which is then accepted.
expect 2 "too small" --fabric "$FAB" up --size 100K
least=$(sed -n 's/.*mint up --size \([0-9]*\)K).*/\1/p' "$TMP/err")
[ -n "$least" ] || fail "the too-small error names no size: $(cat "$TMP/err")"
if [ -n "$least" ]; then
	expect 2 "too small" --fabric "$FAB" up --size "$((least - 1))K"
	run --fabric "$FAB" up --size "${least}K"
	[ "$rc" -eq 0 ] || fail "mint up --size ${least}K (the least size named): exit $rc"
	run --fabric "$FAB" down
fi
[ -e "/dev/shm/mint-$FAB" ] && fail "a failed 'mint up' left /dev/shm/mint-$FAB"
run --fabric "$FAB" up --size 10M
[ "$rc" -eq 0 ] || { fail "mint up: exit $rc"; show_err; }
grep -q "^fabric $FAB up" "$TMP/out" || fail "mint up printed: $(cat "$TMP/out")"
[ "$(stat -c %s "/dev/shm/mint-$FAB")" = 10485760 ] || fail "fabric is not 10 MiB"
cp "/dev/shm/mint-$FAB" "$TMP/fab"
expect 1 "already exists" --fabric "$FAB" up
expect 1 "already exists" --fabric "$FAB" up --size 16M
cmp -s "/dev/shm/mint-$FAB" "$TMP/fab" || fail "'mint up' on an existing fabric changed it"

# ---- bad node ids, cores, vectors ----
for id in 64 abc 1x 99999999999; do
	expect 2 "node $id: no such node" --fabric "$FAB" node start "$id" --no-netns
	expect 2 "node $id: no such node" --fabric "$FAB" node stop "$id"
	expect 2 "node $id: no such node" --fabric "$FAB" ipi "$id" 1
	expect 2 "node $id: no such node" --fabric "$FAB" ping "$id"
done
expect 2 "node -1: no such node" --fabric "$FAB" node start --no-netns -- -1
expect 2 "node -1: no such node" --fabric "$FAB" node stop -- -1
expect 2 "no such node" --fabric "$FAB" ping 0 --from 64
expect_usage --fabric "$FAB" node start -1 --no-netns   # -1 reads as an option
expect 2 "core 99: no such core" --fabric "$FAB" node start 0 --no-netns --cores 99
expect 2 "no such core" --fabric "$FAB" node start 0 --no-netns --cores 0-99
for cores in "" a 1- -1 3-1 0,,1 "0;1" ",1" "0 1" 1-2-3 256 0x1; do
	expect 2 "cores $cores: not a core list" --fabric "$FAB" node start 0 --no-netns --cores "$cores"
done
expect 2 "mode turbo: unknown" --fabric "$FAB" node start 0 --no-netns --mode turbo
expect 2 "name" --fabric "$FAB" node start 0 --no-netns --name 'bad name!'
[ "$(node_field 0 state)" = "" ] || fail "a rejected 'node start 0' started node 0"
expect 2 "vector 256: not a vector" --fabric "$FAB" ipi 0 256
expect 2 "vector abc: not a vector" --fabric "$FAB" ipi 0 abc
expect 2 "count 0" --fabric "$FAB" ipi 0 1 --count 0
expect 1 "node 0: not running" --fabric "$FAB" ipi 0 1
expect 1 "node 0: not running" --fabric "$FAB" ping 0
expect 1 "node 5: not running" --fabric "$FAB" node stop 5

# ---- JSON on an empty fabric ----
for args in "status -j" "irq -j" "-j status"; do
	# shellcheck disable=SC2086
	run --fabric "$FAB" $args
	[ "$rc" -eq 0 ] || fail "mint $args: exit $rc"
	json_ok "$TMP/out" || fail "mint $args: not JSON: $(cat "$TMP/out")"
done
jq -e ".fabric.name == \"$FAB\" and (.nodes | length) == 0 and .fabric.size == 10485760" \
	"$TMP/out" >/dev/null || fail "status -j of the empty fabric: $(cat "$TMP/out")"

# ---- names from the file reach the terminal escaped ----
# raw_free FILE: FILE has no control byte (but newlines) and no byte >= 0x80.
raw_free() { ! LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177-\377]')" "$1"; }
# forge_name WHAT OFF: the 8 bytes at OFF become "A ESC [ 2 BEL \ DEL 0xe9";
# `mint status` shows them as A\x1b[2\x07\\\x7f\xe9 (text), valid JSON with -j.
forge_name() {
	_saved=$("$SCRIBBLE" "$FILE" get "$2" 8) &&
		"$SCRIBBLE" "$FILE" put "$2" 8 0xe97f5c07325b1b41 || { fail "$1: cannot write the name"; return; }
	run --fabric "$FAB" status
	[ "$rc" -eq 0 ] || { fail "status with a forged $1: exit $rc"; show_err; }
	grep -qF 'A\x1b[2\x07\\\x7f\xe9' "$TMP/out" && raw_free "$TMP/out" ||
		fail "status prints a forged $1 raw: $(od -c "$TMP/out" | head -20)"
	run --fabric "$FAB" status -j
	json_ok "$TMP/out" || fail "status -j with a forged $1: not JSON: $(cat "$TMP/out")"
	raw_free "$TMP/out" && grep -qF 'A\u001b[2\u0007\\\u007f\u00e9' "$TMP/out" ||
		fail "status -j prints a forged $1 raw: $(cat "$TMP/out")"
	"$SCRIBBLE" "$FILE" put "$2" 8 "$_saved" || fail "$1: cannot restore the name"
}
SCRIBBLE=$BUILD/tests/helper_scribble FILE=/dev/shm/mint-$FAB
need_built "$SCRIBBLE" tests
forge_name "fabric name" 80

# ---- a full directory ----
# fill_directory: every free directory slot becomes a LIVE 64-byte channel
# entry ("f" and two letters) at the top of the heap whose creator cannot
# be judged (pid 0, as a guest's): an owner that might be alive.
fill_directory() {
	_i=0 _w=""
	# The state word of each of the 256 entries (128 bytes apart).
	for _state in $(od -A n -t u4 -w128 -v -j $((0x41000)) -N 32768 "$FILE" | awk '{ print $1 }'); do
		_e=$((0x41000 + _i * 128))
		[ "$_state" = 0 ] && _w="$_w $((_e + 4)) 4 3 $((_e + 8)) 8 $((9437184 - (_i + 1) * 64))
			$((_e + 16)) 8 64 $((_e + 104)) 8 0 $((_e + 112)) 8 0
			$((_e + 32)) 8 $((0x66 | (0x61 + _i / 16) << 8 | (0x61 + _i % 16) << 16)) $_e 4 1"
		_i=$((_i + 1))
	done
	# shellcheck disable=SC2086 # triples OFF SIZE VALUE
	[ -z "$_w" ] || "$SCRIBBLE" "$FILE" put $_w || fail "cannot fill the directory"
}
# echo_channels: how many of the echo.PID channels of $CLIENTS are listed.
echo_channels() {
	mint status -j | jq --arg p "$CLIENTS" '[.objects[].name] as $n |
		[$p | split(" ")[] | select(. != "") | "echo." + . | select(IN($n[]))] | length'
}
three_listed() { [ "$(echo_channels)" = 3 ]; }
# full_directory: three `mint ping` clients killed with -9 leave their
# channels; with the directory full, a new ping reclaims them (and nothing
# else); full of live or unjudgeable owners only, ping says so, exit 1.
full_directory() {
	CLIENTS=""
	for _k in 1 2 3; do
		"$MINT" --fabric "$FAB" ping 0 -c 100000 -i 0.2 >/dev/null 2>&1 &
		CLIENTS="$CLIENTS $!"
		PIDS="$PIDS $!"
	done
	wait_until 10 three_listed || fail "the 3 ping clients' channels are not listed"
	for _p in $CLIENTS; do
		kill -9 "$_p"
		wait "$_p" 2>/dev/null
		forget "$_p"
	done
	three_listed || fail "killed ping clients' channels are gone before any reclaim"
	fill_directory
	run --fabric "$FAB" status
	grep -q "directory: 256 of 256 entries (full)" "$TMP/out" || fail "not full: $(cat "$TMP/out")"
	run --fabric "$FAB" ping 0 -c 1
	[ "$rc" -eq 0 ] || { fail "ping on a directory full of dead clients' channels: exit $rc"; show_err; }
	[ "$(echo_channels)" = 0 ] || fail "the killed clients' channels were not reclaimed"
	mint status -j | jq -e '.fabric.reclaimed == 3 and .fabric.entries == 253' >/dev/null ||
		fail "after the reclaim: $(mint status -j | jq -c .fabric)"
	run --fabric "$FAB" status
	grep -q "253 of 256 entries, 3 of dead processes reclaimed" "$TMP/out" ||
		fail "status text after the reclaim: $(sed -n 2p "$TMP/out")"
	fill_directory
	expect 1 "fabric $FAB: directory full (256 entries, none of a dead process)" \
		--fabric "$FAB" ping 0 -c 1
	mint status -j | jq -e '.fabric.reclaimed == 3 and .fabric.entries == 256' >/dev/null ||
		fail "a live owner's entry was reclaimed: $(mint status -j | jq -c .fabric)"
}

# ---- nodes: two on cores 0 and 1, a third sharing core 0 ----
ncores=$(nproc)
if [ "$ncores" -ge 2 ]; then
	run --fabric "$FAB" node start 0 --no-netns --cores 0 7>"$TMP/held"
	[ "$rc" -eq 0 ] || { fail "node start 0: exit $rc"; show_err; }
	# The agent holds none of its starter's descriptors (7 here), and its
	# standard input is /dev/null.
	pid0=$(node_field 0 pid)
	ls -l "/proc/$pid0/fd" | grep -qF "$TMP/held" &&
		fail "node 0's agent holds its starter's descriptor 7: $(ls -l "/proc/$pid0/fd")"
	[ "$(readlink "/proc/$pid0/fd/0")" = /dev/null ] ||
		fail "node 0's agent's standard input: $(readlink "/proc/$pid0/fd/0")"
	run --fabric "$FAB" node start 1 --no-netns --cores 1
	[ "$rc" -eq 0 ] || { fail "node start 1: exit $rc"; show_err; }
	[ -s "$TMP/err" ] && { fail "node start 1 on its own core warned"; show_err; }
	AGENTS="$(node_field 0 pid) $(node_field 1 pid)"
	run --fabric "$FAB" status -j
	json_ok "$TMP/out" || fail "status -j with nodes: not JSON: $(cat "$TMP/out")"
	for id in 0 1; do
		jq -e --argjson id $id '.nodes[] | select(.id == $id) |
			.state == "up" and .alive == true and .cores == ($id | tostring) and
			.epoch == 1 and .pid > 0 and .netns == null' "$TMP/out" >/dev/null ||
			fail "node $id is not up on core $id: $(jq -c ".nodes" "$TMP/out")"
	done
	# The same id again.
	pid1=$(node_field 1 pid)
	expect 1 "node 1: already running (pid $pid1)" --fabric "$FAB" node start 1 --no-netns --cores 1
	[ "$(node_field 1 pid)" = "$pid1" ] || fail "node 1 changed after a second start"
	# A third node on core 0.
	run --fabric "$FAB" node start 2 --no-netns --cores 0
	[ "$rc" -eq 0 ] || { fail "node start 2: exit $rc"; show_err; }
	grep -q '^mint: warning: .*shares core 0 with node 0' "$TMP/err" ||
		{ fail "no warning about node 2 sharing core 0"; show_err; }
	grep -q 'node 1' "$TMP/err" && fail "node 2 on core 0 warned about node 1"
	AGENTS="$AGENTS $(node_field 2 pid)"
	[ "$(node_field 2 state)" = up ] && [ "$(node_field 2 cores)" = 0 ] ||
		fail "node 2 not up on core 0"
	# The text status lists them.
	run --fabric "$FAB" status
	[ "$(grep -cE '^[0-2] +up ' "$TMP/out")" = 3 ] || fail "text status: $(cat "$TMP/out")"
	# irq -j and ping -j with nodes.
	run --fabric "$FAB" ipi 1 40 --count 3
	[ "$rc" -eq 0 ] || { fail "ipi 1 40: exit $rc"; show_err; }
	run --fabric "$FAB" irq -j
	json_ok "$TMP/out" || fail "irq -j with nodes: not JSON: $(cat "$TMP/out")"
	jq -e '[.nodes[].id] == [0,1,2] and .external_ipis >= 3' "$TMP/out" >/dev/null ||
		fail "irq -j: $(cat "$TMP/out")"
	# Every vector handled has the label the text gives its row.
	jq -r '.vectors | to_entries[] | "\(.key) \(.value)"' "$TMP/out" | sort >"$TMP/labels.json"
	jq -e '(.vectors | keys) == ([.nodes[].handled | keys[]] | unique) and .vectors["40"] == "user"' \
		"$TMP/out" >/dev/null || fail "irq -j does not label every vector: $(cat "$TMP/out")"
	run --fabric "$FAB" irq
	sed -n 's/^ *\([0-9][0-9]*\):.* \([a-z]*\)$/\1 \2/p' "$TMP/out" | sort >"$TMP/labels.text"
	cmp -s "$TMP/labels.json" "$TMP/labels.text" ||
		fail "irq -j labels differ from the text's: $(diff "$TMP/labels.text" "$TMP/labels.json")"
	# A node's name (node 0's entry + 64) forged by a peer.
	forge_name "node name" $((4096 + 64))
	run --fabric "$FAB" ping 1 -c 2 -i 0.05 -j
	[ "$rc" -eq 0 ] || { fail "ping 1 -j: exit $rc"; show_err; }
	json_ok "$TMP/out" && jq -e '.sent == 2 and .received == 2' "$TMP/out" >/dev/null ||
		fail "ping -j: $(cat "$TMP/out")"
	run --fabric "$FAB" ping 0 --from 1 -c 2 -i 0.05 -j
	[ "$rc" -eq 0 ] || { fail "ping 0 --from 1 -j: exit $rc"; show_err; }
	json_ok "$TMP/out" && jq -e '.from == 1 and .to == 0 and .received == 2' "$TMP/out" >/dev/null ||
		fail "ping --from -j: $(cat "$TMP/out")"
	# Stopping: then it is not running any more.
	run --fabric "$FAB" node stop 2
	[ "$rc" -eq 0 ] || { fail "node stop 2: exit $rc"; show_err; }
	expect 1 "node 2: not running" --fabric "$FAB" node stop 2
	expect 1 "node 2: not running" --fabric "$FAB" ipi 2 1
	full_directory
else
	echo "note: one core only: the two-node part is left out"
fi

# ---- $MINT_FABRIC ----
ENVFAB=$FAB; run status -j
[ "$rc" -eq 0 ] && jq -e ".fabric.name == \"$FAB\"" "$TMP/out" >/dev/null ||
	fail "MINT_FABRIC=$FAB mint status -j: exit $rc, $(cat "$TMP/out")"
ENVFAB=$NOFAB; expect 1 "fabric $NOFAB: does not exist" status
run --fabric "$FAB" status -j
[ "$rc" -eq 0 ] && jq -e ".fabric.name == \"$FAB\"" "$TMP/out" >/dev/null ||
	fail "--fabric does not override MINT_FABRIC"
ENVFAB=$SHM-garbage; expect 1 "not a mint fabric" status
ENVFAB=""

# ---- down ----
run --fabric "$FAB" down
[ "$rc" -eq 0 ] || { fail "mint down: exit $rc"; show_err; }
[ -e "/dev/shm/mint-$FAB" ] && fail "mint down left the fabric file"
ls /dev/shm/mint-"$FAB".* >/dev/null 2>&1 && fail "mint down left $(ls /dev/shm/mint-"$FAB".*)"
for p in $AGENTS; do
	is_agent "$p" && fail "agent $p still runs after mint down"
done
run --fabric "$FAB" down
[ "$rc" -eq 0 ] && grep -q "nothing to remove" "$TMP/out" ||
	fail "a second mint down: exit $rc, $(cat "$TMP/out" "$TMP/err")"

t_finish
