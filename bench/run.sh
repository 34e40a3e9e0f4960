#!/usr/bin/env bash
# bench/run.sh: the side-by-side benchmarks of issue 6.
#
# Drives our mock, Prism, WireMock and bare Go baselines, one at a time on
# 127.0.0.1, with the same request bodies (algoreg-kit fixtures, fixed seed,
# unique external_ids per request), the same wrk settings and the same duration;
# then benchmarks the fixtures generator against a plain gofakeit loop, and loads
# one mock with many customers to measure memory per stored customer. Prints one
# table and writes bench/RESULTS.md. Read bench/README.md first.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/run.sh [--quick] [options]

  --quick             short runs for iterating (warm-up 1 s, 4 s per cell, 100,000
                      customers for the generator and memory runs); writes the report
                      into the work folder only, unless --out is given
  --duration SEC      measured seconds per server and batch size (default 10)
  --rounds R          measure the whole matrix R times, every other round in
                      reverse server order; the report keeps each cell's best
                      round and shows the spread (default 2; 1 with --quick)
  --warmup SEC        warm-up seconds before each measurement (default 3)
  --connections N     wrk connections (default 32)
  --threads N         wrk threads (default 2)
  --sizes "1 100 1000"          customers per request
  --servers "ours prism ..."    any of: ours ours-update ours-sqlite
                      ours-sqlite-update ours-pg ours-pg-update prism wiremock
                      baseline-project baseline-std baseline-none (default: all)
  --seed S            fixtures seed of the request bodies (default 42)
  --gen-count N       customers for the generator benchmark (default 1000000; 0 skips)
  --mem-count N       customers stored for the memory run (default 1000000; 0 skips)
  --startup-count N   customers in the SQLite state file whose startup is timed
                      (default 1000000; 100000 with --quick; 0 skips)
  --profile           also take CPU profiles of our mock under the 1- and
                      100-customer loads (bench/mockprof + go tool pprof)
  --no-install        do not install anything (fail if a tool is missing)
  --pools DIR         reuse the body pools pool-N.txt of an earlier work folder
                      instead of generating them (the report says so)
  --git-ref REF       build and run the tools of that commit (git archive REF), not
                      the working tree, so uncommitted edits cannot leak into the figures
  --work DIR          work folder (default: a new folder under /tmp, kept)
  --out FILE          report file (default bench/RESULTS.md; in --quick mode none)

Examples:
  bench/run.sh --quick --servers "ours baseline-project" --sizes 1
  bench/run.sh --profile                      # the full run that writes RESULTS.md
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DURATION=10 ROUNDS=2 WARMUP=3 CONNS=32 THREADS=2 SIZES="1 100 1000" SEED=42
SERVERS="ours ours-update ours-sqlite ours-sqlite-update ours-pg ours-pg-update prism wiremock baseline-project baseline-std baseline-none"
GEN_COUNT=1000000 MEM_COUNT=1000000 STARTUP_COUNT=1000000 QUICK=0 INSTALL=1 PROFILE=0 WORK="" OUT="" OUT_SET=0 POOLS="" GIT_REF=""
PRISM_VERSION=${BENCH_PRISM_VERSION:-5.14.2}
WIREMOCK_VERSION=${BENCH_WIREMOCK_VERSION:-3.13.2}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/algoreg-kit/bench
PORT_BASE=${BENCH_PORT_BASE:-18100}
MOCK_FLAGS=${BENCH_MOCK_FLAGS:-}  # extra flags for "algoreg-kit mock", for experiments; the report names them
COMMAND="bench/run.sh$(printf " %q" "$@")"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; DURATION=4; WARMUP=1; ROUNDS=1; GEN_COUNT=100000; MEM_COUNT=100000; STARTUP_COUNT=100000 ;;
    --duration) DURATION=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --sizes) SIZES=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --gen-count) GEN_COUNT=$2; shift ;;
    --mem-count) MEM_COUNT=$2; shift ;;
    --startup-count) STARTUP_COUNT=$2; shift ;;
    --profile) PROFILE=1 ;;
    --no-install) INSTALL=0 ;;
    --pools) POOLS=$2; shift ;;
    --git-ref) GIT_REF=$2; shift ;;
    --work) WORK=$2; shift ;;
    --out) OUT=$2; OUT_SET=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$OUT_SET" = 0 ] && [ "$QUICK" = 0 ]; then OUT=bench/RESULTS.md; fi
for s in $SERVERS; do
  case "$s" in
    ours|ours-update|ours-sqlite|ours-sqlite-update|ours-pg|ours-pg-update|prism|wiremock|baseline-project|baseline-std|baseline-none) ;;
    *) echo "bench/run.sh: unknown server $s" >&2; exit 2 ;;
  esac
done

