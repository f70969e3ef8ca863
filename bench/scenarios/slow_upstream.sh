#!/usr/bin/env bash
# Scenario 2: upstream answers after 200 ms; 2,000 polls/s demanded. The next probe is planned
# one interval after the previous answer, so an instance is polled every 1.25 s + 200 ms + the
# round trip's own few ms: 2,950 instances demand 2,950 / 1.45 = 2,034 polls/s at most, ~2,000/s
# with that overhead.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap stop_all EXIT
n="${BENCH_S2_INSTANCES:-2950}"
workers="${BENCH_S2_WORKERS:-600}"    # 2,000/s × 0.2 s = 400 in flight, plus headroom
warm="${BENCH_WARMUP_SECONDS:-5}"
win="${BENCH_S2_WINDOW_SECONDS:-15}"
demand="$(calc "$n / 1.45")"

start_emulator s2 "$n" --faults '{"latencyMs":200}'
start_polling_greenfleet s2 GREENFLEET_UPSTREAM_MAX_IN_FLIGHT="$workers"
r0="$(polls)"; t0="$(now_ns)"
sleep "$win"
r1="$(polls)"; t1="$(now_ns)"
pps="$(calc "($r1 - $r0) / (($t1 - $t0) / 1e9)")"
p99="$(summary scheduler.latenessP99Ms)"
rss="$($TOOLS rss "$GF_PID")"
limited="$(counter totals.rateLimited)"
maxps="$(counter methods.getStateInstance.maxPerSecond)"

s="2 slow upstream (200 ms)"
row "$s" "polls/s achieved" "$pps" polls/s "-" - ge 1950 "$n instances"
row "$s" "polls/s vs ideal (n / 1.45 s)" "$pps" polls/s "ideal" "$demand" ge 0.975 "the gap is per-poll overhead"
row "$s" "lateness p99 (last minute)" "$p99" ms "-" - le 250 ""
row "$s" "greenfleet RSS" "$rss" MB "-" - le 256 ""
row "$s" "emulator 429s (rateLimited)" "$limited" "" "-" - le 0 ""
row "$s" "getStateInstance maxPerSecond per instance" "$maxps" /s "-" - le 1 "Green API limit 1/s"
