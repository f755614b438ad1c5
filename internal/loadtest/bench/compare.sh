#!/bin/sh
# Compare the loadtest engine with wrk and hey (Debian packages: apt-get
# install -y wrk hey) and vegeta's library, all hitting the same trivial
# loopback server running as its own process, at concurrency 50, in one
# session. Rounds alternate the clients so machine load drifts hit all alike.
#
#   sh internal/loadtest/bench/compare.sh            # 10 s per client, 2 rounds
#   DUR=5 ROUNDS=3 sh internal/loadtest/bench/compare.sh
set -eu
DUR=${DUR:-10}
ROUNDS=${ROUNDS:-2}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
TMP=$(mktemp -d)
trap 'kill "$SRV" 2>/dev/null || true; rm -rf "$TMP"' EXIT INT TERM
cd "$ROOT"
go build -o "$TMP/trivialserver" ./internal/loadtest/bench/trivialserver
go build -o "$TMP/challengectl" ./cmd/challengectl
go test -c -o "$TMP/loadtest.test" ./internal/loadtest
"$TMP/trivialserver" -addr 127.0.0.1:0 >"$TMP/addr" &
SRV=$!
i=0
while [ ! -s "$TMP/addr" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
URL="http://$(head -1 "$TMP/addr")"
echo "server $URL, $DUR s per client, $ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ $r -le "$ROUNDS" ]; do
	wrk=$(wrk -t2 -c50 -d"${DUR}s" "$URL/" | awk '/Requests\/sec/ {print $2}')
	hey=$(hey -z "${DUR}s" -c 50 "$URL/" | awk '/Requests\/sec/ {print $2}')
	eng=$("$TMP/challengectl" loadtest --url "$URL" --api-key bench --path / --concurrency 50 --duration "${DUR}s" -q -o json |
		awk -F': ' '/"rate"/ {gsub(",", "", $2); print $2}')
	veg=$(LOADTEST_BENCH_URL=$URL "$TMP/loadtest.test" -test.run '^$' -test.bench Vegeta -test.benchtime "${DUR}s" |
		awk '/req\/s/ {print $(NF-1)}')
	printf 'round %d  wrk %8.0f  hey %8.0f  challengectl %8.0f  vegeta-lib %8.0f  | engine/hey %.2f  engine/wrk %.2f\n' \
		"$r" "$wrk" "$hey" "$eng" "$veg" "$(echo "$eng / $hey" | bc -l)" "$(echo "$eng / $wrk" | bc -l)"
	r=$((r + 1))
done