WORK=${WORK:-$(mktemp -d /tmp/algoreg-bench.XXXXXX)}
mkdir -p "$WORK/bin" "$WORK/logs"
BIN=$WORK/bin
log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- processes
# Every process this script starts is recorded here and ended on exit.
PIDS=()
# mine PID: PID is still a child of this shell (so a recorded PID that exited
# and was reused by someone else's process is never signalled).
mine() {
  [ -n "$1" ] && [ "$(sed 's/^.*) //' /proc/"$1"/stat 2>/dev/null | awk '{print $2}')" = "$BASHPID" ]
}
cleanup() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    if mine "$pid"; then kill "$pid" 2>/dev/null || true; fi
  done
  for pid in "${PIDS[@]:-}"; do
    mine "$pid" || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if mine "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  done
}
# The PostgreSQL cluster of the ours-pg cells (start_pg), stopped at exit.
PG_DIR="" PG_URL=""
main_exit() {
  cleanup
  if [ -n "$PG_DIR" ]; then scripts/postgres.sh stop "$PG_DIR" >/dev/null 2>&1 || true; fi
}
trap main_exit EXIT

# isolated CMD…: runs CMD in a subshell with its own cleanup, so a failing
# cell stops its own server and the run goes on. It runs in the background and
# is waited for, so that an INT or TERM reaches on_signal at once.
CHILD=""
isolated() {
  (trap cleanup EXIT; "$@") &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}
# on_signal stops the running subshell's whole tree (all started by this
# script), deepest first, then exits; the EXIT trap stops the rest.
on_signal() {
  local p
  if [ -n "$CHILD" ]; then
    for p in $(descendants "$CHILD" | tac); do kill "$p" 2>/dev/null || true; done
  fi
  exit 130
}
trap on_signal INT TERM

# descendants PID: PID and every process below it.
descendants() {
  local p=$1 c
  echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do descendants "$c"; done
}

