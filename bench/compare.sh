#!/usr/bin/env bash
# Benchmark comparison: this server (default configuration and --workers 0)
# against nginx and, with --peers, fasthttp, gnet v2 and net/http, on the
# same machine in the same run. Servers run pinned to CPU 0, every client
# (wrk -t1, curl, the idle-connection client) on CPU 1; servers alternate
# round by round. See bench/README.md for the scenarios and how to read the
# numbers.
#
#   bench/compare.sh [--quick] [--peers] [--duration 10s] [--rounds 3]
#                    [--scenarios S1,S2,S3,S4,S5,S6] [--idle-conns 19000]
#                    [--no-syscalls] [--server-args "ARGS"] [--download-size 1G]
#                    [--out DIR]
# shellcheck disable=SC2086 # $srv_pids is a list
set -uo pipefail

usage() {
	usage_head
	cat <<'EOF'
Flags:
  --duration D       length of each measured wrk run (wrk syntax: 10s, 1m); default 10s
  --rounds R         rounds; every round runs every server once per scenario; default 3
  --scenarios LIST   comma-separated subset of S1..S6; default all
  --peers            build bench/peers (fasthttp, gnet, net/http) and include them;
                     needs the Go module proxy; a peer that does not build is skipped
  --quick            --duration 2s --rounds 1 --idle-conns 2000 (smoke test, not a measurement)
  --idle-conns N     idle connections in S6; default 19000
  --warmup D         unmeasured wrk run before each measured one; default 1s, 0 for none
  --no-syscalls      skip the strace step (syscalls per request)
  --server-args A    extra flags for this server, both configurations (e.g. "--max-requests 0")
  --download-size S  size of the S5 file (head -c syntax); default 1G
  --out DIR          where raw outputs go; default bench/results/<timestamp>
EOF
}

cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
bench=$repo/bench
# shellcheck source=bench/lib.sh
. "$bench/lib.sh"

duration=10s
rounds=3
scenarios=S1,S2,S3,S4,S5,S6
peers=0
idle_conns=19000
warmup=1s
syscalls=1
server_args=""
download_size=1G
out=""
while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--scenarios) scenarios=$2; shift ;;
	--peers) peers=1 ;;
	--quick) duration=2s; rounds=1; idle_conns=2000 ;;
	--idle-conns) idle_conns=$2; shift ;;
	--warmup) warmup=$2; shift ;;
	--no-syscalls) syscalls=0 ;;
	--server-args) server_args=$2; shift ;;
	--download-size) download_size=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "compare.sh: unknown argument $1 (--help lists the flags)" >&2; exit 2 ;;
	esac
	shift
done
need_count --rounds "$rounds"
need_count --idle-conns "$idle_conns"
IFS=, read -r -a scen_list <<<"$scenarios"
for s in "${scen_list[@]}"; do
	case $s in S1 | S2 | S3 | S4 | S5 | S6) ;; *) echo "compare.sh: unknown scenario $s (S1..S6)" >&2; exit 2 ;; esac
done
want() { [[ ",$scenarios," == *",$1,"* ]]; }

# ---------------------------------------------------------------- tools
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || { echo "compare.sh: needs at least 2 CPUs (server on CPU 0, clients on CPU 1)" >&2; exit 1; }
need_tools wrk curl taskset python3 make
if ! command -v nginx >/dev/null; then
	log "nginx missing: apt-get install -y nginx-light"
	if [ "$(id -u)" -ne 0 ] || ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }; then
		echo "compare.sh: could not install nginx (run as root, or apt-get install nginx-light)" >&2
		exit 1
	fi
