#!/usr/bin/env bash
# Scenario 1: greenfleet's scheduler driving getStateInstance against the emulator with limits
# that are not the bottleneck, vs wrk on the same route with the same connection count.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap stop_all EXIT
# Enough instances that neither side is limited by demand or by the emulator's 1 req/s per
# instance: greenfleet may poll n / 1.25 per second; wrk's threads each rotate over their own
# slice of the n instances, so at r req/s each one is asked every n / r seconds (> 1 s, so no 429s
# while r < n). At 80,000 wrk reached ~80,000 req/s and 30 % of its answers were cheap 429s, which
# flattered the reference; 160,000 keeps every answer of both sides a 200.
n="${BENCH_S1_INSTANCES:-160000}"
conns="${BENCH_CONNECTIONS:-64}"
warm="${BENCH_WARMUP_SECONDS:-5}"
win="${BENCH_WINDOW_SECONDS:-10}"
demand="$(calc "$n / 1.25")"

start_emulator s1 "$n"
start_polling_greenfleet s1 GREENFLEET_UPSTREAM_MAX_IN_FLIGHT="$conns"
r0="$(polls)"; c0="$($TOOLS cpu "$GF_PID")"; t0="$(now_ns)"
sleep "$win"
r1="$(polls)"; c1="$($TOOLS cpu "$GF_PID")"; t1="$(now_ns)"
polls="$(calc "$r1 - $r0")"
pps="$(calc "$polls / (($t1 - $t0) / 1e9)")"
cpu_per_poll_us="$(calc "($c1 - $c0) / max($polls, 1) * 1e6")"
limited="$(counter totals.rateLimited)"
log "greenfleet: $polls polls, $pps/s (demanded $demand/s), cpu $(calc "$c1 - $c0") s, rateLimited $limited"
stop_pid "$GF_PID"

$TOOLS wrk-paths "$EMU_URL" "$WORK/s1.paths"
run_wrk "$WORK/s1" -t 2 -c "$conns" -d "${win}s" --timeout 5s -s "$BENCH_DIR/wrk/rotate.lua" \
  "$EMU_URL" -- "$WORK/s1.paths" 2
wrk_cpu_us="$(calc "$WRK_CPU / max($WRK_REQS, 1) * 1e6")"
log "wrk: $WRK_REQS requests, $WRK_RPS/s, cpu $WRK_CPU s, non-2xx $WRK_NON2XX"

wrk_note=""
[ "$WRK_NON2XX" != 0 ] && wrk_note="wrk got $WRK_NON2XX non-2xx answers (429s): raise BENCH_S1_INSTANCES"
row "1 poll throughput" "polls/s (c=$conns, $n inst @1.25 s = $(printf %.0f "$demand")/s demanded)" \
  "$pps" polls/s "wrk req/s" "$WRK_RPS" ge 0.8 "$wrk_note"
row "1 poll throughput" "CPU µs per poll" "$cpu_per_poll_us" µs "wrk µs/req" "$wrk_cpu_us" le 2 ""
row "1 poll throughput" "emulator 429s during greenfleet run" "$limited" "" "-" - info 0 ""