# sum_tree PID CMD [ARG...]: CMD ARG... P run for every process P of the tree
# (descendants PID), its numbers summed; a process gone meanwhile counts 0.
sum_tree() {
  local pid=$1 total=0 p v
  shift
  for p in $(descendants "$pid"); do
    v=$("$@" "$p" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# status_kib FIELD PID: the kB figure of FIELD (VmHWM, VmRSS) in /proc/PID/status.
status_kib() { awk -v key="$1:" '$1 == key {print $2}' /proc/"$2"/status; }

# stat_ticks PID: user+system clock ticks of the process, from /proc/PID/stat.
stat_ticks() { sed 's/^.*) //' /proc/"$1"/stat | awk '{print $12 + $13}'; }

# peak_rss_kib, rss_kib, cpu_ticks PID: VmHWM, VmRSS, and user+system clock
# ticks summed over the process tree.
peak_rss_kib() { sum_tree "$1" status_kib VmHWM; }
rss_kib() { sum_tree "$1" status_kib VmRSS; }
cpu_ticks() { sum_tree "$1" stat_ticks; }
CLK_TCK=$(getconf CLK_TCK)

# stop_pid PID: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local pid=$1
  mine "$pid" || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# wait_ready URL PID: poll URL until it answers 2xx, for at most 90 s.
wait_ready() {
  local url=$1 pid=$2
  for _ in $(seq 900); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- tools
install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v curl >/dev/null || missing+=(curl)
  command -v npm >/dev/null || missing+=(npm)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$INSTALL" = 1 ] || die "missing: ${missing[*]} (run without --no-install, or apt-get install -y ${missing[*]})"
    log "installing ${missing[*]} (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  local need_npm=0
  [[ " $SERVERS " == *" prism "* ]] && [ ! -x "$CACHE/node_modules/.bin/prism" ] && need_npm=1
  [[ " $SERVERS " == *" wiremock "* ]] && ! ls "$CACHE"/node_modules/wiremock/build/wiremock-standalone-*.jar >/dev/null 2>&1 && need_npm=1
  if [ "$need_npm" = 1 ] || ! grep -q "\"@stoplight/prism-cli\": \"$PRISM_VERSION\"" "$CACHE/package.json" 2>/dev/null \
     || ! grep -q "\"wiremock\": \"$WIREMOCK_VERSION\"" "$CACHE/package.json" 2>/dev/null; then
    if [[ " $SERVERS " == *" prism "* || " $SERVERS " == *" wiremock "* ]]; then
      [ "$INSTALL" = 1 ] || die "Prism/WireMock not in $CACHE (run without --no-install)"
      log "installing @stoplight/prism-cli@$PRISM_VERSION and wiremock@$WIREMOCK_VERSION into $CACHE (npm)"
      mkdir -p "$CACHE"
      (cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error --save-exact \
        "@stoplight/prism-cli@$PRISM_VERSION" "wiremock@$WIREMOCK_VERSION" >/dev/null)
    fi
  fi
}

# SRC is the source tree the tools are built from and the bench files read from.
SRC=$ROOT
build() {
  if [ -n "$GIT_REF" ]; then
    SRC=$WORK/src
    rm -rf "$SRC" && mkdir -p "$SRC"
    git -C "$ROOT" archive "$GIT_REF" | tar -x -C "$SRC" || die "git archive $GIT_REF failed"
  fi
  log "building algoreg-kit and the bench tools from $SRC${GIT_REF:+ ($GIT_REF)} into $BIN"
  (cd "$SRC" && go build -o "$BIN/algoreg-kit" ./cmd/algoreg-kit && go build -o "$BIN/baseline" ./bench/baseline \
    && go build -o "$BIN/bodies" ./bench/bodies && go build -o "$BIN/report" ./bench/report \
    && go build -o "$BIN/gofakeitloop" ./bench/gofakeitloop && go build -o "$BIN/mockprof" ./bench/mockprof) \
    || die "build failed"
  # Prism mocks the full document (spec --mock): its readiness probe is GET /healthz, which
  # the vendor-only document (spec) leaves out; the save operation is the same in both.
  # A commit from before spec --mock (--git-ref) printed the full document with spec.
  "$BIN/algoreg-kit" spec --mock > "$WORK/openapi.yaml" 2>/dev/null \
    || "$BIN/algoreg-kit" spec > "$WORK/openapi.yaml"
}

# source_commit describes what was built: a commit, and whether the working
# tree had uncommitted changes to Go files or bench/.
source_commit() {
  if [ -n "$GIT_REF" ]; then
    git -C "$ROOT" rev-parse --short "$GIT_REF" 2>/dev/null || echo "$GIT_REF"
    return
  fi
  local c
  c=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git -C "$ROOT" status --porcelain -- '*.go' go.mod go.sum bench openapi 2>/dev/null | grep -v 'bench/RESULTS.md' || true)" ]; then
    c="$c + uncommitted changes in the working tree"
  fi
  echo "$c"
}

# ---------------------------------------------------------------- PostgreSQL
# start_pg: a throwaway cluster for the ours-pg cells, on this machine, with
# PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on:
# ALGOREG_PG_DURABLE=1). Its folder is under /tmp (the cluster's user must
# reach it), removed at exit.
start_pg() {
  PG_DIR=$(mktemp -d /tmp/algoreg-bench-pg.XXXXXX)
  log "PostgreSQL: a throwaway cluster in $PG_DIR (durable defaults)"
  PG_URL=$(ALGOREG_PG_DURABLE=1 scripts/postgres.sh start "$PG_DIR" 2>"$WORK/logs/postgres-start.log") \
    || die "scripts/postgres.sh start failed: $(tail -5 "$WORK/logs/postgres-start.log")"
}

# pg_database NAME: a new empty database NAME in the cluster; prints its URL.
pg_database() {
  local name=$1 hostport bin
  hostport=$(printf '%s' "$PG_URL" | sed -n 's|^postgres://[^@]*@\([^/]*\)/.*|\1|p')
  bin=$(scripts/postgres.sh bindir)
  "$bin/createdb" -h "${hostport%:*}" -p "${hostport##*:}" -U algoreg "$name" >>"$WORK/logs/postgres-start.log" 2>&1 \
    || die "createdb $name failed"
  printf '%s' "$PG_URL" | sed "s|/algoreg?|/$name?|"
}

# pg_ticks: user+system clock ticks of the cluster's processes (the postmaster's tree).
pg_ticks() {
  local pid
  pid=$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  cpu_ticks "$pid"
}

# ---------------------------------------------------------------- bodies
# make_pools: for each size N, request bodies of N new customers from
# "algoreg-kit fixtures", turned into a pool of one body per line.
make_pools() {
  local n bodies
  for n in $SIZES; do
    if [ -n "$POOLS" ]; then
      [ -f "$POOLS/pool-$n.txt" ] || die "no $POOLS/pool-$n.txt"
      [ "$POOLS/pool-$n.txt" -ef "$WORK/pool-$n.txt" ] || cp "$POOLS/pool-$n.txt" "$WORK/pool-$n.txt"
      log "bodies: reusing $POOLS/pool-$n.txt ($(wc -l <"$WORK/pool-$n.txt") bodies)"
      continue
    fi
    # Enough distinct bodies that no two requests in a row are the same, few
    # enough that wrk's threads hold them in memory (~8 MB for 1,000 customers).
    bodies=$(( n == 1 ? 1000 : (n <= 100 ? 64 : 12) ))
    log "fixtures: $bodies bodies of $n customers (seed $SEED)"
    rm -rf "$WORK/fixtures-$n"
    mkdir -p "$WORK/fixtures-$n"
    "$BIN/algoreg-kit" fixtures --count $((n * bodies)) --seed "$SEED" --format request \
      --batch-size "$n" --out "$WORK/fixtures-$n" >/dev/null 2>"$WORK/logs/fixtures-$n.log" \
      || die "algoreg-kit fixtures failed: $(tail -3 "$WORK/logs/fixtures-$n.log")"
    "$BIN/bodies" -in "$WORK/fixtures-$n" -customers "$n" -out "$WORK/pool-$n.txt" 2>>"$WORK/logs/fixtures-$n.log" \
      || die "bench/bodies: $(tail -3 "$WORK/logs/fixtures-$n.log")"
  done
}

# ---------------------------------------------------------------- servers
SERVER_PID="" AUTH="" STATE=""
# start_server NAME PORT: starts it in the background, waits until it serves.
start_server() {
  local name=$1 port=$2 logf=$WORK/logs/$1-$3.log
  case "$name" in
    ours|ours-update)
      # shellcheck disable=SC2086 # BENCH_MOCK_FLAGS is a list of flags
      "$BIN/algoreg-kit" mock --addr "127.0.0.1:$port" $MOCK_FLAGS >"$logf" 2>&1 & ;;
    ours-sqlite|ours-sqlite-update)
      # A fresh state file in the work folder, default sync (normal).
      STATE=$WORK/state-$name-$3.db
      rm -f "$STATE" "$STATE-wal" "$STATE-shm"
      # shellcheck disable=SC2086
      "$BIN/algoreg-kit" mock --addr "127.0.0.1:$port" --state "$STATE" $MOCK_FLAGS >"$logf" 2>&1 & ;;
    ours-pg|ours-pg-update)
      # A fresh database in the run's cluster.
      STATE=$(pg_database "cell_${name//-/_}_$3_$port")
      # shellcheck disable=SC2086
      "$BIN/algoreg-kit" mock --addr "127.0.0.1:$port" --state "$STATE" $MOCK_FLAGS >"$logf" 2>&1 & ;;
    prism)
      "$CACHE/node_modules/.bin/prism" mock -v error -h 127.0.0.1 -p "$port" "$WORK/openapi.yaml" >"$logf" 2>&1 & ;;
    wiremock)
      java -Xmx256m -jar "$(ls "$CACHE"/node_modules/wiremock/build/wiremock-standalone-*.jar | head -1)" \
        --port "$port" --bind-address 127.0.0.1 --root-dir "$SRC/bench/wiremock" \
        --disable-request-logging --no-request-journal --disable-banner >"$logf" 2>&1 & ;;
    baseline-*)
      "$BIN/baseline" -addr "127.0.0.1:$port" -decode "${name#baseline-}" >"$logf" 2>&1 & ;;
  esac
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "http://127.0.0.1:$port/healthz" "$SERVER_PID" || die "$name did not start on port $port; see $logf"
  # Every server gets the same Authorization header: a bearer token our mock
  # issued (open mode accepts any user), obtained once, as a client would.
  AUTH="Basic $(printf 'bench@example.com:bench' | base64)"
  if [[ "$name" == ours* ]]; then
    local tok
    tok=$(curl -fsS --max-time 5 -H 'Content-Type: application/json' \
      -d '{"grant_type":"password","username":"bench@example.com","password":"bench"}' \
      "http://127.0.0.1:$port/api/v1/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$tok" ] || die "$name: no token from /api/v1/token"
    AUTH="Bearer $tok"
  fi
}

