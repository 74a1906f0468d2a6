#!/usr/bin/env bash
# The HTTP server core of `eddy up` with real clients: curl for /health, /metrics, keep-alive,
# chunked uploads, limits, errors, CORS; Python's sockets and http.client for pipelining order,
# a malformed request, an announced body over the limit, 1,000 connections held open and then
# served, and a reader that never reads (memory stays bounded, every answer arrives after).
source "$(dirname "$0")/../lib/eddy.sh"

check "eddy up starts with an HTTP listener" eddy_start --enrich=false
check "the HTTP listener is announced with its bound port" bash -c '[[ "$0" =~ ^127\.0\.0\.1:[0-9]+$ ]]' "$HTTP_ADDR"
URL="http://$HTTP_ADDR"

# /health
curl -s -D "$TEST_TMP/h" -o "$TEST_TMP/b" "$URL/health"
check "/health answers 200" grep -q "^HTTP/1.1 200 OK" "$TEST_TMP/h"
check "/health is JSON with status ok" bash -c 'grep -qi "^content-type: application/json" "$0" && grep -q "\"status\":\"ok\"" "$1"' "$TEST_TMP/h" "$TEST_TMP/b"
check "every answer allows any origin (CORS)" grep -qi "^access-control-allow-origin: \*" "$TEST_TMP/h"

# keep-alive: curl reuses one connection for several URLs
curl -sv "$URL/health" "$URL/health" "$URL/nope" -o /dev/null -o /dev/null -o /dev/null 2>"$TEST_TMP/v"
check "keep-alive: curl reuses the connection" grep -q "Re-using existing connection" "$TEST_TMP/v"
check "keep-alive: one connection for three requests" test "$(grep -c "Connected to" "$TEST_TMP/v")" -eq 1

# errors
code=$(curl -s -o "$TEST_TMP/b" -w '%{http_code}' "$URL/no/such/route")
check "unknown route: 404" test "$code" = 404
check "404 body is a Confluent-style JSON error" grep -q '^{"error_code":404,"message":"no route for GET /no/such/route"}$' "$TEST_TMP/b"
code=$(curl -s -D "$TEST_TMP/h" -o "$TEST_TMP/b" -w '%{http_code}' -X PUT --data x "$URL/health")
check "known route, wrong method: 405" test "$code" = 405
check "405 names the allowed methods" grep -qi "^allow: GET,HEAD,OPTIONS" "$TEST_TMP/h"
check "405 body is JSON" grep -q '"error_code":405' "$TEST_TMP/b"
big=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(curl -s -o "$TEST_TMP/b" -w '%{http_code}' -H "X-Big: $big" "$URL/health")
check "headers over the limit: 431" test "$code" = 431
check "431 body is JSON" grep -q '"error_code":431' "$TEST_TMP/b"

# CORS preflight
curl -s -D "$TEST_TMP/h" -o /dev/null -X OPTIONS -H "Origin: http://example.com" \
  -H "Access-Control-Request-Method: POST" -H "Access-Control-Request-Headers: content-type" "$URL/pipelines"
check "CORS preflight: 204" grep -q "^HTTP/1.1 204" "$TEST_TMP/h"
check "CORS preflight: methods allowed" grep -qi "^access-control-allow-methods: .*POST" "$TEST_TMP/h"
check "CORS preflight: requested headers allowed" grep -qi "^access-control-allow-headers: content-type" "$TEST_TMP/h"

# chunked upload: a pipeline file sent with Transfer-Encoding: chunked reaches the engine whole
printf 'CREATE STREAM s (id text KEY) WITH (topic = %s);\nSELECT nosuchcolumn FROM s;\n' "'t'" > "$TEST_TMP/p.sql"
code=$(curl -s -o "$TEST_TMP/b" -w '%{http_code}' -H "Transfer-Encoding: chunked" --data-binary @"$TEST_TMP/p.sql" \
  "$URL/pipelines?name=chunky")
check "chunked upload decoded: the engine judged the whole file (400 at line 2)" \
  bash -c '[ "$0" = 400 ] && grep -q "line 2" "$1"' "$code" "$TEST_TMP/b"
head -c $((17 * 1024 * 1024)) /dev/zero > "$TEST_TMP/big.bin"
code=$(curl -s -o "$TEST_TMP/b" -w '%{http_code}' -H "Transfer-Encoding: chunked" --data-binary @"$TEST_TMP/big.bin" \
  "$URL/pipelines" 2>/dev/null)
check "chunked body over the limit: 413" test "$code" = 413

# eddy submit sends pipeline files over this server (blocking routes on worker threads)
cd "$(dirname "$0")/../.."
"$EDDY_BIN" submit examples/leaves_by_tag.sql --server "$URL" >"$TEST_TMP/s1" 2>&1; rc=$?
check "eddy submit starts a streaming pipeline" bash -c '[ "$0" = 0 ] && grep -q "submitted: 1 streaming" "$1"' "$rc" "$TEST_TMP/s1"
check "the pipeline is listed as running" bash -c 'curl -s "$0/pipelines/leaves_by_tag" | grep -q "\"state\":\"running\""' "$URL"
"$EDDY_BIN" submit examples/tags.sql --server "$URL" >"$TEST_TMP/s2" 2>&1; rc=$?
check "eddy submit runs a batch job to the end" bash -c '[ "$0" = 0 ] && grep -q "pipeline tags finished" "$1"' "$rc" "$TEST_TMP/s2"

