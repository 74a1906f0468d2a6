#!/usr/bin/env bash
# Installs what eddy's build, tests and benchmarks need on Debian 12, idempotently.
#   scripts/deps.sh          install whatever is missing
#   scripts/deps.sh --check  exit 0 when everything is present, 1 otherwise (installs nothing)
# Called by make when build/.deps-ok is missing or older than this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# Libraries the binary links, tools the tests drive, peers the benchmarks compare with.
DEBIAN_PACKAGES=(
  build-essential pkg-config clang libclang-rt-14-dev
  libuv1-dev librocksdb-dev librdkafka-dev libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev
  libssl-dev libcurl4-openssl-dev libgumbo-dev libedit-dev libhttp-parser-dev
  kcat python3 python3-kafka python3-confluent-kafka python3-cassandra python3-lz4 python3-snappy python3-psycopg2
  python3-avro python3-requests curl
)
# Installed only for benchmarks (make bench), never for make test.
BENCH_PACKAGES=(postgresql sqlite3 libsqlite3-dev wrk hyperfine)

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  # One apt at a time on this machine (parallel builds may call this script together).
  exec 9>/tmp/eddy-deps.lock
  flock 9
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@"
  flock -u 9
}

want=("${DEBIAN_PACKAGES[@]}")
[ "${1:-}" = "--bench" ] && want+=("${BENCH_PACKAGES[@]}")
mapfile -t missing < <(missing_packages "${want[@]}")

# Node.js: use the one on PATH (a NodeSource build conflicts with Debian's npm); Debian's only if none.
node_missing=0
command -v node >/dev/null 2>&1 || node_missing=1

npm_missing=0
if [ -f tests/package.json ] && [ ! -d tests/node_modules ]; then npm_missing=1; fi

if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] && [ $node_missing -eq 0 ] && [ $npm_missing -eq 0 ]
  exit $?
fi

if [ ${#missing[@]} -gt 0 ] || [ $node_missing -eq 1 ]; then
  [ $node_missing -eq 1 ] && missing+=(nodejs npm)
  echo "deps: installing Debian packages: ${missing[*]}" >&2
  apt_install "${missing[@]}"
fi
if [ -f tests/package.json ] && { [ ! -d tests/node_modules ] || [ tests/package.json -nt tests/node_modules ]; }; then
  echo "deps: installing npm packages for the client tests" >&2
  (cd tests && npm install --no-audit --no-fund --loglevel=error && touch node_modules)
fi
mkdir -p build && touch build/.deps-ok
