#!/bin/sh
# Cross-architecture: nodes built for aarch64, s390x (big-endian) and i386
# share one fabric with an x86_64 node and exchange messages (echo and
# agent-to-agent pings) and doorbells with it, in both directions; every
# build reads the same node table (pids, epochs, arch, counters); `mint
# exec` works between clients and exec servers of different builds.
#
# Runs from the repository root.  The foreign builds are build/aarch64/mint,
# build/s390x/mint and build/i686/mint (`make cross`, run here when one is
# missing; override with MINT_AARCH64, MINT_S390X, MINT_I386); the first two
# run under qemu-user-static, i386 natively when the kernel can, else under
# qemu-i386-static.  Needs jq or python3 to read the JSON.
# Exit status: 0 pass, 1 fail, 77 skip ("skip: reason").
set -u

. tests/lib.sh
A64=${MINT_AARCH64:-build/aarch64/mint}
S390=${MINT_S390X:-build/s390x/mint}
I386=${MINT_I386:-build/i686/mint}
FAB=xarch-$$
T=20 # seconds allowed to any one command
t_begin # $TMP; at exit the fabric goes down, and AGENTS (the agent pids, from "node N up: pid P") are killed

# --- prerequisites -----------------------------------------------------
[ -x "$MINT" ] || skip "$MINT not built"
for q in qemu-aarch64-static qemu-s390x-static; do
	command -v $q >/dev/null 2>&1 || skip "$q not installed (apt-get install qemu-user-static)"
done
if command -v jq >/dev/null 2>&1; then JSON=jq
elif command -v python3 >/dev/null 2>&1; then JSON=python3
else skip "neither jq nor python3 installed"
fi
if [ ! -x "$A64" ] || [ ! -x "$S390" ] || [ ! -x "$I386" ]; then
	say "== cross builds missing: make cross"
	for cc in aarch64-linux-gnu-gcc s390x-linux-gnu-gcc i686-linux-gnu-gcc; do
		command -v $cc >/dev/null 2>&1 || skip "$cc not installed (gcc-aarch64-linux-gnu gcc-s390x-linux-gnu gcc-i686-linux-gnu)"
	done
	timeout 300 make -s cross >"$TMP/make.log" 2>&1 || { tail -20 "$TMP/make.log"; die "make cross"; }
fi

# How to run each node's build: mint_cmd ID prints the command prefix.
X86="$MINT"
ARM="qemu-aarch64-static $A64"
BE="qemu-s390x-static $S390"
if "$I386" --version >/dev/null 2>&1; then X32="$I386"
elif command -v qemu-i386-static >/dev/null 2>&1; then X32="qemu-i386-static $I386"
else skip "$I386 does not run here and qemu-i386-static is not installed"
fi
mint_cmd() { case $1 in 0) echo "$X86" ;; 1) echo "$ARM" ;; 2) echo "$BE" ;; 3) echo "$X32" ;; esac; }
arch_of() { case $1 in 0) echo x86_64 ;; 1) echo aarch64 ;; 2) echo s390x ;; 3) echo i386 ;; esac; }
FOREIGN="1 2 3"

# m ID ARGS...: the mint command of node ID's build, bounded in time.
m() {
	_m_cmd=$(mint_cmd "$1"); shift
	# shellcheck disable=SC2086 # the prefix is words on purpose
	timeout -k 2 "$T" $_m_cmd --fabric "$FAB" "$@"
}
# gone PID: the process ends within 3 s (a node leaves the table just before it exits)
gone() {
	for _g in $(seq 30); do running "$1" || return 0; sleep 0.1; done
	return 1
}