# /metrics: Prometheus text format
curl -s -D "$TEST_TMP/h" -o "$TEST_TMP/m" "$URL/metrics"
check "/metrics content type is Prometheus text 0.0.4" grep -qi "^content-type: text/plain; version=0.0.4" "$TEST_TMP/h"
check "/metrics has HELP and TYPE lines" bash -c 'grep -q "^# HELP eddy_http_requests_total " "$0" && grep -q "^# TYPE eddy_http_requests_total counter" "$0"' "$TEST_TMP/m"
check "/metrics counted the 404s" grep -Eq '^eddy_http_requests_total\{route="unmatched",method="\*",code="4xx"\} [1-9]' "$TEST_TMP/m"
check "/metrics has request latency histograms" grep -q '^eddy_http_request_duration_seconds_bucket{route="/health",method="GET",le="+Inf"} ' "$TEST_TMP/m"
check "/metrics shows open connections" grep -q '^eddy_net_connections{server="http"} ' "$TEST_TMP/m"
if [ -n "${CQL_ADDR:-}" ]; then
  check "/metrics has the CQL listener's net counters" grep -q '^eddy_net_connections{server="cql"} ' "$TEST_TMP/m"
fi
check "every /metrics sample line is well formed" bash -c '! grep -v "^#" "$0" | grep -vE "^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\})? [-+0-9.eE]+(Inf)?$|^[a-zA-Z_:][a-zA-Z0-9_:]* NaN$|^$"' "$TEST_TMP/m"

# Python: raw sockets and http.client
/usr/bin/python3 - "$HTTP_ADDR" "$EDDY_PID" <<'PY'
import http.client, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
pid = sys.argv[2]

def check(name, cond, why=""):
    print(("ok - " if cond else "not ok - ") + name, flush=True)
    if not cond and why:
        print("#   " + str(why)[:300], flush=True)

def conn():
    s = socket.create_connection((host, port))
    s.settimeout(60)
    return s

def read_answers(s, n):
    """Reads n answers (status line, headers, Content-Length body) in order."""
    buf = b""
    out = []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                return out
            buf += d
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        while len(rest) < length:
            d = s.recv(65536)
            if not d:
                break
            rest += d
        out.append((status, rest[:length]))
        buf = rest[length:]
    return out

def rss_kb():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

# Pipelining: 60 requests in one write, answered in request order.
s = conn()
paths = ["/health" if i % 3 == 0 else ("/nope/%d" % i if i % 3 == 1 else "/metrics") for i in range(60)]
s.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p.encode() for p in paths))
answers = read_answers(s, len(paths))
want = [200 if i % 3 != 1 else 404 for i in range(60)]
check("pipelining: 60 answers to 60 requests sent in one write", len(answers) == 60, len(answers))
check("pipelining: answers come in request order", [a[0] for a in answers] == want)
check("pipelining: each 404 names its own path",
      all(("/nope/%d" % i).encode() in answers[i][1] for i in range(1, 60, 3)))
s.close()

# http.client (keep-alive) with a JSON error for a malformed request line.
c = http.client.HTTPConnection(host, port, timeout=60)
for _ in range(3):
    c.request("GET", "/health")
    r = c.getresponse()
    body = r.read()
check("http.client: keep-alive requests answered", r.status == 200 and b'"status":"ok"' in body)
c.close()
s = conn()
s.sendall(b"GET / HTTP/1.1 extra\r\n\r\n")
a = read_answers(s, 1)
check("a malformed request gets 400 with a JSON body",
      a and a[0][0] == 400 and a[0][1].startswith(b'{"error_code":400,"message":"malformed HTTP request'), a)
check("after a 400 the connection is closed", s.recv(10) == b"")
s.close()
s = conn()
s.sendall(b"POST /pipelines HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n")
a = read_answers(s, 1)
check("an announced body over the limit gets 413 before it is sent", a and a[0][0] == 413, a)
s.close()

# 1,000 connections held open at once, then each served.
socks = []
try:
    for _ in range(1000):
        socks.append(conn())
except OSError as e:
    pass
check("1,000 concurrent connections accepted", len(socks) == 1000, len(socks))
for s in socks:
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
served = sum(1 for s in socks if (lambda a: a and a[0][0] == 200)(read_answers(s, 1)))
check("all 1,000 connections served", served == 1000, served)
c = http.client.HTTPConnection(host, port, timeout=60)
c.request("GET", "/metrics")
m = c.getresponse().read().decode()
c.close()
open_now = [l for l in m.splitlines() if l.startswith('eddy_net_connections{server="http"}')]
check("/metrics sees the open connections", open_now and float(open_now[0].split()[-1]) >= 1000, open_now)
for s in socks:
    s.close()

# A reader that never reads: /metrics answers (about 18 KB each) for 10,000 requests would
# take some 180 MB; the server stops reading once its answers pile up, so its memory stays
# bounded, and everything is answered once the client reads.
import threading

def metric(name):
    c = http.client.HTTPConnection(host, port, timeout=60)
    c.request("GET", "/metrics")
    m = c.getresponse().read().decode()
    c.close()
    v = [l for l in m.splitlines() if l.startswith(name)]
    return float(v[0].split()[-1]) if v else 0.0

pauses0 = metric('eddy_net_read_pauses_total{server="http"}')
before = rss_kb()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, port))
s.settimeout(120)
N = 10000
sender = threading.Thread(target=lambda: s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * N))
sender.start()
paused = False
for _ in range(600):
    if metric('eddy_net_read_pauses_total{server="http"}') > pauses0:
        paused = True
        break
    time.sleep(0.1)
grew = rss_kb() - before
check("slow reader: the server stopped reading for backpressure", paused)
check("slow reader: server memory grew by less than 64 MB (%d KB)" % grew, grew < 64 * 1024, grew)
answers = read_answers(s, N)
sender.join()
check("slow reader: all %d requests answered once it reads" % N,
      len(answers) == N and all(a[0] == 200 for a in answers), len(answers))
s.close()
PY

check "SIGTERM stops eddy up cleanly" eddy_stop
