#!/usr/bin/env bash
# Scenario "engine ceiling" (issue 13): bench/engine_ceiling — greenapi::TransferEngine alone, no
# scheduler, 64 requests in flight on one I/O thread, each completion issuing the next
# getStateInstance — against wrk on the same emulator, route and 160,000 instances as scenario 1.
# What the poller could reach at best on this machine with this libcurl; not run by default.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap stop_all EXIT
n="${BENCH_S1_INSTANCES:-160000}"
conns="${BENCH_CONNECTIONS:-64}"
win="${BENCH_WINDOW_SECONDS:-10}"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# BENCH_EC_TOOL: an engine_ceiling binary built elsewhere (skips the build here).
tool="$(bench_tool engine_ceiling "${BENCH_EC_TOOL:-}")"

start_emulator ec "$n"
$TOOLS emulator-ids "$EMU_URL" "$WORK/ec.instances"
read -r rps cpu_us < <("$tool" "$EMU_URL" "$WORK/ec.instances" --in-flight "$conns" \
  --seconds "$win")
log "engine alone: $rps req/s, $cpu_us µs CPU per request"
sleep 2  # as in scenario 1, where stopping greenfleet takes about this long
$TOOLS wrk-paths "$EMU_URL" "$WORK/ec.paths"
run_wrk "$WORK/ec" -t 2 -c "$conns" -d "${win}s" --timeout 5s -s "$BENCH_DIR/wrk/rotate.lua" \
  "$EMU_URL" -- "$WORK/ec.paths" 2
wrk_cpu_us="$(calc "$WRK_CPU / max($WRK_REQS, 1) * 1e6")"
s="engine ceiling (no scheduler)"
row "$s" "TransferEngine alone req/s (c=$conns, 1 I/O thread)" "$rps" req/s "wrk req/s" "$WRK_RPS" \
  info 0 "scenario 1's target is 0.8× for the whole poller"
row "$s" "TransferEngine alone CPU µs per request" "$cpu_us" µs "wrk µs/req" "$wrk_cpu_us" info 0 ""