# sanity NAME PORT SIZE: before the run, our mock must create every customer
# of every pool body with status ok and no error or warning (bench/bodies
# checks each answer); a peer must take a few bodies with a 2xx.
sanity() {
  local name=$1 port=$2 n=$3 tag=$4 args
  if [[ "$name" == ours* ]]; then args=(-prefix s); else args=(-prefix s -lenient -bodies 4); fi
  "$BIN/bodies" -pool "$WORK/pool-$n.txt" -post "http://127.0.0.1:$port" -auth "$AUTH" "${args[@]}" \
    >"$WORK/logs/sanity-$tag.json" 2>&1 || die "$name did not take the $n-customer bodies: $(tail -c 800 "$WORK/logs/sanity-$tag.json")"
  # The servers that claim request validation must reject a body off the schema.
  case "$name" in
    ours*|prism|baseline-project|baseline-std)
      local code
      code=$(curl -sS --max-time 10 -o "$WORK/logs/invalid-$tag.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "Authorization: $AUTH" -d '{"customers":[{"external_id":"x","account_type":"N","last_name":"D","kyc_level":"high"}]}' \
        "http://127.0.0.1:$port/api/v1/customers/save")
      [ "$code" = 422 ] || die "$name answered $code, not 422, to a body off the schema (is its validation on?): $(head -c 400 "$WORK/logs/invalid-$tag.json")"
      ;;
  esac
}

# stored PORT: customers our mock holds for the bench business.
stored() {
  curl -fsS --max-time 10 -H "Authorization: $AUTH" "http://127.0.0.1:$1/__admin/customers?limit=1" \
    | sed -n 's/.*"total":\([0-9]*\).*/\1/p'
}

