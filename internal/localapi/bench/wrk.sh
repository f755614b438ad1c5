#!/bin/sh
# Throughput of the real `challengectl local` (gateway + Runtime API +
# Lambda worker processes, limits raised) measured from outside by wrk
# (Debian package: apt-get install -y wrk), next to wrk against a trivial
# loopback server in the same session. The ratio between the two says how
# the stack compares with what this machine's loopback HTTP can do, so
# figures from machines of different speed can be compared. Rounds
# alternate, so machine load drifts hit all alike.
#
#   sh internal/localapi/bench/wrk.sh                  # 10 s each, 2 rounds
#   DUR=5 ROUNDS=3 WORKERS="2 4 8" sh internal/localapi/bench/wrk.sh
set -eu
DUR=${DUR:-10}
ROUNDS=${ROUNDS:-2}
WORKERS=${WORKERS:-2 4}
CONC=${CONC:-32}
KEY=wrk-bench-key-0123456789abcdef
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
TMP=$(mktemp -d)
SRV=
STACK=
trap 'kill "$SRV" 2>/dev/null || true; kill -INT "$STACK" 2>/dev/null || true; rm -rf "$TMP"' EXIT INT TERM
cd "$ROOT"
go build -o "$TMP/trivialserver" ./internal/loadtest/bench/trivialserver
go build -o "$TMP/challengectl" ./cmd/challengectl
go build -o "$TMP/bootstrap" ./lambda
"$TMP/trivialserver" -addr 127.0.0.1:0 >"$TMP/addr" &
SRV=$!

wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
rps() { awk '/Requests\/sec/ {print $2}'; }

wait_file "$TMP/addr"
TRIVIAL="http://$(head -1 "$TMP/addr")/"
echo "$DUR s per run, concurrency $CONC, $ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	base=$(wrk -t2 -c"$CONC" -d"${DUR}s" "$TRIVIAL" | rps)
	line=$(printf 'round %d  trivial server %8.0f req/s' "$r" "$base")
	for w in $WORKERS; do
		rm -f "$TMP/url"
		"$TMP/challengectl" local --binary "$TMP/bootstrap" --addr 127.0.0.1:0 --url-file "$TMP/url" \
			--api-key "$KEY" --workers "$w" --rate 1e9 --burst 1000000000 \
			--key-rate 1e9 --key-burst 1000000000 --quota 1000000000 >/dev/null 2>"$TMP/local.err" &
		STACK=$!
		wait_file "$TMP/url"
		url=$(head -1 "$TMP/url")
		wrk -t2 -c"$CONC" -d1s -H "x-api-key: $KEY" "$url/health" >/dev/null # warm up
		got=$(wrk -t2 -c"$CONC" -d"${DUR}s" -H "x-api-key: $KEY" "$url/health" | rps)
		kill -INT "$STACK"
		wait "$STACK" || true
		STACK=
		line="$line  | workers=$w $(printf '%6.0f req/s (%.3f of trivial)' "$got" "$(echo "$got / $base" | bc -l)")"
	done
	echo "$line"
	r=$((r + 1))
done
