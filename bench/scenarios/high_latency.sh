#!/usr/bin/env bash
# Scenario "high latency" (issue 13): every answer takes 200 ms and 10,000 polls/s are demanded,
# so about 2,000 requests are in flight at once, on a few upstream I/O threads and the emulator's
# one event loop (its latency is a timer). As in scenario 2 the next probe is planned one interval
# (1.25 s) after the answer: 14,500 instances demand 14,500 / 1.45 s = 10,000 polls/s.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
trap stop_all EXIT
n="${BENCH_HL_INSTANCES:-14500}"
# libcurl 7.88 walks a host's whole connection list for every transfer: with ~2,000 connections
# to the one emulator host that walk dominates. Eight I/O threads (eight multi handles) cut each
# list to an eighth; real fleets spread over many Green API hosts and need fewer.
io_threads="${BENCH_HL_IO_THREADS:-8}"
warm="${BENCH_WARMUP_SECONDS:-5}"
win="${BENCH_HL_WINDOW_SECONDS:-15}"
demand="$(calc "$n / 1.45")"

start_emulator hl "$n" --faults '{"latencyMs":200}'
start_polling_greenfleet hl GREENFLEET_UPSTREAM_IO_THREADS="$io_threads"
r0="$(polls)"; t0="$(now_ns)"; c0="$($TOOLS cpu "$GF_PID")"
threads_max=0
for _ in $(seq 1 "$win"); do
  sleep 1
  t="$($TOOLS threads "$GF_PID")"
  [ "$t" -gt "$threads_max" ] && threads_max="$t"
done
r1="$(polls)"; t1="$(now_ns)"; c1="$($TOOLS cpu "$GF_PID")"
pps="$(calc "($r1 - $r0) / (($t1 - $t0) / 1e9)")"
cpu_per_poll_us="$(calc "($c1 - $c0) / max($r1 - $r0, 1) * 1e6")"
in_flight="$(summary scheduler.inFlight)"
p99="$(summary scheduler.latenessP99Ms)"
rss="$($TOOLS rss "$GF_PID")"
limited="$(counter totals.rateLimited)"
state_max="$(counter methods.getStateInstance.maxPerSecond)"
qr_max="$(counter methods.qr.maxPerSecond 2>/dev/null || echo 0)"
case "$qr_max" in ""|None|null) qr_max=0 ;; esac
log "greenfleet: $pps polls/s of $demand, in flight $in_flight, threads $threads_max, cpu/poll $cpu_per_poll_us us"

s="high latency (200 ms, 10k/s)"
row "$s" "polls/s vs ideal (n / 1.45 s)" "$pps" polls/s "ideal" "$demand" ge 0.975 "$n instances, $in_flight in flight at the end"
row "$s" "greenfleet threads (max of 1 s samples)" "$threads_max" "" "-" - le 32 "Threads: in /proc/PID/status"
row "$s" "greenfleet RSS" "$rss" MB "-" - le 256 ""
row "$s" "lateness p99 (last minute)" "$p99" ms "-" - le 250 ""
row "$s" "CPU µs per poll" "$cpu_per_poll_us" µs "-" - info 0 ""
row "$s" "emulator 429s (rateLimited)" "$limited" "" "-" - le 0 ""
row "$s" "getStateInstance maxPerSecond per instance" "$state_max" /s "-" - le 1 "Green API limit 1/s"
row "$s" "qr maxPerSecond per instance" "${qr_max:-0}" /s "-" - le 3 "Green API limit 3/s (no qr here)"
