#!/usr/bin/env bash
# HTTPS benchmark: this server's TLS listener against net/http's
# ListenAndServeTLS with the same certificate, on the same machine, in the
# same run. Both servers run pinned to CPU 0, the client (bench/peers/tlsload)
# on CPU 1; every measurement gets a fresh server and the two servers
# alternate round by round. Four figures: full handshakes per server
# CPU-second, keep-alive requests/s, bulk MiB/s, RSS per idle TLS
# connection. See the "HTTPS benchmark" section of bench/README.md.
#
#   bench/tls/run.sh [--quick] [--rounds 3] [--duration 8s] [--warmup 1s]
#                    [--scenarios handshake,keepalive,bulk,idle]
#                    [--servers http_server,nethttps] [--idle-conns 5000]
#                    [--file-size 256M] [--bulk-conns 4] [--groups LIST]
#                    [--server-args "ARGS"] [--server-bin PATH] [--out DIR]
# shellcheck disable=SC2086 # $server_args is a list
set -uo pipefail

usage() {
	usage_head
	cat <<'EOF'
Flags:
  --rounds R         rounds; every round runs both servers once per scenario; default 3
  --duration D       measured time of each load run (Go syntax: 8s, 1m); default 8s
  --warmup D         unmeasured load before it, same connections; default 1s
  --quick            --rounds 1 --duration 2s --warmup 500ms --idle-conns 1000 --file-size 64M
                     (a smoke test of the harness, not a measurement)
  --scenarios LIST   comma-separated subset of handshake,keepalive,bulk,idle; default all
  --servers LIST     comma-separated subset of http_server,nethttps; default both
  --idle-conns N     idle TLS connections in the RSS scenario; default 5000
  --file-size S      size of the bulk file (head -c syntax); default 256M
  --bulk-conns N     connections downloading it; default 4
  --groups LIST      key-exchange groups the client offers (e.g. X25519); default Go's
  --server-args A    extra flags for this server (e.g. "--max-requests 0")
  --server-bin PATH  use this http_server binary instead of building ./cmd/http_server
  --out DIR          where raw outputs go; default bench/results/tls-<timestamp>
EOF
}

cd "$(dirname "$0")/../.." || exit 1
repo=$(pwd)
bench=$repo/bench
# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
scheme=https

rounds=3
duration=8s
warmup=1s
scenarios=handshake,keepalive,bulk,idle
servers_arg=http_server,nethttps
idle_conns=5000
file_size=256M
bulk_conns=4
groups=""
server_args=""
server_bin=""
out=""
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--duration) duration=$2; shift ;;
	--warmup) warmup=$2; shift ;;
	--quick) rounds=1; duration=2s; warmup=500ms; idle_conns=1000; file_size=64M ;;
	--scenarios) scenarios=$2; shift ;;
	--servers) servers_arg=$2; shift ;;
	--idle-conns) idle_conns=$2; shift ;;
	--file-size) file_size=$2; shift ;;
	--bulk-conns) bulk_conns=$2; shift ;;
	--groups) groups=$2; shift ;;
	--server-args) server_args=$2; shift ;;
	--server-bin) server_bin=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (--help lists the flags)" >&2; exit 2 ;;
	esac
	shift
done
need_count --rounds "$rounds"
need_count --idle-conns "$idle_conns"
need_count --bulk-conns "$bulk_conns"
IFS=, read -r -a scen_list <<<"$scenarios"
for s in "${scen_list[@]}"; do
	case $s in handshake | keepalive | bulk | idle) ;; *) echo "run.sh: unknown scenario $s (handshake, keepalive, bulk, idle)" >&2; exit 2 ;; esac
done
IFS=, read -r -a servers <<<"$servers_arg"
for s in "${servers[@]}"; do
	case $s in http_server | nethttps) ;; *) echo "run.sh: unknown server $s (http_server, nethttps)" >&2; exit 2 ;; esac
done

# ---------------------------------------------------------------- tools
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || { echo "run.sh: needs at least 2 CPUs (servers on CPU 0, the client on CPU 1)" >&2; exit 1; }
need_tools go curl taskset python3 timeout getconf
clk_tck=$(getconf CLK_TCK)

