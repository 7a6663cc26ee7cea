#!/usr/bin/env bash
# A/B: two builds of this server on the same scenarios in the same run,
# rounds alternated (A then B in odd rounds, B then A in even ones), the
# server pinned to CPU 0 and wrk -t1 to CPU 1. Prints each run and, per
# scenario, the medians and B/A. Use it to check that a change loses no
# speed against the commit before it:
#
#   git stash; make; cp http_server /tmp/before; git stash pop; make
#   bench/ab.sh /tmp/before ./http_server [--rounds 4] [--duration 10s]
#              [--scenarios S1,S3] [--server-args "--workers 4"]
#
# S1: GET /ping, 64 keep-alive connections. S3: a 4 KiB file, 64 connections.
# S4: a 1 MiB file, 16 connections (req/s; times 1 MiB for the throughput).
# S5: 16 concurrent curl downloads of a 1 GiB file (cached); its figure is
# MB/s, not req/s, and --duration does not apply.
set -uo pipefail

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

[ $# -ge 2 ] || { usage; exit 2; }
bin_a=$(realpath "$1") bin_b=$(realpath "$2")
shift 2
rounds=4 duration=10s scenarios=S1,S3 server_args=""
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--duration) duration=$2; shift ;;
	--scenarios) scenarios=$2; shift ;;
	--server-args) server_args=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "ab.sh: unknown flag $1" >&2; exit 2 ;;
	esac
	shift
done
command -v wrk >/dev/null || { echo "ab.sh: wrk is needed (apt-get install wrk)" >&2; exit 2; }
bench=$(cd "$(dirname "$0")" && pwd)

root=$(mktemp -d)
trap 'rm -rf "$root"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
head -c 4096 /dev/urandom >"$root/4k.bin"
head -c 1048576 /dev/urandom >"$root/1m.bin"
case $scenarios in *S5*) head -c 1G /dev/zero >"$root/1g.bin" ;; esac

# s5 URL: 16 concurrent downloads of URL on CPU 1; prints their MB/s,
# or 0 if one came back short.
s5() {
	local start end i sizes
	start=$(date +%s.%N)
	for i in $(seq 16); do
		taskset -c 1 curl -s -o /dev/null -w '%{size_download}\n' "$1" >"$root/s5.$i" &
	done
	wait $(jobs -p | grep -v "^$pid\$")
	end=$(date +%s.%N)
	sizes=$(cat "$root"/s5.* | sort -u)
	[ "$sizes" = 1073741824 ] || { echo 0; return; }
	awk -v s="$start" -v e="$end" 'BEGIN{printf "%.0f\n", 16 * 1073741824 / (e - s) / 1e6}'
}

# run_one BIN SCENARIO: prints requests per second (S5: MB/s).
run_one() {
	local bin=$1 scen=$2 path port conns=64
	case $scen in
	S1) path=/ping ;;
	S3) path=/4k.bin ;;
	S4) path=/1m.bin conns=16 ;;
	S5) path=/1g.bin ;;
	*) echo "ab.sh: unknown scenario $scen" >&2; exit 2 ;;
	esac
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	# shellcheck disable=SC2086 # server_args is a list of flags
	taskset -c 0 "$bin" --port "$port" --root "$root" $server_args >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/ping" && break; sleep 0.1; done
	if [ "$scen" = S5 ]; then
		s5 "http://127.0.0.1:$port$path"
		kill "$pid"; wait "$pid" 2>/dev/null; pid=""
		return
	fi
	taskset -c 1 wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$port$path" >/dev/null 2>&1
	taskset -c 1 wrk -t1 -c"$conns" -d"$duration" -s "$bench/report.lua" "http://127.0.0.1:$port$path" 2>&1 |
		awk '/^BENCH /{for(i=2;i<=NF;i++){split($i,kv,"="); f[kv[1]]=kv[2]} printf "%.0f\n", f["requests"]/(f["duration_us"]/1e6)}'
	kill "$pid"; wait "$pid" 2>/dev/null; pid=""
}

declare -A runs ratios
for round in $(seq "$rounds"); do
	order="A B"; [ $((round % 2)) = 0 ] && order="B A"
	for scen in ${scenarios//,/ }; do
		for side in $order; do
			bin=$bin_a; [ "$side" = B ] && bin=$bin_b
			rps=$(run_one "$bin" "$scen")
			echo "round $round $scen $side: $rps $([ "$scen" = S5 ] && echo MB/s || echo req/s)"
			runs[$scen.$side]+="$rps "
			eval "last_$side=$rps"
		done
		# The two runs of a round are next to each other in time, so their
		# ratio is the least touched by the machine's drift.
		ratios[$scen]+="$(echo "$last_B / $last_A" | bc -l) "
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END{if(NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "| scenario | A median | B median | B/A of medians | median of round B/A | A runs | B runs |"
echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
for scen in ${scenarios//,/ }; do
	a=$(echo "${runs[$scen.A]}" | median) b=$(echo "${runs[$scen.B]}" | median)
	r=$(echo "${ratios[$scen]}" | median)
	printf '| %s | %.0f | %.0f | %.3fx | %.3fx | %s | %s |\n' "$scen" "$a" "$b" "$(echo "$b / $a" | bc -l)" "$r" "${runs[$scen.A]}" "${runs[$scen.B]}"
done
