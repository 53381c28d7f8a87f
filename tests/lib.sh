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

# ---- processes and time ----

now_ms() { date +%s%3N; }

# running PID: the process exists and is not a zombie (nor dead).
running() {
	[ -r "/proc/$1/stat" ] || return 1
	_t_state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_t_state" ] && [ "$_t_state" != Z ] && [ "$_t_state" != X ]
}

# forget PID: a child in $PIDS was reaped; the cleanup must not kill its
# number again.
forget() {
	_t_keep=""
	for _t_p in $PIDS; do
		[ "$_t_p" = "$1" ] || _t_keep="$_t_keep $_t_p"
	done
	PIDS=$_t_keep
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
		[ -e "/dev/shm/mint-$FAB" ] && timeout -k 5 30 "$MINT" --fabric "$FAB" down >/dev/null 2>&1
		for _t_p in $AGENTS; do
			is_agent "$_t_p" && kill -9 "$_t_p" 2>/dev/null
		done
		rm -f "/dev/shm/mint-$FAB" "/dev/shm/mint-$FAB".*
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