fi
if [ "$syscalls" = 1 ] && ! command -v strace >/dev/null; then
	log "strace missing: apt-get install -y strace"
	{ [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; } ||
		{ log "could not install strace; skipping syscalls per request"; syscalls=0; }
fi
# nginx runs its worker as root (user root;) so that it can read the
# document root in a private temporary directory.
if [ "$(id -u)" -ne 0 ]; then
	echo "compare.sh: run as root (nginx's worker runs as root to read the temporary document root)" >&2
	exit 1
fi

raise_nofile S6

# ---------------------------------------------------------------- builds
log "building ./http_server (make http_server)"
make -s http_server || { echo "compare.sh: make http_server failed" >&2; exit 1; }

servers=(http_server http_server-w0 nginx)
build_notes=()
if [ "$peers" = 1 ]; then
	for p in fasthttp gnet nethttp; do
		log "building peer $p (bench/peers, module proxy needed on first build)"
		if build_peer "$p"; then
			servers+=("$p")
		else
			build_notes+=("peer $p did not build, skipped: $(tail -1 "$bench/bin/$p.build.log")")
			log "${build_notes[-1]}"
		fi
	done
fi

# ---------------------------------------------------------------- work area
work_area "$bench/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work/nginx-tmp"
for n in "${build_notes[@]}"; do echo "$n" >>"$notes"; done

# Random bytes, so nothing can be special-cased.
head -c 4096 /dev/urandom >"$doc/4k.bin"
head -c 1048576 /dev/urandom >"$doc/1m.bin"
want S5 && big_file "$download_size" "S5 file"
big_size=$(stat -c %s "$doc/big.bin" 2>/dev/null || echo 0)

# The script itself (and so every client it starts) runs on CPU 1; servers
# are started with taskset -c 0.
taskset -pc 1 $$ >/dev/null

# rss_kib PID...: resident memory summed over the processes, in KiB.
rss_kib() {
	local total=0 p k v _
	for p in "$@"; do
		while read -r k v _; do
			if [ "$k" = VmRSS: ]; then total=$((total + v)); break; fi
		done <"/proc/$p/status" 2>/dev/null
	done
	echo "$total"
}

label() {
	case $1 in
	http_server) echo "http_server" ;;
	http_server-w0) echo "http_server --workers 0" ;;
	nethttp) echo "net/http" ;;
	*) echo "$1" ;;
	esac
}

# serves NAME SCENARIO: whether the server takes part in the scenario.
serves() {
	case $1:$2 in
	gnet:S3 | gnet:S4 | gnet:S5) return 1 ;; # gnet's peer has no file server
	esac
	return 0
}

# nginx_conf PORT SCENARIO. worker_connections is 20000, and more in S6:
# when fewer than 1/16 of them are free, nginx closes idle keep-alive
# connections to make room, which would end S6's idle connections.
nginx_conf() {
	local wc=20000
	if [ "$2" = S6 ]; then
		wc=$(((idle_conns + 1000) * 17 / 15))
		[ "$wc" -ge 20000 ] || wc=20000
	fi
	cat <<CONF
user root;
worker_processes 1;
worker_cpu_affinity 1;
worker_rlimit_nofile $nofile;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events {
    worker_connections $wc;
}
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000000;
    keepalive_timeout 75s;
    default_type application/octet-stream;
    client_body_temp_path $work/nginx-tmp/body;
    proxy_temp_path $work/nginx-tmp/proxy;
    fastcgi_temp_path $work/nginx-tmp/fastcgi;
    uwsgi_temp_path $work/nginx-tmp/uwsgi;
    scgi_temp_path $work/nginx-tmp/scgi;
    server {
        listen 127.0.0.1:$1;
        root $doc;
        location = /ping {
            default_type text/plain;
            return 200 "pong";
        }
    }
}
CONF
}

# start_server NAME LOG [EXTRA ARGS...]: starts NAME pinned to CPU 0 and
# waits until /ping answers. Sets srv_pid (the process to signal),
# srv_pids (the processes whose memory counts) and srv_port.
start_server() {
	local name=$1 logf=$2
	shift 2
	srv_pid="" srv_pids="" srv_port=""
	case $name in
	http_server | http_server-w0)
		local extra=()
		[ "$name" = http_server-w0 ] && extra=(--workers 0)
		# shellcheck disable=SC2086 # server_args is a list of flags
		taskset -c 0 ./http_server --addr 127.0.0.1 --port 0 --root "$doc" "${extra[@]}" $server_args "$@" \
			>"$logf" 2>&1 &
		srv_pid=$!
		srv_port=$(port_from_log "$logf" 'listening on')
		;;
	nginx)
		srv_port=$(free_port)
		nginx_conf "$srv_port" "$cur_scen" >"$work/nginx.conf"
		taskset -c 0 nginx -e "$work/nginx-error.log" -p "$work/" -c "$work/nginx.conf" >"$logf" 2>&1 &
		srv_pid=$!
		;;
	*)
		srv_port=$(free_port)
		taskset -c 0 "$bench/bin/$name" --port "$srv_port" --root "$doc" >"$logf" 2>&1 &
		srv_pid=$!
		;;
	esac
	await_server "$name" "$logf" || return 1
	srv_pids=$srv_pid
	if [ "$name" = nginx ]; then
		srv_pids="$srv_pid $(pgrep -P "$srv_pid" | tr '\n' ' ')"
	fi
	return 0
}

