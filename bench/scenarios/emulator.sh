#!/usr/bin/env bash
# Issue 4 figures: `greenfleet emulate --instances 1000` start-up time and its wrk throughput on
# getStateInstance spread over all 1000 instances (most answers are 429: each instance allows
# 1 request/s, so this measures the wire route including its rate-limit path).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap stop_all EXIT
conns="${BENCH_CONNECTIONS:-64}"
dur="${BENCH_WRK_SECONDS:-5}"

start_emulator emu1k 1000
row emulator "start-up, --instances 1000" "$EMU_START_MS" ms "-" - info 0 "spawn to 'listening' line"
$TOOLS wrk-paths "$EMU_URL" "$WORK/emu1k.paths"
run_wrk "$WORK/emu1k" -t 2 -c "$conns" -d "${dur}s" --timeout 5s -s "$BENCH_DIR/wrk/rotate.lua" \
  "$EMU_URL" -- "$WORK/emu1k.paths" 2
row emulator "wrk getStateInstance req/s (c=$conns)" "$WRK_RPS" req/s "-" - info 0 \
  "$WRK_NON2XX of $WRK_REQS answered 429"
run_wrk "$WORK/emu1k-health" -t 2 -c "$conns" -d "${dur}s" --timeout 5s "$EMU_URL/_emulator/health"
row emulator "wrk /_emulator/health req/s (c=$conns)" "$WRK_RPS" req/s "-" - info 0 ""