# --- JSON readers (jq, else python3) ------------------------------------
# nodes FILE: one line per node: id state alive pid epoch arch cores mode name netns
nodes() {
	if [ $JSON = jq ]; then
		jq -r '.nodes[] | [.id, .state, .alive, .pid, .epoch, .arch, .cores, .mode, .name,
			(.netns // "-")] | map(tostring) | join(" ")' "$1"
	else
		python3 -c 'import json, sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    v = [n["id"], n["state"], n["alive"], n["pid"], n["epoch"], n["arch"], n["cores"],
         n["mode"], n["name"], n["netns"] or "-"]
    print(" ".join(str(x).lower() if isinstance(x, bool) else str(x) for x in v))' "$1"
	fi
}
# summary FILE: status -j without the heartbeat ages (what every reader must agree on)
summary() {
	if [ $JSON = jq ]; then
		jq -r '(.fabric | [.name, .file, .size, .version, .max_nodes, .vectors] | map(tostring) | join(" ")),
			(.objects[] | [.name, .type, .offset, .size] | map(tostring) | join(" "))' "$1"
	else
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); f = d["fabric"]
print(" ".join(str(f[k]) for k in ("name", "file", "size", "version", "max_nodes", "vectors")))
for o in d["objects"]: print(" ".join(str(o[k]) for k in ("name", "type", "offset", "size")))' "$1"
	fi && nodes "$1"
}
# ages FILE: "id heartbeat_age_ms", one node a line
ages() {
	if [ $JSON = jq ]; then jq -r '.nodes[] | "\(.id) \(.heartbeat_age_ms)"' "$1"
	else python3 -c 'import json, sys
for n in json.load(open(sys.argv[1]))["nodes"]: print(n["id"], n["heartbeat_age_ms"])' "$1"
	fi
}
# handled FILE NODE VECTOR: how many times NODE handled VECTOR (irq -j)
handled() {
	if [ $JSON = jq ]; then
		jq -r --argjson n "$2" --arg v "$3" '[.nodes[] | select(.id == $n) | .handled[$v] // 0] | add // 0' "$1"
	else
		python3 -c 'import json, sys
print(sum(n["handled"].get(sys.argv[3], 0) for n in json.load(open(sys.argv[1]))["nodes"]
          if n["id"] == int(sys.argv[2])))' "$1" "$2" "$3"
	fi
}
# external FILE: doorbells raised by tools (irq -j)
external() {
	if [ $JSON = jq ]; then jq -r '.external_ipis' "$1"
	else python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["external_ipis"])' "$1"
	fi
}

# --- the fabric and its nodes --------------------------------------------
for id in 0 $FOREIGN; do
	v=$(m "$id" --version 2>&1)
	case $v in *"$(arch_of "$id")"*) ;; *) die "$(mint_cmd "$id") --version: $v" ;; esac
done
say "== fabric $FAB; node builds: 0 $X86 | 1 $ARM | 2 $BE | 3 $X32"
m 0 up --size 16M || die "mint up"
for id in 0 $FOREIGN; do
	# Default cores (id modulo the cores there are); sharing warnings are expected on small machines.
	if ! m "$id" node start "$id" --no-netns >"$TMP/start" 2>"$TMP/start.err"; then
		cat "$TMP/start" "$TMP/start.err" "/dev/shm/mint-$FAB.d/node$id.log" 2>/dev/null
		die "node $id ($(arch_of "$id")) did not start"
	fi
	cat "$TMP/start"
	p=$(sed -n "s/^node $id up: pid \([0-9]*\).*/\1/p" "$TMP/start")
	[ -n "$p" ] || die "node $id: no pid in its start line"
	AGENTS="$AGENTS $p"
	eval "PID$id=$p"
done

say "== status -j (x86_64): every node alive, right arch, the pid its start printed"
m 0 status -j >"$TMP/st.x86" || fail "status -j"
nodes "$TMP/st.x86" >"$TMP/nodes.x86" || fail "status -j: not JSON"
for id in 0 $FOREIGN; do
	eval "p=\$PID$id"
	line=$(awk -v id="$id" '$1 == id' "$TMP/nodes.x86")
	set -- $line
	if [ "$#" -lt 8 ] || [ "$2 $3 $4 $5 $6" != "up true $p 1 $(arch_of "$id")" ]; then
		fail "node $id: status says '$line', want state up, alive, pid $p, epoch 1, arch $(arch_of "$id")"
	fi
	running "$p" || fail "node $id: pid $p is not running"
done
[ "$(wc -l <"$TMP/nodes.x86")" -eq 4 ] || fail "status lists $(wc -l <"$TMP/nodes.x86") nodes, want 4"

say "== heartbeats: every node's age is read in the right byte order (never stuck at 0, under 3 s)"
: >"$TMP/ages"
for i in 1 2 3 4 5; do
	m 0 status -j >"$TMP/st.hb" && ages "$TMP/st.hb" >>"$TMP/ages"
	sleep 0.05
