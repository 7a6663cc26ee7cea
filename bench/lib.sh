# shellcheck shell=bash disable=SC2154 # bench, out, notes...: the caller's globals
# Helpers shared by bench/compare.sh and bench/tls/run.sh, sourced once the
# script has set bench. They work on the scripts' globals: out, work, doc,
# tsv, notes, nofile, idle_conns, started, srv_pid, srv_port and scheme
# (http here; the TLS harness sets https).

prog=${0##*/}
scheme=http

# usage_head: the script's header comment, up to its shellcheck line.
usage_head() { sed -n '2,/^# shellcheck/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# need_count FLAG VALUE: exits unless VALUE is a positive integer.
need_count() {
	case $2 in '' | *[!0-9]* | 0) echo "$prog: $1 must be a positive integer" >&2; exit 2 ;; esac
}

need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "$prog: $t is missing" >&2; exit 1; }
	done
}

# raise_nofile WHAT: raises the descriptor limit (children inherit it) and
# sets nofile. The idle scenario WHAT needs idle_conns plus a few in the
# server and in the client; below that, idle_conns is lowered to fit.
raise_nofile() {
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	nofile=$(ulimit -n)
	if [ "$nofile" -lt $((idle_conns + 64)) ]; then
		log "descriptor limit $nofile (hard $(ulimit -Hn)) is below $idle_conns idle connections + 64; $1 uses $((nofile - 64))"
		idle_conns=$((nofile - 64))
	fi
}

# build_peer NAME: go build bench/peers/NAME into bench/bin/NAME (log beside it).
build_peer() {
	mkdir -p "$bench/bin"
	(cd "$bench/peers" && go build -trimpath -o "../bin/$1" "./$1") >"$bench/bin/$1.build.log" 2>&1
}

# work_area DEFAULT_OUT: the results directory (--out, else DEFAULT_OUT) with
# raw/, empty results.tsv and notes.txt, and a temporary work directory with
# the document root doc; the exit trap removes it.
work_area() {
	[ -n "$out" ] || out=$1
	mkdir -p "$out/raw" || exit 1
	out=$(cd "$out" && pwd)
	work=$(mktemp -d)
	doc=$work/www
	mkdir -p "$doc"
	tsv=$out/results.tsv
	: >"$tsv"
	notes=$out/notes.txt
	: >"$notes"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

note() { echo "$*" >>"$notes"; log "note: $*"; }

# Every PID this script started and has not reaped; the trap kills them.
started=()
cleanup() {
	local p
	for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}

# forget PID: a reaped process leaves the list the exit trap kills.
forget() {
	local keep=() p
	for p in "${started[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	started=("${keep[@]}")
}

# big_file SIZE WHAT: doc/big.bin, SIZE random bytes (so nothing can be
# special-cased), read once into the page cache.
big_file() {
	log "writing the $2 ($1 of random bytes)"
	head -c "$1" /dev/urandom >"$doc/big.bin" || { echo "$prog: cannot write the $2" >&2; exit 1; }
	cat "$doc/big.bin" >/dev/null
}

# A sleep without forking: read with a timeout from a pipe nobody writes.
exec {sleepfd}<> <(:)
nap() { read -r -t "$1" -u "$sleepfd" _ || true; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# port_from_log LOG TEXT: waits up to 10 s, while srv_pid lives, for the
# server to log "TEXT 127.0.0.1:PORT"; prints PORT, or nothing.
port_from_log() {
	local line=""
	for _ in $(seq 100); do
		line=$(grep -o "$2 127\.0\.0\.1:[0-9]*" "$1" 2>/dev/null | head -1)
		[ -n "$line" ] && break
		kill -0 "$srv_pid" 2>/dev/null || break
		nap 0.1
	done
	[ -z "$line" ] || echo "${line##*:}"
}

# pong SECONDS: whether GET /ping answers pong. -k: the TLS harness's
# certificate is self-signed (curl ignores -k for http).
pong() { [ "$(curl -sk -m "$1" "$scheme://127.0.0.1:$srv_port/ping" 2>/dev/null)" = pong ]; }

# await_server WHO LOG: once srv_pid is started, hands it to the exit trap
# and waits up to 10 s for /ping. If it never answers: a note, the server
# stopped, status 1.
await_server() {
	started+=("$srv_pid")
	if [ -n "$srv_port" ]; then
		for _ in $(seq 100); do
			pong 1 && break
			kill -0 "$srv_pid" 2>/dev/null || break
			nap 0.1
		done
	fi
	if [ -z "$srv_port" ] || ! pong 2; then
		note "$1 did not start (log: raw/$(basename "$2")): $(tail -2 "$2" 2>/dev/null | tr '\n' ' ')"
		stop_server
		return 1
	fi
	return 0
}

stop_server() {
	[ -n "$srv_pid" ] || return 0
	kill -TERM "$srv_pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$srv_pid" 2>/dev/null || break
		nap 0.1
	done
	kill -KILL "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	forget "$srv_pid"
	srv_pid=""
}

# idle_extra NAME: this server refuses connections past --max-conns (default:
# half the descriptor limit); sets the caller's extra to raise it, only when
# the default is too small for idle_conns.
idle_extra() {
	# shellcheck disable=SC2034 # extra is the caller's local
	if [[ $1 == http_server* ]] && [ $((nofile / 2)) -lt $((idle_conns + 16)) ]; then
		extra=(--max-conns $((nofile - 32)))
	fi
}

record() { # SCENARIO SERVER ROUND VALUE
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$tsv"
}

# field LINE KEY: the value of KEY=... in a result line (BENCH, IDLE, TLSBENCH).
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# env_head: the first lines of environment.txt.
env_head() {
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
}
cpu_model() { grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'; }
go_version() { go version 2>/dev/null | awk '{print $3}'; }