raise_nofile "the idle scenario"

# ---------------------------------------------------------------- work area
work_area "$bench/results/tls-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work/tls"
: >"$out/groups.tsv"

# ---------------------------------------------------------------- builds
# The client and the net/http peer live in the peers module (bench/peers),
# this server is built into the temporary directory (not ./http_server,
# which others may be using).
for p in tlsload nethttps; do
	log "building bench/peers/$p"
	if ! build_peer "$p"; then
		echo "run.sh: bench/peers/$p did not build: $(tail -3 "$bench/bin/$p.build.log")" >&2
		exit 1
	fi
done
client=$bench/bin/tlsload

asked() { [[ ",$servers_arg," == *",$1,"* ]]; }
if asked http_server; then
	if [ -z "$server_bin" ]; then
		log "building ./cmd/http_server"
		server_bin=$work/http_server
		go build -trimpath -o "$server_bin" ./cmd/http_server 2>"$out/raw/http_server.build.log" ||
			{ echo "run.sh: ./cmd/http_server did not build: $(tail -3 "$out/raw/http_server.build.log")" >&2; exit 1; }
	fi
	if ! "$server_bin" --help 2>&1 | grep -q -- '--tls-cert'; then
		note "http_server has no --tls-cert flag (no TLS support in this build); net/http only"
		keep=()
		for s in "${servers[@]}"; do [ "$s" = http_server ] || keep+=("$s"); done
		servers=("${keep[@]}")
	fi
fi
[ "${#servers[@]}" -gt 0 ] || { echo "run.sh: no server to measure" >&2; exit 1; }

# ---------------------------------------------------------------- certificate and files
# A fresh self-signed ECDSA P-256 certificate for localhost and 127.0.0.1,
# used by both servers; the client verifies against it.
"$client" cert -dir "$work/tls" || { echo "run.sh: could not write the certificate" >&2; exit 1; }
cert=$work/tls/cert.pem
key=$work/tls/key.pem

[[ ",$scenarios," == *",bulk,"* ]] && big_file "$file_size" "bulk file"
big_size=$(stat -c %s "$doc/big.bin" 2>/dev/null || echo 0)

# The script itself (and so the client) runs on CPU 1; servers are started
# with taskset -c 0.
taskset -pc 1 $$ >/dev/null

label() {
	case $1 in
	nethttps) echo "net/http" ;;
	*) echo "$1" ;;
	esac
}

# start_server NAME LOG [EXTRA ARGS...]: starts NAME pinned to CPU 0 and
# waits until https://127.0.0.1:PORT/ping answers. Sets srv_pid and srv_port.
start_server() {
	local name=$1 logf=$2
	shift 2
	srv_pid="" srv_port=""
	case $name in
	http_server)
		taskset -c 0 "$server_bin" --addr 127.0.0.1 --port 0 --tls-port 0 --tls-only \
			--tls-cert "$cert" --tls-key "$key" --root "$doc" $server_args "$@" >"$logf" 2>&1 &
		srv_pid=$!
		srv_port=$(port_from_log "$logf" 'listening for https on')
		;;
	nethttps)
		srv_port=$(free_port)
		taskset -c 0 "$bench/bin/nethttps" --port "$srv_port" --root "$doc" --cert "$cert" --key "$key" >"$logf" 2>&1 &
		srv_pid=$!
		;;
	esac
	await_server "$(label "$name")" "$logf"
}

# stats_handshakes: this server's count of completed handshakes (GET /stats).
stats_handshakes() {
	curl -sk -m 2 "https://127.0.0.1:$srv_port/stats?format=json" | sed -n 's/.*"tls":{"handshakes":\([0-9]*\).*/\1/p'
}