done
awk '{ seen[$1] = 1; if ($2 > 0) nz[$1] = 1; if ($2 >= 3000) bad = bad " node " $1 ": " $2 " ms;" }
     END { for (n = 0; n <= 3; n++) if (!seen[n] || !nz[n]) bad = bad " node " n ": always 0 ms;"
           if (bad) { print bad; exit 1 } }' "$TMP/ages" >"$TMP/ages.bad" ||
	fail "heartbeat ages:$(cat "$TMP/ages.bad")"

say "== status -j from each foreign build agrees with x86_64 (pids, epochs, arch, cores, objects)"
summary "$TMP/st.x86" >"$TMP/sum.x86"
for id in $FOREIGN; do
	m "$id" status -j >"$TMP/st.$id" || { fail "$(arch_of "$id") status -j"; continue; }
	summary "$TMP/st.$id" >"$TMP/sum.$id" 2>&1 || { fail "$(arch_of "$id") status -j: not JSON"; continue; }
	diff "$TMP/sum.x86" "$TMP/sum.$id" >"$TMP/diff" ||
		{ fail "$(arch_of "$id") status -j disagrees with x86_64:"; cat "$TMP/diff"; }
done

# ping_ok WHAT ID ARGS...: node ID's build runs mint ARGS, a ping that must
# lose nothing.  After 3 failed pings the rest are not run: each can take
# $T seconds, and the runner's limit is near.
ping_failures=0
ping_ok() {
	what=$1; shift
	if [ $ping_failures -ge 3 ]; then
		fail "$what: not run (3 pings failed already)"
	elif m "$@" -W 5 >"$TMP/ping" 2>&1; then
		say "ok   $what: $(tail -1 "$TMP/ping" | sed 's/^--- //')"
	else
		ping_failures=$((ping_failures + 1))
		fail "$what:"; tail -5 "$TMP/ping"
	fi
}

say "== messages: echo service and agent-to-agent pings, both ways (20 each, 0% loss)"
for id in $FOREIGN; do
	a=$(arch_of "$id")
	ping_ok "x86_64 client -> $a node $id echo" 0 ping "$id" -c 20 -i 0.01
	ping_ok "x86_64 client -> $a node $id echo, 60000 B (ring wraps)" 0 ping "$id" -c 20 -i 0 -s 60000
	ping_ok "$a client -> x86_64 node 0 echo" "$id" ping 0 -c 20 -i 0.01
	ping_ok "$a node $id agent -> x86_64 node 0" 0 ping 0 --from "$id" -c 20 -i 0.01
	ping_ok "x86_64 node 0 agent -> $a node $id" 0 ping "$id" --from 0 -c 20 -i 0.01
done
ping_ok "s390x client: aarch64 node 1 agent -> i386 node 3" 2 ping 3 --from 1 -c 20 -i 0.01
ping_ok "i386 client: s390x node 2 agent -> aarch64 node 1" 3 ping 1 --from 2 -c 20 -i 0.01

say "== exec: clients and exec servers of different architectures"
# exec_ok WHAT ID EXPECTED ARGS...: node ID's build runs mint ARGS with
# "abc" as input; its output and status must be EXPECTED ("output|status").
exec_ok() {
	what=$1 id=$2 want=$3
	shift 3
	got=$(printf abc | m "$id" "$@" 2>&1)
	got="$got|$?"
	if [ "$got" = "$want" ]; then say "ok   $what"; else fail "$what: got '$got', expected '$want'"; fi
}
exec_ok "x86_64 client -> s390x node 2 exec" 0 "abc 2|5" exec 2 -- sh -c 'cat; echo " $MINT_NODE"; exit 5'
exec_ok "aarch64 client -> i386 node 3 exec" 1 "abc|0" exec 3 -- cat
exec_ok "s390x client -> x86_64 node 0 exec, not found" 2 "mint: nosuch: command not found|127" \
	exec 0 -- nosuch

say "== doorbells: x86_64 raises 100 on each foreign node; foreign node X's build raises 100+X on node 0"
m 0 irq -j >"$TMP/irq0" || fail "irq -j"
ext0=$(external "$TMP/irq0")
for id in $FOREIGN; do
	m 0 ipi "$id" 100 --count 5 >/dev/null || fail "x86_64: ipi $id 100"
	m "$id" ipi 0 $((100 + id)) --count 5 >/dev/null || fail "$(arch_of "$id"): ipi 0 $((100 + id))"
