#!/usr/bin/env bash
# Cold downloads on a slow disk: concurrent full downloads of distinct files
# that are not in the page cache, from a disk whose reads are throttled for
# the server (blkio cgroup), while one keep-alive client sends GET /ping
# every 5 ms. Prints, per server and round, the downloads' aggregate MiB/s
# and the /ping latencies (p50, p99, max). The server runs on CPU 0, every
# client on CPU 1; servers alternate round by round. Root only.
#
#   bench/cold.sh [--mbps 150] [--files 4] [--size 512M] [--rounds 2]
#                 [--dir DIR] SERVER...
#
# SERVER is NAME=PATH for a build of this server (e.g. new=./http_server),
# nginx-aio (sendfile on; aio threads) or nginx-sendfile (sendfile on, no
# aio). --mbps 0 leaves the disk unthrottled. DIR (default: a directory
# under /var/tmp) must be on a real disk, not tmpfs, for eviction to work.
set -uo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

mbps=150 nfiles=4 size=512M rounds=2 dir=/var/tmp/http_server-cold
servers=()
while [ $# -gt 0 ]; do
	case $1 in
	--mbps) mbps=$2; shift ;;
	--files) nfiles=$2; shift ;;
	--size) size=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--dir) dir=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "cold.sh: unknown flag $1" >&2; exit 2 ;;
	*) servers+=("$1") ;;
	esac
	shift
done
[ ${#servers[@]} -gt 0 ] || { usage; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "cold.sh: run as root (cgroup throttle, page-cache eviction)" >&2; exit 2; }
bench=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$dir/root"
for i in $(seq "$nfiles"); do
	f=$dir/root/cold$i.bin
	[ -f "$f" ] && [ "$(stat -c %s "$f")" = "$(numfmt --from=iec "$size")" ] && continue
	head -c "$size" /dev/urandom >"$f"
done
sync
echo pong >"$dir/root/ping" # nginx serves /ping from this file

# The throttle: a blkio (cgroup v1) group, or io.max (v2), on the disk
# under the files.
dev=$(lsblk -no MAJ:MIN "$(findmnt -no SOURCE --target "$dir")" | head -1 | tr -d ' ')
cg=""
if [ "$mbps" != 0 ]; then
	if [ -d /sys/fs/cgroup/blkio ]; then
		cg=/sys/fs/cgroup/blkio/http_server-cold
		mkdir -p "$cg"
		echo "$dev $((mbps * 1000 * 1000))" >"$cg/blkio.throttle.read_bps_device"
	elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		cg=/sys/fs/cgroup/http_server-cold
		mkdir -p "$cg"
		echo "+io" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
		echo "$dev rbps=$((mbps * 1000 * 1000))" >"$cg/io.max"
	else
		echo "cold.sh: no cgroup io controller here; use --mbps 0" >&2
		exit 2
	fi
fi

evict() {
	python3 - "$@" <<'PY'
import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
PY
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

nginx_conf() { # PORT AIO
	cat <<CONF
user root;
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    $([ "$2" = 1 ] && echo "aio threads;")
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path $dir/nginx-tmp;
    server {
        listen 127.0.0.1:$1;
        root $dir/root;
    }
}
CONF
}

# run_one SERVER: one measured run; prints a result line.
run_one() {
	local spec=$1 name bin port pid
	name=${spec%%=*} bin=${spec#*=}
	port=$(free_port)
	evict "$dir"/root/cold*.bin
	local launch
	case $name in
	nginx-aio | nginx-sendfile)
		mkdir -p "$dir/nginx-tmp"
		nginx_conf "$port" "$([ "$name" = nginx-aio ] && echo 1 || echo 0)" >"$dir/nginx.conf"
		launch="exec taskset -c 0 nginx -e $dir/nginx-error.log -p $dir/ -c $dir/nginx.conf"
		;;
	# --max-requests 0: the /ping client keeps one connection, as it does with nginx.
	*) launch="exec taskset -c 0 $(realpath "$bin") --port $port --root $dir/root --max-requests 0" ;;
	esac
	# The server joins the throttled group before it starts, children too.
	sh -c "${cg:+echo \$\$ >$cg/cgroup.procs;} $launch" >"$dir/server.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/ping" && break; sleep 0.05; done
	rm -f "$dir/stop" "$dir/ready"
	taskset -c 1 python3 "$bench/pinger.py" "$port" "$dir/stop" "$dir/ready" >"$dir/ping.txt" &
	local pinger=$! start end
	# The downloads start once the pinger measures: on a fast disk they
	# are over in a second or two.
	for _ in $(seq 100); do [ -e "$dir/ready" ] && break; sleep 0.02; done
	start=$(date +%s.%N)
	for i in $(seq "$nfiles"); do
		taskset -c 1 curl -s -o /dev/null -w '%{size_download}\n' "http://127.0.0.1:$port/cold$i.bin" >"$dir/dl$i.txt" &
	done
	wait $(jobs -p | grep -v -e "^$pid\$" -e "^$pinger\$")
	end=$(date +%s.%N)
	touch "$dir/stop"
	wait "$pinger"
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	local bytes
	bytes=$(cat "$dir"/dl*.txt | paste -sd+ | bc)
	printf '%s %s\n' "$name" "$(awk -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN{printf "aggregate_mib_s=%.1f bytes=%.0f", b/(e-s)/1048576, b}') $(cat "$dir/ping.txt")"
}

echo "# $nfiles x $size cold downloads, disk read limit ${mbps} MB/s (0: none), /ping every 5 ms"
for round in $(seq "$rounds"); do
	order=("${servers[@]}")
	if [ $((round % 2)) = 0 ]; then # reverse the order in even rounds
		order=()
		for ((i = ${#servers[@]} - 1; i >= 0; i--)); do order+=("${servers[$i]}"); done
	fi
	for s in "${order[@]}"; do
		echo "round $round $(run_one "$s")"
	done
done
[ -n "$cg" ] && rmdir "$cg" 2>/dev/null
exit 0
