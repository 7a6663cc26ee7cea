#!/usr/bin/env bash
# Aggregate throughput and peak memory of N concurrent 1 GiB downloads on
# loopback, http_server against nginx (one worker, sendfile on) serving the
# same file in the same run, rounds alternated because the machine's speed
# drifts. Needs curl and nginx (Debian: nginx-light). Not part of make test.
#
#   scripts/download-bench.sh [concurrency ...]     default: 4 16
set -euo pipefail
cd "$(dirname "$0")/.."
make -s all
command -v nginx >/dev/null || { echo "nginx not installed (apt-get install nginx-light)" >&2; exit 1; }

levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(4 16)
rounds=${ROUNDS:-2}
work=$(mktemp -d)
trap 'kill $srv_pid $ngx_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www"
# Random bytes, so that nothing can be special-cased; the page cache holds it.
head -c 1G /dev/urandom > "$work/www/big.bin"
cat "$work/www/big.bin" > /dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

srv_port=$(free_port)
./http_server --port "$srv_port" --root "$work/www" > "$work/srv.log" 2>&1 &
srv_pid=$!

ngx_port=$(free_port)
cat > "$work/nginx.conf" <<CONF
user root root;
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    server {
        listen 127.0.0.1:$ngx_port;
        root $work/www;
    }
}
CONF
nginx -c "$work/nginx.conf" &
ngx_pid=$!
sleep 1
ngx_worker=$(pgrep -P "$ngx_pid" | head -1)

# rss_kib PID...: resident memory now, summed over the processes.
rss_kib() { local t=0 p; for p in "$@"; do t=$((t + $(awk '/^VmRSS/ {print $2}' /proc/$p/status))); done; echo $t; }

# run NAME PORT N PIDS...: N concurrent downloads; prints MB/s and peak RSS.
run() {
	local name=$1 port=$2 n=$3; shift 3
	local peak=0 start end i
	start=$(date +%s.%N)
	for i in $(seq "$n"); do
		curl -s -o /dev/null "http://127.0.0.1:$port/big.bin" &
	done
	while [ -n "$(jobs -rp | grep -v -e "^$srv_pid\$" -e "^$ngx_pid\$")" ]; do
		r=$(rss_kib "$@"); [ "$r" -gt "$peak" ] && peak=$r
		sleep 0.05
	done
	end=$(date +%s.%N)
	awk -v n="$n" -v s="$start" -v e="$end" -v name="$name" -v peak="$peak" \
		'BEGIN { printf "%-12s %3d downloads  %7.0f MB/s aggregate  %6.1f s  sampled peak RSS %5.1f MiB\n", name, n, n*1024/(e-s), e-s, peak/1024 }'
}

echo "file: 1 GiB of random bytes, page-cached; loopback; $(nproc) CPUs; curl clients"
for n in "${levels[@]}"; do
	for r in $(seq "$rounds"); do
		run http_server "$srv_port" "$n" "$srv_pid"
		run nginx "$ngx_port" "$n" "$ngx_pid" "$ngx_worker"
	done
done
hwm() { awk '/^VmHWM/ {print $2}' /proc/$1/status; }
echo "high-water RSS over the whole run: http_server $(( $(hwm $srv_pid) / 1024 )) MiB;" \
	"nginx master $(( $(hwm $ngx_pid) / 1024 )) MiB + worker $(( $(hwm $ngx_worker) / 1024 )) MiB"
