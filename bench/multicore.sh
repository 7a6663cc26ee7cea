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
# worker_processes auto; open_file_cache for files; gzip on, level 6, for
# text), caddy (Caddy 2 with its defaults, file_server and encode gzip) or
# gnet (the gnet v2 peer with WithMulticore; /ping only, built into
# bench/bin/gnet from bench/peers). S1U: GET /ping; S3U: a 4 KiB file;
# GZU: a 64 KiB CSS file with Accept-Encoding: gzip (after the run, each
# server's response size and whether it decompresses to the file are
# printed).
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

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
chmod 755 "$work" # nginx's workers run as nobody: a private directory would get 403s
mkdir -p "$work/root" "$work/nginx-tmp"
head -c 4096 /dev/urandom >"$work/root/4k.bin"
# 64 KiB of CSS-like rules, the same bytes every run: about 4x with gzip -6.
python3 - "$work/root/site.css" <<'PY'
import random, sys
r = random.Random(64)
props = ["color", "margin", "padding", "display", "border", "font-size", "line-height",
         "background", "width", "height", "position", "flex", "text-align", "opacity"]
vals = ["0", "auto", "none", "block", "inline-block", "solid 1px #ddd", "#333", "1.5",
        "100%", "relative", "absolute", "center", "left", "0.5"]
out = []
while sum(map(len, out)) < 65536:
    sel = ".%s-%d" % (r.choice(["nav", "btn", "card", "grid", "list", "item", "hero", "menu"]), r.randrange(400))
    rules = "".join("  %s: %s;\n" % (r.choice(props), r.choice(vals)) for _ in range(r.randint(2, 6)))
    out.append("%s {\n%s}\n" % (sel, rules))
open(sys.argv[1], "w").write("".join(out)[:65536])
PY

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
    gzip on;
    gzip_comp_level 6;
    gzip_types text/css application/javascript application/json image/svg+xml;
    keepalive_requests 1000000000;
    types { text/css css; application/javascript js; text/html html; }
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

caddy_conf() { # PORT
	cat <<CONF
{
	admin off
	auto_https off
	storage file_system $work/caddy-data
}
http://127.0.0.1:$1 {
	bind 127.0.0.1
	root * $work/root
	respond /ping "pong" 200
	encode gzip
	file_server
}
CONF
}

# run_one SERVER SCENARIO: prints req/s, or "-" where the server cannot serve it.
run_one() {
	local spec=$1 scen=$2 name bin args="" port path hdr="X-Bench: 1"
	name=${spec%%=*} bin=${spec#*=}
	case $bin in *:*) args=${bin#*:} bin=${bin%%:*} ;; esac
	case $scen in
	S1U) path=/ping ;;
	S3U) path=/4k.bin ;;
	GZU) path=/site.css hdr="Accept-Encoding: gzip" ;;
	*) echo "multicore.sh: unknown scenario $scen" >&2; exit 2 ;;
	esac
	port=$(free_port)
	case $name in
	nginx)
		nginx_conf "$port" >"$work/nginx.conf"
		nginx -e "$work/nginx-error.log" -p "$work/" -c "$work/nginx.conf" >/dev/null 2>&1 &
		;;
	caddy)
		caddy_conf "$port" >"$work/Caddyfile"
		HOME=$work XDG_DATA_HOME=$work XDG_CONFIG_HOME=$work caddy run --adapter caddyfile --config "$work/Caddyfile" >"$work/caddy.log" 2>&1 &
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
	# What the server sends, checked before it is timed: a server that
	# answers with an error is not measured.
	local code
	code=$(curl -s -H "$hdr" -D "$work/resp.head" -o "$work/resp.body" -w '%{http_code}' "http://127.0.0.1:$port$path")
	if [ "$scen" = GZU ]; then
		local decoded="NOT the file"
		if gzip -dc "$work/resp.body" 2>/dev/null | cmp -s - "$work/root/site.css"; then
			decoded="decompresses to the file"
		else
			code="$code, not compressed"
		fi
		echo "$name $scen: $(grep -i '^content-encoding' "$work/resp.head" | tr -d '\r') $(stat -c %s "$work/resp.body") bytes, $decoded" >&2
	fi
	if [ "$code" != 200 ]; then
		echo "$name $scen: status $code, not measured" >&2
		echo -
		kill "$pid"; wait "$pid" 2>/dev/null; pid=""
		return
	fi
	wrk -t2 -c64 -d1s -H "$hdr" "http://127.0.0.1:$port$path" >/dev/null 2>&1
	wrk -t2 -c64 -d"$duration" -H "$hdr" -s "$bench/report.lua" "http://127.0.0.1:$port$path" 2>&1 |
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