done
# Raises of one vector may coalesce into one handling: each must be >= 1.
missing=
for try in $(seq 50); do
	m 0 irq -j >"$TMP/irq" || { fail "irq -j"; break; }
	missing=
	for id in $FOREIGN; do
		[ "$(handled "$TMP/irq" "$id" 100)" -ge 1 ] || missing="$missing node$id:100"
		[ "$(handled "$TMP/irq" 0 $((100 + id)))" -ge 1 ] || missing="$missing node0:$((100 + id))"
	done
	[ -z "$missing" ] && break
	sleep 0.1
done
if [ -n "$missing" ]; then
	fail "doorbells never handled:$missing"
else
	for id in $FOREIGN; do
		say "ok   $(arch_of "$id") node $id handled 100 x$(handled "$TMP/irq" "$id" 100);" \
			"x86_64 node 0 handled $((100 + id)) x$(handled "$TMP/irq" 0 $((100 + id)))"
	done
fi
ext=$(external "$TMP/irq")
if [ "$((ext - ext0))" -eq 30 ]; then
	say "ok   the tools' doorbell counter (external_ipis) went up by 30, half of them from foreign builds"
else
	fail "external_ipis went from $ext0 to $ext, want +30 (3 x 2 x 5 raises)"
fi

say "== irq -j from each foreign build agrees with x86_64"
# Counters move while the nodes run: a foreign read taken between two
# x86_64 reads agrees when every number lies between the two.
between() {
	python3 -c 'import json, sys
a, x, b = (json.load(open(p)) for p in sys.argv[1:4])
def flat(d, k=""):
    if isinstance(d, dict): return {kk: v for key, val in d.items() for kk, v in flat(val, k + "/" + key).items()}
    if isinstance(d, list): return {kk: v for i, val in enumerate(d) for kk, v in flat(val, k + "/" + str(i)).items()}
    return {k: d}
fa, fx, fb = flat(a), flat(x), flat(b)
bad = [k for k in fx if k not in fa or k not in fb or not fa[k] <= fx[k] <= fb[k]]
bad += [k for k in fa if k not in fx]
print(" ".join(bad[:5]))
sys.exit(1 if bad else 0)' "$@"
}
for id in $FOREIGN; do
	m 0 irq -j >"$TMP/irq.a" && m "$id" irq -j >"$TMP/irq.$id" && m 0 irq -j >"$TMP/irq.b" ||
		{ fail "irq -j"; continue; }
	why=$(between "$TMP/irq.a" "$TMP/irq.$id" "$TMP/irq.b") ||
		{ fail "$(arch_of "$id") irq -j disagrees with x86_64 at: $why"; diff "$TMP/irq.a" "$TMP/irq.$id"; }
done

say "== a foreign node's death and stop, seen from the other builds"
kill -KILL "$PID1"
for try in $(seq 30); do
	m 0 status -j >"$TMP/st.k" && [ "$(nodes "$TMP/st.k" | awk '$1 == 1 { print $2, $3 }')" = "dead false" ] && break
	sleep 0.1
done
[ "$(nodes "$TMP/st.k" | awk '$1 == 1 { print $2, $3 }')" = "dead false" ] || fail "x86_64 does not see killed node 1 as dead"
m 2 status -j >"$TMP/st.k2" && [ "$(nodes "$TMP/st.k2" | awk '$1 == 1 { print $2, $3 }')" = "dead false" ] ||
	fail "s390x does not see killed node 1 as dead"
m 3 node stop 2 >/dev/null || fail "i386: node stop 2 (s390x)"
gone "$PID2" || fail "node 2's agent (pid $PID2) still runs after its stop"
m 0 status -j >"$TMP/st.s" && [ "$(nodes "$TMP/st.s" | awk '$1 == 2 { print $2, $3 }')" = "free false" ] ||
	fail "x86_64 does not see stopped node 2 as free"
m 0 ping 3 -c 3 -i 0.01 -W 5 >/dev/null 2>&1 || fail "x86_64 -> i386 node 3 after the others left"

say "== down"
m 0 down >"$TMP/down" 2>&1 || { fail "mint down"; cat "$TMP/down"; }
for p in $AGENTS; do
	gone "$p" || fail "agent pid $p still runs after down"
done
[ -e "/dev/shm/mint-$FAB" ] && fail "fabric file left behind"

t_finish "all cross-architecture checks passed"
