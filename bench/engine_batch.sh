#!/usr/bin/env bash
# engine (batch): the tags job (explode tags, group by tag, count, write demo.tags) over the same
# generated leaves in eddy, PostgreSQL 15 (unnest + GROUP BY) and SQLite 3 (json_each + GROUP BY),
# in one run. Each side loads the leaves first (not timed) and writes its result table (timed).
#   bench/engine_batch.sh [N]      (default 1000000; BENCH_DIR for the temporary files)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
make --no-print-directory build/eddy build/bench/engine_batch >/dev/null
tmp=$(mktemp -d "${BENCH_DIR:-/tmp}/eddy-bench-batch-XXXXXX")
chmod 755 "$tmp"
pg_pid=""
cleanup() {
  if [ -n "$pg_pid" ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
build/eddy gen leaves --count "$n" --seed 7 --content small > "$tmp/leaves.jsonl"
echo "engine_batch: $n leaves, $(du -m "$tmp/leaves.jsonl" | cut -f1) MB of JSON lines, $(nproc) cores"

build/bench/engine_batch "$tmp/leaves.jsonl" 2

# PostgreSQL: initdb refuses root, so it runs as postgres on a socket in the temp dir.
mkdir -p "$tmp/pg" && chown postgres "$tmp/pg"
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$tmp/pg" -A trust >/dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -o "-k $tmp/pg -c listen_addresses='' -c shared_buffers=1GB -c max_parallel_workers_per_gather=2 -c work_mem=256MB" -l "$tmp/pg/log" start >/dev/null
pg_pid=1
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys, time, io, sqlite3
import psycopg2
tmp = sys.argv[1]
def leaves():
    with open(tmp + "/leaves.jsonl") as f:
        for line in f:
            yield json.loads(line)
cols = ["id", "is_archived", "all", "is_starred", "user_name", "user_email", "user_id", "tags", "slugs", "is_public",
        "title", "url", "content_text", "created_at", "updated_at", "mimetype", "language", "reading_time",
        "domain_name", "preview_picture", "http_status", "links", "content"]
lists = {"all", "tags", "slugs", "links"}

# PostgreSQL
pg = psycopg2.connect(host=tmp + "/pg", dbname="postgres", user="postgres")
pg.autocommit = True
c = pg.cursor()
c.execute("""CREATE TABLE leaves (id text PRIMARY KEY, is_archived int, "all" text[], is_starred int, user_name text,
  user_email text, user_id int, tags text[], slugs text[], is_public boolean, title text, url text, content_text text,
  created_at timestamptz, updated_at timestamptz, mimetype text, language text, reading_time int, domain_name text,
  preview_picture text, http_status text, links text[], content text)""")
c.execute("CREATE TABLE tags (tag text PRIMARY KEY, count int)")
def pgval(k, v):
    if v is None: return "\\N"
    if k in lists: return "{" + ",".join('"' + x.replace("\\", "\\\\\\\\").replace('"', '\\\\"') + '"' for x in v) + "}"
    s = str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s
buf = io.StringIO()
for l in leaves():
    buf.write("\t".join(pgval(k, l.get(k)) for k in cols) + "\n")
buf.seek(0)
c.copy_expert("COPY leaves FROM STDIN", buf)
c.execute("VACUUM ANALYZE leaves")
t0 = time.time()
c.execute("INSERT INTO tags SELECT tag, count(*) FROM leaves, unnest(tags) AS tag GROUP BY tag")
pg_s = time.time() - t0
c.execute("SELECT count(*), sum(count) FROM tags")
print("  postgresql 15 (unnest + GROUP BY, up to 2 parallel workers): %.3f s, %d tags written, %d tag rows" % ((pg_s,) + c.fetchone()))

# SQLite: tags as JSON text
db = sqlite3.connect(tmp + "/leaves.sqlite")
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE leaves (" + ", ".join('"%s"' % k + (" TEXT PRIMARY KEY" if k == "id" else "") for k in cols) + ")")
db.execute("CREATE TABLE tags (tag TEXT PRIMARY KEY, count INT)")
db.executemany("INSERT INTO leaves VALUES (" + ",".join("?" * len(cols)) + ")",
               ([json.dumps(l.get(k)) if k in lists and l.get(k) is not None else l.get(k) for k in cols] for l in leaves()))
db.commit()
t0 = time.time()
db.execute("INSERT INTO tags SELECT j.value, count(*) FROM leaves, json_each(leaves.tags) AS j GROUP BY j.value")
db.commit()
sq_s = time.time() - t0
print("  sqlite %s (json_each + GROUP BY): %.3f s, %d tags written" % (sqlite3.sqlite_version, sq_s,
      db.execute("SELECT count(*) FROM tags").fetchone()[0]))
PY
