#!/bin/sh
# SPDX-License-Identifier: MIT
# t_netns: each node in its own network namespace (needs root).
#
# `mint node start` creates namespace mint-FABRIC-ID: `ip netns list`
# shows it; the agent's /proc/PID/ns/net differs from ours and is the one
# `ip netns exec` enters (and /run/netns/NAME holds); lo is up inside;
# `mint status -j` shows the name.  A node with --name in its own namespace
# has that hostname (its own UTS namespace), as `mint exec` shows.  `--no-netns` runs a node in our
# namespace, `--netns` asks for one explicitly; pings cross namespaces
# through the fabric.  `mint node stop` removes the namespace.  After
# kill -9 of an agent the name stays, and `mint node start` of the same id
# reuses that very namespace.  `mint down` removes them all.
#
# Needs root, ip (iproute2) and jq (mk/deps.sh installs both).  Exit 0
# pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
FAB=t-$$-ns
NS0=mint-$FAB-0
NS1=mint-$FAB-1
NS2=mint-$FAB-2

# At exit, after t_cleanup took the fabric down.
cleanup_more() { delete_our_namespaces; }
t_begin

need_root
need ip "ip (iproute2)"
need jq
need_built "$MINT" tools

ns_of() { readlink "/proc/$1/ns/net" 2>/dev/null; }
ns_inside() { timeout -k 5 10 ip netns exec "$1" readlink /proc/self/ns/net 2>/dev/null; }
node_is_dead() { [ "$(node_field "$1" state)" = dead ]; }

HOST=$(ns_of $$)
[ -n "$HOST" ] || die "cannot read /proc/$$/ns/net"

mint up --size 16M >/dev/null || die "mint up failed"

# ---- node 0: its own namespace ----
node_start 0
pid0=$pid
grep -q "netns $NS0" "$TMP/start.0" || fail "node start 0 did not name its namespace: $(cat "$TMP/start.0")"
ns_listed "$NS0" || fail "$NS0 is not in 'ip netns list': $(ip netns list)"
[ -e "/run/netns/$NS0" ] || fail "/run/netns/$NS0 is missing"
ns0=$(ns_of "$pid0")
[ -n "$ns0" ] || fail "cannot read node 0's namespace"
[ "$ns0" != "$HOST" ] || fail "node 0 runs in the host's namespace ($HOST)"
inside=$(ns_inside "$NS0")
[ "$inside" = "$ns0" ] || fail "ip netns exec $NS0 is in $inside, the agent in $ns0"
[ "net:[$(stat -L -c %i "/run/netns/$NS0")]" = "$ns0" ] ||
	fail "/run/netns/$NS0 is not the agent's namespace $ns0"
timeout -k 5 10 ip netns exec "$NS0" ip -o link show lo >"$TMP/lo" 2>&1
grep -Eq '[<,]UP[,>]' "$TMP/lo" || fail "lo is not up in $NS0: $(cat "$TMP/lo")"
timeout -k 5 10 ip netns exec "$NS0" ip -o addr show dev lo >"$TMP/lo" 2>&1
grep -q 'inet 127\.0\.0\.1/' "$TMP/lo" || fail "lo in $NS0 has no 127.0.0.1: $(cat "$TMP/lo")"
timeout -k 5 10 ip netns exec "$NS0" ip -o link show >"$TMP/links" 2>&1
[ "$(wc -l <"$TMP/links")" -eq 1 ] || fail "$NS0 is not a fresh namespace: $(cat "$TMP/links")"
[ "$(node_field 0 netns)" = "$NS0" ] || fail "status -j shows netns $(node_field 0 netns) for node 0"
mint status >"$TMP/status" 2>&1
grep -qE "^0 +up .* $NS0 " "$TMP/status" || fail "text status lacks $NS0: $(cat "$TMP/status")"

# ---- node 1: --no-netns, in our namespace ----
node_start 1 --no-netns
pid1=$pid
[ "$(ns_of "$pid1")" = "$HOST" ] || fail "node 1 (--no-netns) is in $(ns_of "$pid1"), not $HOST"
[ "$(node_field 1 netns)" = null ] || fail "status -j shows netns $(node_field 1 netns) for node 1"
ns_listed "$NS1" && fail "--no-netns created $NS1"

