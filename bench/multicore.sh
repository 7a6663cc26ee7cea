#!/usr/bin/env bash
# Every core: servers with their default multi-core settings, nothing
# pinned, sharing all CPUs with wrk -t2 -c64. Rounds alternate the order
# of the servers; prints each run and, per scenario, each server's median
# req/s and the median of its per-round ratio to the first server.
#
#   bench/multicore.sh [--rounds 3] [--duration 10s] [--scenarios S1U,S3U]
#                      SERVER...
#
# SERVER is NAME=PATH for a build of this server with its defaults (add
# flags after a colon: loops1=./http_server:--loops 1), nginx (nginx with
# worker_processes auto; open_file_cache for files) or gnet (the gnet v2
# peer with WithMulticore; /ping only, built into bench/bin/gnet from
# bench/peers). S1U: GET /ping; S3U: a 4 KiB file.
set -uo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

rounds=3 duration=10s scenarios=S1U,S3U
servers=()
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--duration) duration=$2; shift ;;
	--scenarios) scenarios=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "multicore.sh: unknown flag $1" >&2; exit 2 ;;
	*) servers+=("$1") ;;
	esac
	shift
done
[ ${#servers[@]} -gt 0 ] || { usage; exit 2; }
command -v wrk >/dev/null || { echo "multicore.sh: wrk is needed (apt-get install wrk)" >&2; exit 2; }
bench=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/root" "$work/nginx-tmp"
head -c 4096 /dev/urandom >"$work/root/4k.bin"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

nginx_conf() { # PORT
	cat <<CONF
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=1000 inactive=60s;
    keepalive_requests 1000000000;
    default_type application/octet-stream;
    client_body_temp_path $work/nginx-tmp;
    server {
        listen 127.0.0.1:$1 reuseport;
        root $work/root;
        location = /ping { default_type text/plain; return 200 "pong"; }
    }
}
CONF
}

# run_one SERVER SCENARIO: prints req/s, or "-" where the server cannot serve it.
run_one() {
	local spec=$1 scen=$2 name bin args="" port path
	name=${spec%%=*} bin=${spec#*=}
	case $bin in *:*) args=${bin#*:} bin=${bin%%:*} ;; esac
	case $scen in
	S1U) path=/ping ;;
	S3U) path=/4k.bin ;;
	*) echo "multicore.sh: unknown scenario $scen" >&2; exit 2 ;;
	esac
	port=$(free_port)
	case $name in
	nginx)
		nginx_conf "$port" >"$work/nginx.conf"
		nginx -e "$work/nginx-error.log" -p "$work/" -c "$work/nginx.conf" >/dev/null 2>&1 &
		;;
	gnet)
		[ "$scen" = S1U ] || { echo -; return; }
		"$bench/bin/gnet" --port "$port" --multicore >/dev/null 2>&1 &
		;;
	*)
		# shellcheck disable=SC2086 # args is a list of flags
		"$bin" --port "$port" --root "$work/root" --max-requests 0 $args >/dev/null 2>&1 &
		;;
	esac
	pid=$!
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/ping" && break; sleep 0.1; done
	wrk -t2 -c64 -d1s "http://127.0.0.1:$port$path" >/dev/null 2>&1
	wrk -t2 -c64 -d"$duration" -s "$bench/report.lua" "http://127.0.0.1:$port$path" 2>&1 |
		awk '/^BENCH /{for(i=2;i<=NF;i++){split($i,kv,"="); f[kv[1]]=kv[2]} printf "%.0f\n", f["requests"]/(f["duration_us"]/1e6)}'
	kill "$pid"; wait "$pid" 2>/dev/null; pid=""
}

declare -A runs ratios
for round in $(seq "$rounds"); do
	order=("${servers[@]}")
	if [ $((round % 2)) = 0 ]; then
		order=()
		for ((i = ${#servers[@]} - 1; i >= 0; i--)); do order+=("${servers[$i]}"); done
	fi
	for scen in ${scenarios//,/ }; do
		declare -A this=()
		for s in "${order[@]}"; do
			rps=$(run_one "$s" "$scen")
			echo "round $round $scen ${s%%=*}: $rps req/s"
			this[$s]=$rps
			runs[$scen.$s]+="$rps "
		done
		base=${this[${servers[0]}]}
		for s in "${servers[@]}"; do
			[ "${this[$s]}" = - ] && continue
			ratios[$scen.$s]+="$(echo "${this[$s]} / $base" | bc -l) "
		done
	done
done

median() { tr ' ' '\n' | grep -v -e '^$' -e '^-$' | sort -n | awk '{v[NR]=$1} END{if(NR==0) print "-"; else if(NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "| scenario | server | median req/s | median of round ratio to ${servers[0]%%=*} | runs |"
echo "| --- | --- | ---: | ---: | --- |"
for scen in ${scenarios//,/ }; do
	for s in "${servers[@]}"; do
		m=$(echo "${runs[$scen.$s]}" | median)
		[ "$m" = - ] && continue
		printf '| %s | %s | %.0f | %.3fx | %s |\n' "$scen" "${s%%=*}" "$m" "$(echo "${ratios[$scen.$s]}" | median)" "${runs[$scen.$s]}"
	done
done