# wrk_run PORT SIZE MODE TAG SECONDS OUTFILE
wrk_run() {
  local port=$1 n=$2 mode=$3 tag=$4 secs=$5 out=$6
  BENCH_POOL=$WORK/pool-$n.txt BENCH_AUTH=$AUTH BENCH_RUN=$tag BENCH_MODE=$mode BENCH_OUT=$out \
    wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 30s -s "$SRC/bench/save.lua" \
    "http://127.0.0.1:$port" >"$WORK/logs/wrk-$tag.txt" 2>&1 || die "wrk failed: $(tail -5 "$WORK/logs/wrk-$tag.txt")"
}

# run_cell NAME SIZE PORT ROUND: one server, one batch size, fresh process.
run_cell() {
  local name=$1 n=$2 port=$3 round=$4 mode=create tag
  [[ "$name" == *-update ]] && mode=update
  tag=$name-$n-r$round
  log "round $round: $name, $n customer(s)/request: start"
  start_server "$name" "$port" "$n"
  sanity "$name" "$port" "$n" "$tag"
  wrk_run "$port" "$n" "$mode" "w$round-$n" "$WARMUP" "$WORK/wrk-warmup-$tag.json"
  local load t0 t1 rss st=-1 db0=0 db1=0
  load=$(cat /proc/loadavg)
  t0=$(cpu_ticks "$SERVER_PID")
  [[ "$name" == ours-pg* ]] && db0=$(pg_ticks)
  wrk_run "$port" "$n" "$mode" "m$round-$n" "$DURATION" "$WORK/wrk-$tag.json"
  t1=$(cpu_ticks "$SERVER_PID")
  [[ "$name" == ours-pg* ]] && db1=$(pg_ticks)
  rss=$(peak_rss_kib "$SERVER_PID")
  local sent=0
  if [[ "$name" == ours* ]]; then
    st=$(stored "$port"); st=${st:--1}
    # customers of the 2xx answers wrk counted, sanity pass included (requests
    # still in flight when wrk stops are not counted, so stored may be higher)
    sent=$(cat "$WORK/logs/sanity-$tag.json" "$WORK/wrk-warmup-$tag.json" "$WORK/wrk-$tag.json" | awk -v n="$n" '
      /"added"/ { match($0, /"added":[0-9]+/); s += substr($0, RSTART + 8, RLENGTH - 8) }
      /"errors_status"/ { match($0, /"requests":[0-9]+/); r = substr($0, RSTART + 11, RLENGTH - 11)
                          match($0, /"errors_status":[0-9]+/); e = substr($0, RSTART + 16, RLENGTH - 16); s += (r - e) * n }
      END { print s + 0 }')
  fi
  stop_pid "$SERVER_PID"
  local state_bytes=0
  if [[ "$name" == ours-sqlite* ]]; then
    state_bytes=$(cat "$STATE" "$STATE-wal" 2>/dev/null | wc -c)
    rm -f "$STATE" "$STATE-wal" "$STATE-shm" # the next cells need the disk more than we need the file
  fi
  printf '{"server":"%s","customers":%d,"mode":"%s","round":%d,"connections":%d,"wrk":%s,"rss_peak_kib":%d,"cpu_seconds":%s,"db_cpu_seconds":%s,"state_bytes":%d,"stored":%d,"sent":%d,"loadavg":"%s"}\n' \
    "$name" "$n" "$mode" "$round" "$CONNS" "$(tr -d '\n' <"$WORK/wrk-$tag.json")" "$rss" \
    "$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", t/hz}')" \
    "$(awk -v t=$((db1 - db0)) -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", t/hz}')" "$state_bytes" "$st" "$sent" "$load" >>"$WORK/load.ndjson"
  log "round $round: $name, $n customer(s)/request: $(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' "$WORK/wrk-$tag.json") requests in ${DURATION}s, peak RSS $((rss / 1024)) MiB"
}

