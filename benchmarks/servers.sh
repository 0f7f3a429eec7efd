#!/usr/bin/env bash
# Side by side: the same send on each HTTP server setting of `ipyy-mock serve`, with wrk (docs/server.md).
#
#   bash benchmarks/servers.sh [ROUNDS] [SECONDS] [CONNECTIONS]      (default 3 rounds, 10 s, 16 connections)
#
# Every setting runs at once on its own port; the rounds interleave them (setting 1, 2, 3 ..., then again),
# so a noisy shared machine hits all of them alike. Each line: setting, surface, requests/s, p99, errors.
# Then the bare servers, without the mock: the WSGI app of benchmarks/raw_app.py on gunicorn gthread,
# behind the mock's RSGI edge on granian, and on granian's own WSGI interface (what the edge costs).
# Loopback only; every run is bounded by SECONDS; the servers are stopped at the end.
set -euo pipefail
ROUNDS=${1:-3}; SECS=${2:-10}; CONNS=${3:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(dirname "$(command -v python 2>/dev/null || true)")
[ -x "$HERE/../.venv/bin/ipyy-mock" ] && BIN="$HERE/../.venv/bin"
command -v wrk >/dev/null || { echo "servers.sh: needs wrk (apt-get install -y wrk)" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN/python" - "$WORK" "$HERE" <<'EOF'
import sys
from pathlib import Path
work, here = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, here)
import bench  # the benchmark's own request bodies and wrk script
(work / "soap.body").write_bytes(bench.soap_envelope(bench.MSISDN))
(work / "http.body").write_bytes(bench.http_form(bench.MSISDN))
bench.wrk_script(work / "soap.lua", work / "soap.body", {"Content-Type": bench.SOAP_CTYPE, "SOAPAction": bench.SOAP_ACTION})
bench.wrk_script(work / "http.lua", work / "http.body", {"Content-Type": bench.FORM_CTYPE})
(work / "raw_edge.py").write_text("from ipyy_mock.server.edge import Edge\nfrom raw_app import app\n"
                                  "edge = Edge(app, max_body=4 << 20, body_timeout=15)\n")
EOF

port=18400
NAMES=(); PORTS=()
start_mock() {  # name, serve flags...
    local name=$1; shift; port=$((port + 1))
    "$BIN/ipyy-mock" account add bench --password bench-pass-1 --balance 100000000 --db "$WORK/$name.db" >/dev/null
    setsid "$BIN/ipyy-mock" serve --port "$port" --db "$WORK/$name.db" "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!); NAMES+=("$name"); PORTS+=("$port")
}
start_mock "gunicorn-2x2-fsync(old)" --server gunicorn --workers 2 --threads 2 --fsync
start_mock "gunicorn-2x2" --server gunicorn --workers 2 --threads 2
start_mock "granian-2x1-fsync" --workers 2 --threads 1 --fsync
start_mock "granian-2x1(new)" --workers 2 --threads 1
start_mock "granian-2x2" --workers 2 --threads 2

RAW_NAMES=(); RAW_PORTS=()
raw() {  # name, command with PORT in it
    local name=$1; shift; port=$((port + 1))
    local cmd=("${@//PORT/$port}")
    (cd "$HERE" && PYTHONPATH="$WORK:$HERE" exec setsid "${cmd[@]}" >"$WORK/raw-$name.log" 2>&1) &
    PIDS+=($!); RAW_NAMES+=("$name"); RAW_PORTS+=("$port")
}
raw "gunicorn-gthread-2x2" "$BIN/gunicorn" -k gthread -w 2 --threads 2 --keep-alive 5 -b 127.0.0.1:PORT raw_app:app
raw "granian-edge-2x1" "$BIN/granian" --interface rsgi --workers 2 --http 1 --no-ws --log-level warning --port PORT raw_edge:edge
raw "granian-wsgi-2x1" "$BIN/granian" --interface wsgi --workers 2 --blocking-threads 1 --http 1 --log-level warning --port PORT raw_app:app

wait_up() {  # port
    for _ in $(seq 300); do
        curl -s -o /dev/null "http://127.0.0.1:$1/WebService.asmx?WSDL" && return 0
        sleep 0.2
    done
    echo "servers.sh: nothing answers on port $1" >&2; return 1
}
for p in "${PORTS[@]}" "${RAW_PORTS[@]}"; do wait_up "$p"; done

one() {  # name, port, surface
    local path=/WebService.asmx; [ "$3" = http ] && path=/I18NSms.aspx
    wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s -s "$WORK/$3.lua" "http://127.0.0.1:$2$path" | grep BENCHJSON |
        python3 -c "import sys,json; d=json.loads(sys.stdin.read().split(' ',1)[1]); e=sum(d[k] for k in ('connect','read','write','status','timeout'));
print(f'{sys.argv[1]:26} {sys.argv[2]:5} {d[\"requests\"]/d[\"duration_us\"]*1e6:8.0f} req/s  p99 {d[\"p99_us\"]/1000:7.1f} ms  errors {e}')" "$1" "$3"
}
echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at start; ${ROUNDS} rounds x ${SECS} s, ${CONNS} connections, wrk -t2"
for r in $(seq "$ROUNDS"); do
    for s in soap http; do
        for i in "${!NAMES[@]}"; do one "${NAMES[$i]}" "${PORTS[$i]}" "$s"; done
        for i in "${!RAW_NAMES[@]}"; do one "raw:${RAW_NAMES[$i]}" "${RAW_PORTS[$i]}" "$s"; done
    done
done | tee "$WORK/runs.txt"
echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at the end; medians over the rounds:"
python3 - "$WORK/runs.txt" <<'EOF'
import collections, re, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    m = re.match(r"(\S+)\s+(soap|http)\s+(\d+) req/s\s+p99\s+([\d.]+) ms", line)
    if m:
        rows[(m[2], m[1])].append((int(m[3]), float(m[4])))
for (surface, name), runs in rows.items():
    print(f"{name:26} {surface:5} {statistics.median(r for r, _ in runs):8.0f} req/s  "
          f"p99 {statistics.median(p for _, p in runs):7.1f} ms  (runs: {', '.join(str(r) for r, _ in runs)})")
EOF