# ---- node 2: --netns, a namespace of its own, and a name ----
node_start 2 --netns --name ns-two
pid2=$pid
# A named node in its own namespace is a host of that name; ours stays.
[ "$(nsenter -t "$pid2" -u hostname)" = ns-two ] ||
	fail "node 2's hostname is $(nsenter -t "$pid2" -u hostname), not ns-two"
[ "$(mint exec 2 -- hostname 2>&1)" = ns-two ] || fail "mint exec 2 -- hostname: $(mint exec 2 -- hostname 2>&1)"
[ "$(hostname)" != ns-two ] || fail "node 2 renamed the host"
ns2=$(ns_of "$pid2")
ns_listed "$NS2" || fail "$NS2 is not listed"
[ "$ns2" != "$HOST" ] && [ "$ns2" != "$ns0" ] || fail "node 2's namespace $ns2 is not its own"
[ "$(ns_inside "$NS2")" = "$ns2" ] || fail "ip netns exec $NS2 is not node 2's namespace"

# Across namespaces through the fabric.
mint ping 0 -c 2 -i 0.05 >"$TMP/ping" 2>&1 || fail "ping 0: $(cat "$TMP/ping")"
mint ping 0 --from 1 -c 2 -i 0.05 >"$TMP/ping" 2>&1 || fail "ping 0 --from 1: $(cat "$TMP/ping")"
mint ping 2 --from 0 -c 2 -i 0.05 >"$TMP/ping" 2>&1 || fail "ping 2 --from 0: $(cat "$TMP/ping")"

# ---- stop removes the namespace ----
mint node stop 2 >"$TMP/out" 2>&1 || fail "node stop 2: $(cat "$TMP/out")"
ns_listed "$NS2" && fail "$NS2 is still listed after node stop 2"
[ -e "/run/netns/$NS2" ] && fail "/run/netns/$NS2 is still there after node stop 2"
is_agent "$pid2" && fail "node 2's agent $pid2 still runs"
mint node stop 0 >"$TMP/out" 2>&1 || fail "node stop 0: $(cat "$TMP/out")"
ns_listed "$NS0" && fail "$NS0 is still listed after node stop 0"
[ -e "/run/netns/$NS0" ] && fail "/run/netns/$NS0 is still there after node stop 0"

# ---- kill -9, then start again: the same namespace ----
node_start 0
pid0=$pid
ns0=$(ns_of "$pid0")
[ "$ns0" != "$HOST" ] && ns_listed "$NS0" || fail "node 0 restarted without its namespace"
kill -9 "$pid0"
wait_until 10 node_is_dead 0 || fail "node 0 not dead 10 s after kill -9"
ns_listed "$NS0" || fail "$NS0 vanished with its killed agent"
node_start 0
[ "$pid" != "$pid0" ] || fail "node 0 has its old pid after the restart"
[ "$(ns_of "$pid")" = "$ns0" ] || fail "restarted node 0 is in $(ns_of "$pid"), not its old namespace $ns0"
[ "$(ns_inside "$NS0")" = "$ns0" ] || fail "$NS0 is no longer the namespace $ns0"
[ "$(ip netns list | awk '{print $1}' | grep -cx "$NS0")" -eq 1 ] || fail "$NS0 listed more than once"
[ "$(node_field 0 netns)" = "$NS0" ] || fail "status -j: restarted node 0's netns $(node_field 0 netns)"
[ "$(node_field 1 pid)" = "$pid1" ] || fail "node 1 was restarted by node 0's restart"
mint ping 0 --from 1 -c 2 -i 0.05 >"$TMP/ping" 2>&1 || fail "ping 0 --from 1 after the restart: $(cat "$TMP/ping")"

# ---- down removes them all ----
node_start 3
ns_listed "mint-$FAB-3" || fail "mint-$FAB-3 is not listed"
mint down >"$TMP/out" 2>&1 || fail "mint down: $(cat "$TMP/out")"
left=$(our_namespaces)
[ -z "$left" ] || fail "mint down left namespaces: $left"
ls /run/netns/mint-"$FAB"-* >/dev/null 2>&1 && fail "mint down left $(ls /run/netns/mint-"$FAB"-*)"
[ -e "/dev/shm/mint-$FAB" ] && fail "mint down left the fabric"
for p in $AGENTS; do
	is_agent "$p" && fail "agent $p still runs after mint down"
done

t_finish
