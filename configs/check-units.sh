#!/bin/sh
# Static checks of the systemd units in this directory (run by `make check-units`
# and `make test`). Needs no running systemd and nothing installed:
#
#   1. `systemd-analyze verify` on http_server.service and http_server.socket
#      must print nothing at all. verify exits 0 even after warnings such as
#      "Unknown key" or a value it cannot parse, so any output is a failure.
#   2. `systemd-analyze security --offline=true` must rate the service at
#      MAX_EXPOSURE (2.0) or lower.
#
# verify insists that every Exec*= command exists and is executable, and the
# unit names /usr/local/bin/http_server, which a fresh clone has not
# installed. So verify runs on temporary copies in which that path is
# rewritten the way `make install` rewrites it, to the binary built by
# `make all` (or $HTTP_SERVER_BIN); when no binary is built yet, and for any
# other Exec*= command missing on this machine (/bin/kill comes from procps),
# an executable stub stands in. Nothing else in the copies changes, and the
# copies keep the real names so that the socket finds its service.
#
# Without systemd-analyze (not a systemd system) the check is skipped, exit 0.
set -eu

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "check-units: systemd-analyze not found, unit checks skipped"
	exit 0
fi

MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
here=$(cd "$(dirname "$0")" && pwd)
units="http_server.service http_server.socket"
# Plain output: no pager, no colours, no hyperlinks.
SYSTEMD_PAGER=cat
SYSTEMD_COLORS=0
SYSTEMD_URLIFY=0
export SYSTEMD_PAGER SYSTEMD_COLORS SYSTEMD_URLIFY

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/stub"

bin=${HTTP_SERVER_BIN:-$here/../http_server}
if [ -f "$bin" ] && [ -x "$bin" ]; then
	bindir=$(cd "$(dirname "$bin")" && pwd)
	[ "$(basename "$bin")" = http_server ] || { ln -s "$bin" "$tmp/stub/http_server"; bindir=$tmp/stub; }
else
	echo "check-units: no built ./http_server, verifying with a stub in its place"
	printf '#!/bin/sh\nexit 0\n' >"$tmp/stub/http_server"
	chmod 0755 "$tmp/stub/http_server"
	bindir=$tmp/stub
fi

for u in $units; do
	[ -f "$here/$u" ] || { echo "check-units: $here/$u missing"; exit 1; }
	# The same substitution as the install target (BINDIR=$bindir).
	sed "s|/usr/local/bin/http_server|$bindir/http_server|g" "$here/$u" >"$tmp/$u"
done
# The template (several instances) is verified as one of its instances.
sed "s|/usr/local/bin/http_server|$bindir/http_server|g" "$here/http_server@.service" >"$tmp/http_server@8081.service"
units="$units http_server@8081.service"
grep -q "^ExecStart=$bindir/http_server " "$tmp/http_server.service" || {
	echo "check-units: ExecStart= of http_server.service does not start /usr/local/bin/http_server;"
	echo "            make install rewrites that exact path to \$(BINDIR)"
	exit 1
}

# Any other absolute Exec*= command that this machine lacks gets a stub.
for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' "$tmp"/*.service | sort -u); do
	if [ ! -x "$cmd" ]; then
		stub=$tmp/stub/$(basename "$cmd")
		printf '#!/bin/sh\nexit 0\n' >"$stub"
		chmod 0755 "$stub"
		sed -i "s#=\([-@:+!]*\)$cmd\( \|\$\)#=\1$stub\2#" "$tmp/http_server.service" "$tmp/http_server@8081.service"
		echo "check-units: $cmd is not on this machine, verifying with a stub in its place"
	fi
done

status=0

# 1. verify
out=$(cd "$tmp" && systemd-analyze verify --man=no $units 2>&1) || status=1
if [ -n "$out" ]; then
	# Report the configs/ file, not the temporary copy.
	printf '%s\n' "$out" | sed "s|$tmp/|configs/|g"
	status=1
fi
if [ "$status" -eq 0 ]; then
	echo "check-units: systemd-analyze verify $units: clean"
else
	echo "check-units: systemd-analyze verify $units: FAILED (see above)"
fi

# 2. security (offline: the unit file is analysed as written, nothing loaded)
report=$(cd "$here" && systemd-analyze security --offline=true --no-pager http_server.service 2>&1) || true
exposure=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for http_server\.service: *\([0-9][0-9.]*\).*/\1/p')
if [ -z "$exposure" ]; then
	printf '%s\n' "$report"
	echo "check-units: systemd-analyze security printed no exposure level"
	exit 1
fi
# What is still exposed, for the record ("✗", or "-" outside UTF-8 locales).
printf '%s\n' "$report" | grep -E '^(✗|-) [A-Za-z]' | sed 's/  */ /g; s/^/  /' || true
if awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 <= m + 0) }'; then
	echo "check-units: systemd-analyze security http_server.service: exposure $exposure (limit $MAX_EXPOSURE)"
else
	echo "check-units: systemd-analyze security http_server.service: exposure $exposure is above $MAX_EXPOSURE: FAILED"
	status=1
fi

# The template's instances are held to the same limit.
cp "$here/http_server@.service" "$tmp/rate@8081.service"
t_report=$(cd "$tmp" && systemd-analyze security --offline=true --no-pager "$tmp/rate@8081.service" 2>&1) || true
t_exposure=$(printf '%s\n' "$t_report" | sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9.]*\).*/\1/p')
if [ -n "$t_exposure" ] && awk -v e="$t_exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 <= m + 0) }'; then
	echo "check-units: systemd-analyze security http_server@.service: exposure $t_exposure (limit $MAX_EXPOSURE)"
else
	printf '%s\n' "$t_report" | tail -n 5
	echo "check-units: systemd-analyze security http_server@.service: exposure '$t_exposure' above $MAX_EXPOSURE or missing: FAILED"
	status=1
fi

exit "$status"
