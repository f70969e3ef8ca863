#!/usr/bin/env bash
# Scenario "slow clients": wrk measures GET /api/v1/summary at 32 connections, once alone and
# once while 10,000 idle keep-alive connections and 200 clients trickling a header line per
# second are held open. The front must not care: same pace, same p99, a few KB per idle
# connection, not one thread more.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
hold_pid=""
trap '[ -n "$hold_pid" ] && stop_pid "$hold_pid"; stop_all' EXIT
idle="${BENCH_SC_IDLE:-10000}"
trickle="${BENCH_SC_TRICKLE:-200}"
conns="${BENCH_SC_CONNECTIONS:-32}"
dur="${BENCH_WRK_SECONDS:-5}"

start_emulator sc 1000
start_greenfleet sc GREENFLEET_UPSTREAM_DEFAULT_API_URL="$EMU_URL" \
  GREENFLEET_HTTP_MAX_CONNECTIONS=20000 GREENFLEET_HTTP_MAX_CONNECTIONS_PER_IP=20000
$TOOLS import "$EMU_URL" "$GF_URL" "$GF_KEY" 1000 >/dev/null
auth=(-H "Authorization: Bearer $GF_KEY")
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

run_wrk "$WORK/sc-alone" -t 2 -c "$conns" -d "${dur}s" --timeout 5s --latency "${auth[@]}" \
  "$GF_URL/api/v1/summary"
alone_rps="$WRK_RPS"; alone_p99="$WRK_P99_MS"
rss0="$($TOOLS rss "$GF_PID")"; threads0="$(threads "$GF_PID")"

ready="$WORK/sc-hold.ready"
python3 "$BENCH_DIR/hold_clients.py" "$GF_PORT" "$idle" "$trickle" $((dur + 30)) "$ready" \
  >"$WORK/sc-hold.out" 2>"$WORK/sc-hold.err" &
hold_pid=$!
for _ in $(seq 1 600); do [ -s "$ready" ] && break; sleep 0.1; done
[ -s "$ready" ] || { log "clients were not all connected"; exit 1; }
log "holding $(cat "$ready") idle/trickling connections"
rss1="$($TOOLS rss "$GF_PID")"; threads1="$(threads "$GF_PID")"
run_wrk "$WORK/sc-held" -t 2 -c "$conns" -d "${dur}s" --timeout 5s --latency "${auth[@]}" \
  "$GF_URL/api/v1/summary"

s="slow clients ($idle idle + $trickle trickling)"
note="$WRK_NON2XX non-2xx"
row "$s" "GET /api/v1/summary req/s with them held" "$WRK_RPS" req/s "same wrk alone" "$alone_rps" ge 0.8 "$note"
row "$s" "GET /api/v1/summary p99 with them held" "$WRK_P99_MS" ms "-" - le 20 "alone: ${alone_p99} ms"
per_conn_kb="$(calc "($rss1 - $rss0) * 1024 / $idle")"
row "$s" "RSS growth per idle connection" "$per_conn_kb" KB "-" - le 16 "RSS ${rss0} → ${rss1} MB"
row "$s" "threads added by the held connections" "$((threads1 - threads0))" "" "-" - le 0 "$threads0 → $threads1 threads"