# check_files NAME: the file scenarios are only meaningful if the files come back whole.
check_files() {
	local f want got
	for f in 4k.bin 1m.bin; do
		want=$(stat -c %s "$doc/$f")
		got=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$srv_port/$f")
		if [ "$got" != "200 $want" ]; then
			note "$1: GET /$f gave '$got', expected '200 $want'"
			return 1
		fi
	done
}

# stats_requests: this server's count of responses sent (GET /stats).
stats_requests() {
	curl -s -m 2 "http://127.0.0.1:$srv_port/stats?format=json" | sed -n 's/^{"requests":\([0-9]*\),.*/\1/p'
}

# ---------------------------------------------------------------- scenarios
# wrk scenarios: S1 /ping, S2 /ping pipelined x16, S3 4 KiB, S4 1 MiB.
run_wrk() { # SCENARIO NAME ROUND
	local scen=$1 name=$2 round=$3 conns path script args=() raw line
	case $scen in
	S1) conns=64 path=/ping script=report.lua ;;
	S2) conns=64 path=/ping script=pipeline.lua args=(-- 16) ;;
	S3) conns=64 path=/4k.bin script=report.lua ;;
	S4) conns=16 path=/1m.bin script=report.lua ;;
	esac
	raw=$out/raw/$scen-$name-r$round
	start_server "$name" "$raw.server.log" || return 0
	if [ "$scen" = S3 ] || [ "$scen" = S4 ]; then
		check_files "$name" || { stop_server; return 0; }
	fi
	local url=http://127.0.0.1:$srv_port$path
	if [ "$warmup" != 0 ]; then
		taskset -c 1 wrk -t1 -c"$conns" -d"$warmup" -s "$bench/$script" "$url" "${args[@]}" >/dev/null 2>&1
	fi
	# This server counts the responses it sends (/stats); comparing them with
	# wrk's count checks that wrk counts responses, not pipelined batches.
	local before="" after=""
	[[ $name == http_server* ]] && before=$(stats_requests)
	taskset -c 1 wrk -t1 -c"$conns" -d"$duration" -s "$bench/$script" "$url" "${args[@]}" >"$raw.wrk.txt" 2>&1
	[ -n "$before" ] && after=$(stats_requests)
	stop_server
	line=$(grep '^BENCH ' "$raw.wrk.txt")
	if [ -z "$line" ]; then
		note "$scen $name round $round: wrk printed no result (raw/$(basename "$raw").wrk.txt)"
		return 0
	fi
	local req bytes us errs v k
	req=$(field "$line" requests) bytes=$(field "$line" bytes) us=$(field "$line" duration_us)
	if [ -n "$before" ] && [ -n "$after" ]; then
		# The first /stats response is counted too; up to conns x depth
		# responses may be in flight when wrk stops.
		local sent=$((after - before - 1)) slack=$((conns * 16))
		echo "server_counted_responses=$sent" >>"$raw.wrk.txt"
		if [ "$sent" -lt "$req" ] || [ "$sent" -gt $((req + slack)) ]; then
			note "$scen $(label "$name") round $round: wrk counted $req responses, the server sent $sent"
		fi
	fi
	errs=""
	for k in connect read write status timeout; do
		v=$(field "$line" $k)
		[ "$v" = 0 ] || errs+=" $k=$v"
	done
	[ -z "$errs" ] || note "$scen $(label "$name") round $round: wrk errors:$errs (of $req responses)"
	case $scen in
	S4) v=$(awk -v b="$bytes" -v us="$us" 'BEGIN { printf "%.4f", b / (us / 1e6) / 2^30 }') ;;
	*) v=$(awk -v r="$req" -v us="$us" 'BEGIN { printf "%.1f", r / (us / 1e6) }') ;;
	esac
	record "$scen" "$name" "$round" "$v"
	log "$scen $(label "$name") round $round: $v"
}