# check_handshakes NAME SCEN ROUND LINE BEFORE AFTER CONNS: the server's
# handshake count (the second /stats request's own handshake taken off)
# should match the client's, give or take the connections in flight.
check_handshakes() {
	local name=$1 scen=$2 round=$3 line=$4 before=$5 after=$6 conns=$7 client sent
	[ -n "$before" ] && [ -n "$after" ] || return 0
	client=$(field "$line" handshakes_total)
	[ -n "$client" ] || return 0
	sent=$((after - before - 1))
	echo "server_counted_handshakes=$sent" >>"$out/raw/$scen-$name-r$round.client.txt"
	if [ "$sent" -lt $((client - conns)) ] || [ "$sent" -gt $((client + conns)) ]; then
		note "$scen $(label "$name") round $round: the client completed $client handshakes, the server counted $sent"
	fi
}

client_flags=(-ca "$cert" -clk-tck "$clk_tck")
[ -z "$groups" ] || client_flags+=(-groups "$groups")

# ---------------------------------------------------------------- scenarios
# handshake, keepalive, bulk: tlsload measures the server's CPU time itself
# (/proc/PID/stat at the start and end of its measured window).
run_load() { # SCENARIO NAME ROUND
	local scen=$1 name=$2 round=$3 raw line args=() v
	case $scen in
	handshake) args=(-conns 32) ;;
	keepalive) args=(-conns 64) ;;
	bulk) args=(-conns "$bulk_conns" -path /big.bin -size "$big_size") ;;
	esac
	raw=$out/raw/$scen-$name-r$round
	start_server "$name" "$raw.server.log" || return 0
	# This server counts its handshakes (/stats): a check that every
	# connection was one full handshake on its side too.
	local before="" after=""
	[ "$name" = http_server ] && before=$(stats_handshakes)
	taskset -c 1 timeout -k 5 600 "$client" "$scen" -addr "127.0.0.1:$srv_port" -pids "$srv_pid" \
		-duration "$duration" -warmup "$warmup" "${client_flags[@]}" "${args[@]}" >"$raw.client.txt" 2>&1
	[ -n "$before" ] && after=$(stats_handshakes)
	stop_server
	line=$(grep '^TLSBENCH ' "$raw.client.txt")
	if [ -z "$line" ]; then
		note "$scen $(label "$name") round $round: the client printed no result (raw/$(basename "$raw").client.txt: $(tail -1 "$raw.client.txt"))"
		return 0
	fi
	check_handshakes "$name" "$scen" "$round" "$line" "$before" "$after" "$(field "$line" conns)"
	local errs resumed
	errs=$(field "$line" errors) resumed=$(field "$line" resumed)
	[ "$errs" = 0 ] || note "$scen $(label "$name") round $round: $errs errors in the measured window ($(grep -m1 'first error' "$raw.client.txt" | sed 's/^tlsload: //'))"
	[ "$resumed" = 0 ] || note "$scen $(label "$name") round $round: $resumed connections resumed a session (should be full handshakes)"
	printf '%s\t%s\n' "$name" "$(field "$line" group)" >>"$out/groups.tsv"
	case $scen in
	bulk)
		v=$(field "$line" mib_per_s)
		record bulk-cpu "$name" "$round" "$(awk -v b="$(field "$line" count)" -v c="$(field "$line" server_cpu_s)" 'BEGIN { if (c > 0) printf "%.2f", b / 2^20 / c; else print 0 }')"
		;;
	*)
		v=$(field "$line" per_s)
		record "$scen-cpu" "$name" "$round" "$(field "$line" per_server_cpu_s)"
		;;
	esac
	record "$scen" "$name" "$round" "$v"
	record "$scen-server-busy" "$name" "$round" "$(field "$line" server_busy)"
	record "$scen-client-busy" "$name" "$round" "$(field "$line" client_busy)"
	log "$scen $(label "$name") round $round: $v/s, $(field "$line" per_server_cpu_s) per server CPU-second (server busy $(field "$line" server_busy), client busy $(field "$line" client_busy))"
}

