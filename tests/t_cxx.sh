#!/bin/sh
# The public headers from C++17: examples/echo-client.cpp (built by make
# with -std=c++17 -Werror) attaches to a fabric, opens a channel to a
# node's echo service and checks the reply to its request.
. tests/lib.sh
CLIENT=$BUILD/examples/echo-client
need_built "$CLIENT" examples
need jq
FAB=t-cxx-$$
t_begin

mint up >/dev/null || die "mint up"
node_start 0 --no-netns
out=$(timeout -k 5 20 "$CLIENT" "$FAB" 0 2>&1) || die "echo-client: $out"
say "$out"
out=$(timeout -k 5 20 "$CLIENT" "$FAB" 5 2>&1) && fail "echo-client to a node that is not up answered: $out"
say "to a node that is not up: $out"
mint down >/dev/null || fail "mint down"
t_finish
