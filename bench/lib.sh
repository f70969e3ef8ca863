# shellcheck shell=bash disable=SC2034  # sets variables the scenarios read
# Sourced by scripts/bench and bench/scenarios/*.sh. Starts and stops the processes of one
# scenario on loopback, all bounded in time; every process started here is stopped by its pid.
# Needs: BIN (greenfleet Release binary), WORK (temp dir of this run), RESULTS (rows file).

TOOLS="python3 $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tools.py"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_PIDS=()

now_ns() { date +%s%N; }
log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# stop_pid PID: SIGTERM, then SIGKILL after 10 s; reaps it.
stop_pid() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${BENCH_PIDS[@]+"${BENCH_PIDS[@]}"}"; do stop_pid "$pid"; done
  BENCH_PIDS=()
}

# start_emulator NAME INSTANCES [extra flags...]; sets EMU_PID, EMU_URL, EMU_START_MS.
start_emulator() {
  local name="$1" count="$2"; shift 2
  local port out="$WORK/$name.emulator.out"
  port="$($TOOLS free-port)"
  local t0; t0="$(now_ns)"
  "$BIN" emulate --port "$port" --instances "$count" --seed 7 "$@" >"$out" 2>"$WORK/$name.emulator.err" &
  EMU_PID=$!
  BENCH_PIDS+=("$EMU_PID")
  EMU_START_MS="$($TOOLS wait-line "$out" "listening on" 60 "$t0")"
  EMU_URL="http://127.0.0.1:$port"
  log "emulator $name: $count instances on $EMU_URL, started in ${EMU_START_MS} ms"
}

# start_greenfleet NAME [VAR=VALUE...]: fresh or reused data dir $WORK/NAME.data; sets GF_PID,
# GF_URL, GF_KEY, GF_READY_MS (process start to /readyz 200), GF_READY_CPU_S (CPU used by then).
start_greenfleet() {
  local name="$1"; shift
  local data="$WORK/$name.data"
  mkdir -p "$data" && chmod 700 "$data"
  GF_PORT="${GF_PORT:-$($TOOLS free-port)}"
  # Upstream on loopback only: the emulator by default, a closed port when there is none.
  local env=(GREENFLEET_DATA_DIR="$data" GREENFLEET_HTTP_PORT="$GF_PORT"
             GREENFLEET_LOG_LEVEL="${GREENFLEET_LOG_LEVEL:-warning}"
             GREENFLEET_UPSTREAM_ALLOWED_HOSTS="127.0.0.0/8, localhost, [::1]"
             GREENFLEET_UPSTREAM_DEFAULT_API_URL="${EMU_URL:-http://127.0.0.1:9}"
             "$@")
  if ! env "${env[@]}" "$BIN" migrate --config etc/greenfleet.properties >"$WORK/$name.migrate.log" 2>&1; then
    cat "$WORK/$name.migrate.log" >&2
    return 1
  fi
  local t0; t0="$(now_ns)"
  env "${env[@]}" "$BIN" serve --config etc/greenfleet.properties \
    >>"$WORK/$name.greenfleet.out" 2>>"$WORK/$name.greenfleet.err" &
  GF_PID=$!
  BENCH_PIDS+=("$GF_PID")
  GF_URL="http://127.0.0.1:$GF_PORT"
  GF_READY_MS="$($TOOLS wait-http "$GF_URL/readyz" 60 "$t0")"
  GF_READY_CPU_S="$($TOOLS cpu "$GF_PID")"  # utime+stime at ready: what the machine's load hides
  GF_KEY="$(cat "$data/admin.key")"
  log "greenfleet $name on $GF_URL ready in ${GF_READY_MS} ms (pid $GF_PID)"
}

# start_polling_greenfleet NAME [VAR=VALUE...]: start_greenfleet polling every instance every
# 1.25 s, without jitter, first probes spread over one interval, and no global rate or per-host
# cap in the way (the poller is what is measured); VAR=VALUE adds keys. Then the emulator's fleet
# is imported (batches of 10,000) and `warm` seconds pass before the caller measures `win`.
start_polling_greenfleet() {
  local name="$1"; shift
  start_greenfleet "$name" \
    GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S=1.25 GREENFLEET_SCHEDULER_INTERVAL_OTHER_S=1.25 \
    GREENFLEET_SCHEDULER_JITTER=0 GREENFLEET_SCHEDULER_STARTUP_SPREAD_S=1.25 \
    GREENFLEET_UPSTREAM_MAX_RPS=1000000 GREENFLEET_UPSTREAM_MAX_IN_FLIGHT_PER_HOST=100000 "$@"
  local count secs rate
  read -r count secs rate < <($TOOLS import "$EMU_URL" "$GF_URL" "$GF_KEY" 10000)
  log "imported $count in ${secs}s ($rate/s); warming up ${warm}s, then measuring ${win}s"
  sleep "$warm"
}

# counter NAME: a field of the emulator's counters (dotted path).
counter() { $TOOLS get "$EMU_URL/_emulator/counters" "" "$1"; }
polls() { $TOOLS metric-sum "$GF_URL/metrics" greenfleet_upstream_requests_total; }
summary() { $TOOLS get "$GF_URL/api/v1/summary" "$GF_KEY" "$1"; }

# run_wrk OUT_PREFIX wrk-args...: wrk under getrusage; sets WRK_RPS WRK_REQS WRK_P99_MS
# WRK_NON2XX WRK_CPU (user+sys seconds of wrk itself).
run_wrk() {
  local prefix="$1"; shift
  $TOOLS rusage "$prefix.rusage" -- wrk "$@" >"$prefix.wrk" 2>&1 || true
  read -r WRK_RPS WRK_REQS WRK_P99_MS WRK_NON2XX < <($TOOLS wrk-parse "$prefix.wrk")
  local u s; read -r u s <"$prefix.rusage"
  WRK_CPU="$(python3 -c "print($u + $s)")"
}

calc() { python3 -c "print($*)"; }
row() { $TOOLS row "$RESULTS" "$@"; }

# bench_tool TARGET [PREBUILT]: path of a bench/ tool (GREENFLEET_BENCH_TOOLS), PREBUILT when
# given, else built into build/release; exits the scenario when the build fails.
bench_tool() {
  local target="$1" prebuilt="${2:-}"
  if [ -n "$prebuilt" ]; then
    echo "$prebuilt"
    return
  fi
  local root
  root="$(cd "$BENCH_DIR/.." && pwd)"
  cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DGREENFLEET_BENCH_TOOLS=ON >"$WORK/$target-cmake.log" 2>&1
  if ! cmake --build "$root/build/release" -j"$(nproc)" --target "$target" \
      >"$WORK/$target-build.log" 2>&1; then
    tail -n 30 "$WORK/$target-build.log" >&2
    exit 1
  fi
  echo "$root/build/release/$target"
}