# ---------------------------------------------------------------- profile
# profile_ours SIZE PORT [MODE [STORE]]: CPU profile of the mock (bench/mockprof)
# under load: MODE create (default) or update, STORE memory (default) or sqlite
# (a fresh state file). The files are named cpu-ours[-update][-sqlite]-SIZE.
profile_ours() {
  local n=$1 port=$2 dport=$(($2 + 1)) mode=${3:-create} st=${4:-memory} name=ours args=()
  [ "$mode" = update ] && name=$name-update
  if [ "$st" = sqlite ]; then
    name=$name-sqlite
    rm -f "$WORK/state-prof.db"*
    args=(-state "$WORK/state-prof.db")
  fi
  local pf=$WORK/cpu-$name-$n.pprof
  log "profile: $name, $n customer(s)/request"
  "$BIN/mockprof" -addr "127.0.0.1:$port" -debug-addr "127.0.0.1:$dport" "${args[@]}" >"$WORK/logs/mockprof-$name-$n.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "http://127.0.0.1:$port/healthz" "$SERVER_PID" || die "mockprof did not start"
  AUTH="Basic $(printf 'bench@example.com:bench' | base64)"
  local tok
  tok=$(curl -fsS -H 'Content-Type: application/json' \
    -d '{"grant_type":"password","username":"bench@example.com","password":"bench"}' \
    "http://127.0.0.1:$port/api/v1/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  AUTH="Bearer $tok"
  wrk_run "$port" "$n" "$mode" "pw$n" "$WARMUP" "$WORK/wrk-prof-warmup-$name-$n.json"
  curl -fsS -o "$pf" "http://127.0.0.1:$dport/debug/pprof/profile?seconds=$DURATION" &
  local cpid=$!
  PIDS+=("$cpid")
  wrk_run "$port" "$n" "$mode" "pm$n" "$DURATION" "$WORK/wrk-prof-$name-$n.json"
  wait "$cpid" || die "no CPU profile"
  stop_pid "$SERVER_PID"
  rm -f "$WORK/state-prof.db"*
  # profile-ours-N*.txt go into the report; the other profiles stay in the work folder.
  go tool pprof -top -nodecount=30 "$BIN/mockprof" "$pf" >"$WORK/profile-$name-$n.txt" 2>/dev/null \
    || die "go tool pprof failed on $pf"
  go tool pprof -top -cum -nodecount=120 "$BIN/mockprof" "$pf" >"$WORK/profile-$name-$n-cum.txt" 2>/dev/null || true
}

# ---------------------------------------------------------------- generator
# gen_run TOOL COUNT: one generator run under /usr/bin/time -v.
gen_run() {
  local tool=$1 count=$2 tf=$WORK/logs/time-$1-$2.txt out=/dev/null bytes=0 lines=0 status=0
  # The smaller run goes to a file, to check and size the output; the big one to /dev/null.
  [ "$count" -lt "$GEN_COUNT" ] && out=$WORK/gen-$tool-$count.ndjson
  log "generator: $tool, $count customers"
  case "$tool" in
    fixtures) /usr/bin/time -v -o "$tf" "$BIN/algoreg-kit" fixtures --count "$count" --seed "$SEED" --format ndjson >"$out" 2>"$WORK/logs/gen-$tool-$count.log" || status=$? ;;
    gofakeitloop) /usr/bin/time -v -o "$tf" "$BIN/gofakeitloop" -count "$count" -seed "$SEED" >"$out" 2>"$WORK/logs/gen-$tool-$count.log" || status=$? ;;
  esac
  if [ "$out" != /dev/null ]; then
    bytes=$(stat -c %s "$out"); lines=$(wc -l <"$out"); rm -f "$out"
    [ "$lines" = "$count" ] || log "warning: $tool wrote $lines lines for $count customers"
  fi
  awk -v tool="$tool" -v count="$count" -v bytes="$bytes" -v lines="$lines" -v status="$status" '
    /Elapsed \(wall clock\)/ { n = split($NF, p, ":"); e = 0; for (i = 1; i <= n; i++) e = e * 60 + p[i] }
    /User time/ { u = $NF } /System time/ { s = $NF } /Maximum resident set size/ { m = $NF }
    END { printf "{\"tool\":\"%s\",\"count\":%d,\"elapsed_s\":%.3f,\"user_s\":%.2f,\"sys_s\":%.2f,\"max_rss_kib\":%d,\"bytes\":%d,\"lines\":%d,\"exit_status\":%d}\n", tool, count, e, u, s, m, bytes, lines, status }
  ' "$tf" >>"$WORK/gen.ndjson"
}

# ---------------------------------------------------------------- memory
# memory_run COUNT PORT: load COUNT customers into one fresh mock (bench/mockprof,
# so a forced GC can give the live heap), in bodies of 1,000.
memory_run() {
  local count=$1 port=$2 dport=$(($2 + 1)) n=1000 before after peak st heap records vars start end
  [ -f "$WORK/pool-$n.txt" ] || { log "memory: no pool of $n customers (add 1000 to --sizes); skipped"; return; }
  log "memory: loading $count customers into one mock"
  "$BIN/mockprof" -quiet -addr "127.0.0.1:$port" -debug-addr "127.0.0.1:$dport" >"$WORK/logs/memory.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "http://127.0.0.1:$port/healthz" "$SERVER_PID" || die "mockprof did not start"
  AUTH="Basic $(printf 'bench@example.com:bench' | base64)"
  before=$(rss_kib "$SERVER_PID")
  start=$(date +%s.%N)
  "$BIN/bodies" -pool "$WORK/pool-$n.txt" -post "http://127.0.0.1:$port" -auth "$AUTH" -prefix mem \
    -total "$count" -concurrency 2 >"$WORK/logs/memory-post.json" 2>&1 \
    || die "memory: loading failed: $(tail -c 800 "$WORK/logs/memory-post.json")"
  end=$(date +%s.%N)
  # The heap profile (taken after a GC) says which allocations hold the stored customers.
  curl -fsS -o "$WORK/heap-memory.pprof" "http://127.0.0.1:$dport/debug/pprof/heap?gc=1"
  go tool pprof -top -sample_index=inuse_space -nodecount=25 "$BIN/mockprof" "$WORK/heap-memory.pprof" \
    >"$WORK/profile-heap.txt" 2>/dev/null || true
  vars=$(curl -fsS "http://127.0.0.1:$dport/debug/vars")
  heap=$(printf '%s' "$vars" | sed -n 's/.*"HeapAlloc":\([0-9]*\).*/\1/p')
  # The records of the MemStore live outside the Go heap; mockprof publishes their bytes.
  records=$(printf '%s' "$vars" | sed -n 's/.*"record_bytes":\([0-9]*\).*/\1/p')
  after=$(rss_kib "$SERVER_PID")
  peak=$(peak_rss_kib "$SERVER_PID")
  st=$(stored "$port")
  stop_pid "$SERVER_PID"
  printf '{"stored":%d,"rss_before_kib":%d,"rss_after_kib":%d,"rss_peak_kib":%d,"heap_live_bytes":%d,"record_bytes":%d,"heap_at_stored":%d,"load_seconds":%s,"batch":%d}\n' \
    "${st:-0}" "$before" "$after" "$peak" "${heap:-0}" "${records:-0}" "${st:-0}" "$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}')" "$n" >"$WORK/memory.json"
}