# S5: 16 concurrent downloads of the big file with curl; aggregate GB/s and
# the server's peak RSS sampled every 50 ms.
run_downloads() { # NAME ROUND
	local name=$1 round=$2 n=16 raw i pids=() peak=0 r t0 t1 alive k
	raw=$out/raw/S5-$name-r$round
	start_server "$name" "$raw.server.log" || return 0
	local base
	base=$(rss_kib $srv_pids)
	t0=$(date +%s%N)
	for i in $(seq $n); do
		taskset -c 1 curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n' \
			"http://127.0.0.1:$srv_port/big.bin" >"$raw.curl.$i" 2>&1 &
		pids+=($!)
	done
	# Every 10 ms: has every curl written its -w line (it does so as it
	# finishes)? The end time is taken from that. RSS every 50 ms.
	k=0
	while :; do
		alive=0
		for ((i = 1; i <= n; i++)); do [ -s "$raw.curl.$i" ] || { alive=1; break; }; done
		[ $alive = 1 ] || break
		if [ $((k % 5)) = 0 ]; then
			r=$(rss_kib $srv_pids)
			[ "$r" -gt "$peak" ] && peak=$r
			# A curl killed by a signal writes nothing; stop when none is left.
			alive=0
			for i in "${pids[@]}"; do kill -0 "$i" 2>/dev/null && { alive=1; break; }; done
			[ $alive = 1 ] || break
		fi
		k=$((k + 1))
		nap 0.01
	done
	t1=$(date +%s%N)
	r=$(rss_kib $srv_pids)
	[ "$r" -gt "$peak" ] && peak=$r
	local ok=0
	for i in "${pids[@]}"; do wait "$i" && ok=$((ok + 1)); done
	stop_server
	local bad=0
	for i in $(seq $n); do
		read -r code size _ <"$raw.curl.$i"
		[ "$code $size" = "200 $big_size" ] || bad=$((bad + 1))
	done
	if [ $bad -gt 0 ] || [ $ok -ne $n ]; then
		note "S5 $(label "$name") round $round: $bad of $n downloads incomplete (raw/$(basename "$raw").curl.*); not recorded"
		return 0
	fi
	local gbs mib
	gbs=$(awk -v n=$n -v s="$big_size" -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f", n * s / (ns / 1e9) / 1e9 }')
	mib=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
	echo "aggregate_GBps=$gbs elapsed_ns=$((t1 - t0)) rss_start_kib=$base peak_rss_kib=$peak" >"$raw.summary.txt"
	record S5 "$name" "$round" "$gbs"
	record S5-RSS "$name" "$round" "$mib"
	log "S5 $(label "$name") round $round: $gbs GB/s, peak RSS $mib MiB"
}

# S6: idle keep-alive connections; bytes of server RSS per connection.
run_idle() { # NAME ROUND
	local name=$1 round=$2 raw line extra=()
	raw=$out/raw/S6-$name-r$round
	idle_extra "$name"
	start_server "$name" "$raw.server.log" "${extra[@]}" || return 0
	taskset -c 1 python3 "$bench/idle.py" --port "$srv_port" -n "$idle_conns" --pids "${srv_pids// /,}" --settle 2 \
		>"$raw.idle.txt" 2>&1
	stop_server
	line=$(grep '^IDLE ' "$raw.idle.txt")
	if [ -z "$line" ]; then
		note "S6 $(label "$name") round $round: the idle client printed no result (raw/$(basename "$raw").idle.txt)"
		return 0
	fi
	local conns failed dropped per
	conns=$(field "$line" conns) failed=$(field "$line" failed) dropped=$(field "$line" dropped)
	per=$(field "$line" bytes_per_conn)
	if [ "$failed" != 0 ] || [ "$dropped" != 0 ]; then
		note "S6 $(label "$name") round $round: $conns idle, $failed failed, $dropped dropped by the server"
	fi
	[ "${#extra[@]}" = 0 ] || echo "${extra[*]}" >"$raw.server-args.txt"
	record S6 "$name" "$round" "$per"
	log "S6 $(label "$name") round $round: $per B/conn ($conns conns)"
}

# Syscalls per request: strace -c -f attached during a wrk -c64 -d2s /ping
# run, a separate step because strace slows the server down many times.
run_syscalls() { # NAME
	local name=$1 raw line st req target
	raw=$out/raw/syscalls-$name
	start_server "$name" "$raw.server.log" || return 0
	target=$srv_pid
	# nginx's master only forks and waits; the worker does the work.
	[ "$name" = nginx ] && target=$(pgrep -P "$srv_pid" | head -1)
	strace -c -f -q -p "$target" -o "$raw.strace.txt" 2>"$raw.strace.err" &
	st=$!
	started+=("$st")
	nap 1
	taskset -c 1 wrk -t1 -c64 -d2s -s "$bench/report.lua" "http://127.0.0.1:$srv_port/ping" >"$raw.wrk.txt" 2>&1
	kill -INT "$st" 2>/dev/null
	wait "$st" 2>/dev/null
	forget "$st"
	stop_server
	line=$(grep '^BENCH ' "$raw.wrk.txt")
	req=$(field "$line" requests)
	if [ -z "$req" ] || [ "$req" = 0 ] || ! grep -q ' total$' "$raw.strace.txt" 2>/dev/null; then
		note "syscalls $(label "$name"): no result (raw/$(basename "$raw").*)"
		return 0
	fi
	# strace -c: "% time seconds usecs/call calls errors syscall"; the
	# errors column is blank when there were none.
	awk -v req="$req" -v name="$name" '
		$NF == "total" { total = $4; next }
		$1 ~ /^[0-9.]+$/ && NF >= 5 { calls[$NF] = $4 }
		END {
			printf "%s\t%d\t%d\t%.2f", name, req, total, total / req
			n = 0
			for (s in calls) order[n++] = s
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
				if (calls[order[j]] > calls[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
			sep = "\t"
			for (i = 0; i < n && i < 6; i++) { printf "%s%s %.2f", sep, order[i], calls[order[i]] / req; sep = ", " }
			printf "\n"
		}' "$raw.strace.txt" >>"$out/syscalls.tsv"
	log "syscalls $(label "$name"): $(cut -f4 <<<"$(tail -1 "$out/syscalls.tsv")") per request"
}

# ---------------------------------------------------------------- main loop
{
	env_head
	echo "kernel: $(uname -r)"
	echo "cpus: $ncpu, $(cpu_model)"
	echo "nginx: $(nginx -v 2>&1 | sed 's/.*version: //')"
	echo "wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
	echo "go: $(go_version)"
	echo "servers: ${servers[*]}"
	echo "scenarios: $scenarios; duration $duration; warmup $warmup; rounds $rounds; idle conns $idle_conns; descriptors $nofile"
	echo "server args: ${server_args:-none}"
} >"$out/environment.txt"
log "results in ${out#"$repo"/}"

n_servers=${#servers[@]}
for scen in "${scen_list[@]}"; do
	cur_scen=$scen
	for round in $(seq "$rounds"); do
		# Rotate the order every round so no server is always first after a restart.
		for k in $(seq 0 $((n_servers - 1))); do
			name=${servers[$(((k + round - 1) % n_servers))]}
			serves "$name" "$scen" || continue
			case $scen in
			S1 | S2 | S3 | S4) run_wrk "$scen" "$name" "$round" ;;
			S5) run_downloads "$name" "$round" ;;
			S6) run_idle "$name" "$round" ;;
			esac
		done
	done
done

: >"$out/syscalls.tsv"
cur_scen=S1
if [ "$syscalls" = 1 ]; then
	for name in http_server http_server-w0 nginx; do run_syscalls "$name"; done
fi

python3 "$bench/table.py" --results "$out" | tee "$out/table.md"
log "raw outputs and table.md in ${out#"$repo"/}"
# Success means this server produced at least one figure; problems with
# individual runs are listed under Notes.
cut -f2 "$tsv" | grep -q '^http_server' || { log "no result for http_server"; exit 1; }
exit 0
