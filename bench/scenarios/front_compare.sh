#!/usr/bin/env bash
# Scenario "front compare" (issue 12): greenfleet's HTTP front (http::EventServer: epoll loop,
# heads parsed by Poco) against libmicrohttpd, both in bench/front_compare answering GET
# /api/v1/summary with the same ~900-byte JSON. Per front: wrk alone; wrk while 10,000 idle
# keep-alive connections and 200 header tricklers are held (RSS per held connection, threads);
# then 200 tricklers alone for 15 s: how many did the front close (a head deadline counted from
# the first byte closes them at 10 s; an idle timeout reset by each byte never does).
# Values are the event front's, references libmicrohttpd's.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
hold_pid=""
trap '[ -n "$hold_pid" ] && stop_pid "$hold_pid"; stop_all' EXIT
idle="${BENCH_FC_IDLE:-10000}"
trickle="${BENCH_FC_TRICKLE:-200}"
conns="${BENCH_FC_CONNECTIONS:-32}"
dur="${BENCH_WRK_SECONDS:-5}"
trickle_s="${BENCH_FC_TRICKLE_SECONDS:-15}"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# BENCH_FC_TOOL: a front_compare binary built elsewhere (skips the build here).
tool="$(bench_tool front_compare "${BENCH_FC_TOOL:-}")"

body="$WORK/fc-summary.json"
python3 - "$body" <<'PY'
import json, sys
doc = {"instances": 1000, "byState": {"authorized": 940, "notAuthorized": 31, "blocked": 4,
       "sleepMode": 3, "starting": 2, "yellowCard": 5, "unknown": 15},
       "attention": {"needsScan": 31, "unreachable": 9, "blocked": 4},
       "scheduler": {"inFlight": 12, "dueNow": 0, "latenessP99Ms": 3, "pollsPerSecond": 16.7},
       "generatedAt": "2026-11-27T12:00:00Z", "snapshotAgeMs": 180, "tags": {}}
for n in range(12):
    doc["tags"][f"bench-tag-{n:02d}"] = {"instances": 80 + n, "authorized": 75 + n}
text = json.dumps(doc, separators=(",", ":"))
open(sys.argv[1], "w").write(text)
PY
log "summary body: $(wc -c <"$body") bytes; load average $(cut -d' ' -f1-3 /proc/loadavg)"

threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
sockets() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }

# hold PORT IDLE TRICKLE SECONDS: starts hold_clients.py, sets hold_pid, waits until connected.
hold() {
  local ready="$WORK/fc-hold.$1.ready"
  python3 "$BENCH_DIR/hold_clients.py" "$@" "$ready" >"$WORK/fc-hold.$1.out" 2>"$WORK/fc-hold.$1.err" &
  hold_pid=$!
  for _ in $(seq 1 600); do [ -s "$ready" ] && break; sleep 0.1; done
  [ -s "$ready" ] || { log "clients were not all connected"; return 1; }
}

declare -A rps0 p990 rps1 p991 non2xx kb held0 held1 thr0 thr1 closed
# measure MODE: one front, start to stop; fills the arrays above at MODE.
measure() {
  local m="$1" port pid t0 url
  port="$($TOOLS free-port)"
  t0="$(now_ns)"
  "$tool" "$m" "$port" "$body" >"$WORK/fc-$m.out" 2>"$WORK/fc-$m.err" &
  pid=$!
  BENCH_PIDS+=("$pid")
  $TOOLS wait-line "$WORK/fc-$m.out" "listening on" 30 "$t0" >/dev/null
  url="http://127.0.0.1:$port/api/v1/summary"

  run_wrk "$WORK/fc-$m-alone" -t 2 -c "$conns" -d "${dur}s" --timeout 5s --latency "$url"
  rps0[$m]="$WRK_RPS"; p990[$m]="$WRK_P99_MS"
  local rss_a s_a rss_b
  rss_a="$($TOOLS rss "$pid")"; s_a="$(sockets "$pid")"; thr0[$m]="$(threads "$pid")"

  hold "$port" "$idle" "$trickle" $((dur + 30))
  rss_b="$($TOOLS rss "$pid")"; held0[$m]=$(($(sockets "$pid") - s_a)); thr1[$m]="$(threads "$pid")"
  log "$m: holding ${held0[$m]} connections (of $idle idle + $trickle trickling)"
  run_wrk "$WORK/fc-$m-held" -t 2 -c "$conns" -d "${dur}s" --timeout 5s --latency "$url"
  rps1[$m]="$WRK_RPS"; p991[$m]="$WRK_P99_MS"; non2xx[$m]="$WRK_NON2XX"
  held1[$m]=$(($(sockets "$pid") - s_a))
  kb[$m]="$(calc "round(($rss_b - $rss_a) * 1024 / max(${held0[$m]}, 1), 2)")"
  stop_pid "$hold_pid"; hold_pid=""

  # Tricklers alone: hold_clients reconnects each one the front closed; a closed one is seen at
  # its next line (1-2 s later), and a reconnected one is younger than the deadline.
  hold "$port" 0 "$trickle" "$trickle_s"
  wait "$hold_pid" || true
  hold_pid=""
  closed[$m]="$(sed -n 's/.*reconnects=\([0-9]*\).*/\1/p' "$WORK/fc-hold.$port.out")"
  closed[$m]=$((${closed[$m]:-0} > trickle ? trickle : ${closed[$m]:-0}))
  log "$m: ${rps0[$m]} req/s alone, ${rps1[$m]} held; ${kb[$m]} KB/conn; threads ${thr0[$m]} → ${thr1[$m]}; ${closed[$m]}/$trickle tricklers closed"
  stop_all
}

measure event
measure mhd

s="front compare: EventServer vs libmicrohttpd"
row "$s" "req/s alone (wrk -c$conns)" "${rps0[event]}" req/s mhd "${rps0[mhd]}" ge 0.8 \
  "p99 ${p990[event]} vs ${p990[mhd]} ms"
row "$s" "req/s with $idle idle + $trickle trickling held" "${rps1[event]}" req/s mhd "${rps1[mhd]}" ge 0.8 \
  "non-2xx ${non2xx[event]} vs ${non2xx[mhd]}; held ${held0[event]}→${held1[event]} vs ${held0[mhd]}→${held1[mhd]}"
row "$s" "p99 with them held" "${p991[event]}" ms "-" - le 20 "mhd ${p991[mhd]} ms"
row "$s" "RSS growth per held connection" "${kb[event]}" KB "-" - le 16 "mhd ${kb[mhd]} KB"
row "$s" "threads added by the held connections" "$((${thr1[event]} - ${thr0[event]}))" "" "-" - le 0 \
  "event ${thr0[event]} → ${thr1[event]}, mhd ${thr0[mhd]} → ${thr1[mhd]}"
row "$s" "header tricklers closed within ${trickle_s} s (of $trickle)" "${closed[event]}" "" "-" - ge "$trickle" \
  "mhd ${closed[mhd]}: its timeout is reset by each byte"