# ---------------------------------------------------------------- startup
# startup_run COUNT PORT: a SQLite state file of COUNT customers (the fixtures'
# NDJSON through "mock --preload"), then the time from starting
# "algoreg-kit mock --state FILE" on it to /healthz answering, its peak RSS
# then, and the time of a first save and a first listing after that.
startup_run() {
  local count=$1 port=$2 db=$WORK/startup.db nd=$WORK/startup.ndjson t0 t1 t2 t3 t4 rss bytes
  log "startup: a state file of $count customers"
  rm -f "$db" "$db-wal" "$db-shm"
  "$BIN/algoreg-kit" fixtures --count "$count" --seed "$SEED" --format ndjson >"$nd" 2>"$WORK/logs/startup-fixtures.log" \
    || die "startup: fixtures failed"
  t0=$(date +%s.%N)
  "$BIN/algoreg-kit" mock --addr "127.0.0.1:$port" --state "$db" --preload "$nd" --log-level warn >"$WORK/logs/startup-preload.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 3600); do # the preload may take minutes
    kill -0 "$SERVER_PID" 2>/dev/null || die "startup: the preloading mock exited: $(tail -3 "$WORK/logs/startup-preload.log")"
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    sleep 0.5
  done
  t1=$(date +%s.%N)
  stop_pid "$SERVER_PID"
  rm -f "$nd"
  bytes=$(cat "$db" "$db-wal" 2>/dev/null | wc -c)
  # The measured start: nothing but the state file.
  sync
  t2=$(date +%s.%N)
  "$BIN/algoreg-kit" mock --addr "127.0.0.1:$port" --state "$db" >"$WORK/logs/startup.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 3000); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "startup: the mock exited: $(tail -3 "$WORK/logs/startup.log")"
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    sleep 0.01
  done
  t3=$(date +%s.%N)
  rss=$(peak_rss_kib "$SERVER_PID")
  local auth="Basic $(printf 'demo:demo' | base64)" save_s list_s
  save_s=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 30 -H 'Content-Type: application/json' -H "Authorization: $auth" \
    -d '{"customers":[{"external_id":"startup-1","account_type":"N","last_name":"Doe"}]}' "http://127.0.0.1:$port/api/v1/customers/save")
  list_s=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 60 -H "Authorization: $auth" "http://127.0.0.1:$port/__admin/customers?limit=10")
  t4=$(peak_rss_kib "$SERVER_PID")
  stop_pid "$SERVER_PID"
  rm -f "$db" "$db-wal" "$db-shm"
  printf '{"customers":%d,"state_bytes":%d,"build_seconds":%s,"start_seconds":%s,"rss_peak_kib":%d,"rss_peak_after_kib":%d,"first_save_seconds":%s,"first_listing_seconds":%s}\n' \
    "$count" "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')" "$(awk -v a="$t2" -v b="$t3" 'BEGIN{printf "%.3f", b-a}')" \
    "$rss" "$t4" "$save_s" "$list_s" >"$WORK/startup.json"
  log "startup: $(cat "$WORK/startup.json")"
}