# idle: idle_conns TLS connections, one GET /ping each, then idle; RSS
# before the first and 2 s after the last, per connection.
run_idle() { # NAME ROUND
	local name=$1 round=$2 raw line extra=()
	raw=$out/raw/idle-$name-r$round
	idle_extra "$name"
	start_server "$name" "$raw.server.log" "${extra[@]}" || return 0
	taskset -c 1 timeout -k 5 600 "$client" idle -addr "127.0.0.1:$srv_port" -pids "$srv_pid" \
		-conns "$idle_conns" -settle 2s "${client_flags[@]}" >"$raw.client.txt" 2>&1
	stop_server
	line=$(grep '^TLSBENCH ' "$raw.client.txt")
	if [ -z "$line" ]; then
		note "idle $(label "$name") round $round: the client printed no result (raw/$(basename "$raw").client.txt: $(tail -1 "$raw.client.txt"))"
		return 0
	fi
	local open failed dropped pending per
	open=$(field "$line" open) failed=$(field "$line" failed) dropped=$(field "$line" dropped)
	pending=$(field "$line" pending) per=$(field "$line" bytes_per_conn)
	if [ "$failed" != 0 ] || [ "$dropped" != 0 ] || [ "$pending" != 0 ]; then
		note "idle $(label "$name") round $round: $open of $idle_conns idle, $failed failed, $dropped closed by the server, $pending with unread bytes ($(grep -m1 'first error' "$raw.client.txt" | sed 's/^tlsload: //'))"
	fi
	[ "${#extra[@]}" = 0 ] || echo "${extra[*]}" >"$raw.server-args.txt"
	printf '%s\t%s\n' "$name" "$(field "$line" group)" >>"$out/groups.tsv"
	record idle "$name" "$round" "$per"
	log "idle $(label "$name") round $round: $per B/conn ($open conns)"
}

# cpu_check: the share of CPU 0 and of CPU 1 a spinning process gets for
# 1 s each; well below 1.00 means something else is using the machine.
cpu_check() {
	local c b
	for c in 0 1; do
		b=$(taskset -c $c "$client" spin -duration 1s | sed -n 's/.* busy=\([^ ]*\).*/\1/p')
		printf 'CPU %s %s; ' "$c" "${b:-?}"
	done
}

# ---------------------------------------------------------------- main loop
log "checking how much of CPUs 0 and 1 is free (1 s each)"
cpus_before=$(cpu_check)
{
	env_head
	echo "machine: $ncpu CPUs, $(cpu_model), kernel $(uname -r)"
	echo "go: $(go_version)"
	echo "servers: ${servers[*]}; server args: ${server_args:-none}"
	echo "rounds $rounds; measured $duration after $warmup of warm-up per load run; idle conns $idle_conns; bulk $bulk_conns conns x $big_size-byte file; descriptors $nofile"
	echo "TLS: 1.3, ECDSA P-256 self-signed certificate, no session resumption, HTTP/1.1 (no ALPN); client groups: ${groups:-Go default}"
} >"$out/environment.txt"
printf 'handshake_conns\t32\nkeepalive_conns\t64\nbulk_conns\t%s\nfile_size\t%s\nidle_conns\t%s\n' \
	"$bulk_conns" "$big_size" "$idle_conns" >"$out/params.tsv"
log "results in ${out#"$repo"/}"

n_servers=${#servers[@]}
for scen in "${scen_list[@]}"; do
	for round in $(seq "$rounds"); do
		# Alternate which server goes first, round by round.
		for k in $(seq 0 $((n_servers - 1))); do
			name=${servers[$(((k + round - 1) % n_servers))]}
			case $scen in
			idle) run_idle "$name" "$round" ;;
			*) run_load "$scen" "$name" "$round" ;;
			esac
		done
	done
done

echo "CPU share a spinning process got, before the runs: ${cpus_before%; }; after: $(cpu_check | sed 's/; $//')" >>"$out/environment.txt"

python3 "$bench/tls/table.py" --results "$out" | tee "$out/table.md"
log "raw outputs and table.md in ${out#"$repo"/}"
# Success: this server produced at least one figure (or was not asked for).
if asked http_server; then
	cut -f2 "$tsv" | grep -qx http_server || { log "no result for http_server"; exit 1; }
fi
exit 0