# ---------------------------------------------------------------- machine
machine_json() {
  local prism="" wiremock="" java node wrkv
  # (wrk --version exits 1; none of these may stop the run)
  if [ -x "$CACHE/node_modules/.bin/prism" ]; then prism=$("$CACHE/node_modules/.bin/prism" --version 2>/dev/null | tail -1 || true); fi
  wiremock=$(ls "$CACHE"/node_modules/wiremock/build/wiremock-standalone-*.jar 2>/dev/null | head -1 | sed 's/.*standalone-\(.*\)\.jar/\1/' || true)
  java=$(java -version 2>&1 | head -1 | sed 's/"//g' || true)
  node=$(node --version 2>/dev/null || true)
  wrkv=$(wrk --version 2>&1 | head -1 | awk '{print $2}' || true)
  printf '{"date":"%s","cores":%d,"cpu":"%s","mem_total":"%s","kernel":"%s","commit":"%s",' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //; s/"//g')" \
    "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" "$(uname -sr)" "$(source_commit)"
  local pgv="not run"
  if [ -n "$PG_DIR" ]; then pgv="$("$(scripts/postgres.sh bindir)/postgres" --version | awk '{print $3}') (throwaway cluster on this machine, durable defaults)"; fi
  printf '"versions":{"go":"%s","wrk":"%s","prism (@stoplight/prism-cli)":"%s","wiremock":"%s","java":"%s","node":"%s","postgresql":"%s"},' \
    "$(go env GOVERSION)" "$wrkv" "${prism:-not run}" "${wiremock:-not run}" "$java" "$node" "$pgv"
  printf '"settings":{"wrk":"%s threads, %s connections, %s s measured after %s s warm-up, fresh server per cell, %s round(s), best round kept","bodies":"%s","mock flags":"%s"}}\n' \
    "$THREADS" "$CONNS" "$DURATION" "$WARMUP" "$ROUNDS" "$BODIES_NOTE" "${MOCK_FLAGS:-none (defaults)}"
}

# ---------------------------------------------------------------- main
BODIES_NOTE="algoreg-kit fixtures --seed $SEED --format request --batch-size N; ids made unique per request"
[ -n "$POOLS" ] && BODIES_NOTE="pools reused from $POOLS (not regenerated by this run)"
log "work folder: $WORK"
install_tools
build
: >"$WORK/load.ndjson"
: >"$WORK/gen.ndjson"
rm -f "$WORK/memory.json" "$WORK/failed.ndjson" "$WORK/startup.json"
make_pools
if [[ " $SERVERS " == *" ours-pg"* ]]; then start_pg; fi

port=$PORT_BASE
for round in $(seq "$ROUNDS"); do
  order=$SERVERS
  # Every other round runs the servers in reverse order, so a slow drift of the
  # machine's background load does not always favour the same server.
  [ $((round % 2)) = 0 ] && order=$(echo "$SERVERS" | tr ' ' '\n' | tac | tr '\n' ' ')
  for name in $order; do
    for n in $SIZES; do
      # A cell that fails (a server that does not start, rejects the bodies, …)
      # is reported and skipped; the subshell's own trap stops its server.
      if ! isolated run_cell "$name" "$n" "$port" "$round"; then
        log "round $round: $name, $n customer(s)/request: FAILED; see $WORK/logs; going on"
        printf '{"what":"%s, %d customer(s)/request, round %d","logs":"%s"}\n' "$name" "$n" "$round" "$WORK/logs" >>"$WORK/failed.ndjson"
      fi
      port=$((port + 2))
    done
  done
done

if [ "$PROFILE" = 1 ]; then
  # creates in memory at 1 and 100 (in the report); updates in memory and
  # creates on SQLite at 100 (in the work folder)
  for p in "1 create memory" "100 create memory" "100 update memory" "100 create sqlite"; do
    read -r n mode st <<<"$p"
    [[ " $SIZES " == *" $n "* ]] || continue
    if ! isolated profile_ours "$n" "$port" "$mode" "$st"; then
      log "profile $p FAILED; going on"
      printf '{"what":"CPU profile, %s","logs":"%s"}\n' "$p" "$WORK/logs" >>"$WORK/failed.ndjson"
    fi
    port=$((port + 2))
  done
fi

if [ "$GEN_COUNT" -gt 0 ]; then
  for tool in fixtures gofakeitloop; do
    gen_run "$tool" $((GEN_COUNT / 10))
    gen_run "$tool" "$GEN_COUNT"
  done
fi

if [ "$MEM_COUNT" -gt 0 ] && ! isolated memory_run "$MEM_COUNT" "$port"; then
  log "memory run FAILED; going on"
  printf '{"what":"memory run, %d customers","logs":"%s"}\n' "$MEM_COUNT" "$WORK/logs" >>"$WORK/failed.ndjson"
fi

if [ "$STARTUP_COUNT" -gt 0 ] && ! isolated startup_run "$STARTUP_COUNT" "$port"; then
  log "startup run FAILED; going on"
  printf '{"what":"startup on a state file of %d customers","logs":"%s"}\n' "$STARTUP_COUNT" "$WORK/logs" >>"$WORK/failed.ndjson"
fi
port=$((port + 2))

machine_json >"$WORK/machine.json"
args=(-dir "$WORK" -command "$COMMAND")
[ -n "$OUT" ] && args+=(-out "$OUT")
"$BIN/report" "${args[@]}"
log "raw measurements and logs: $WORK${OUT:+; report: $OUT}"
