#!/usr/bin/env bash
# Scenario 3: N instances (default 100,000; first argument or BENCH_S3_INSTANCES; 90 % authorized,
# 10 % notAuthorized) registered through the API in batches of 10,000, a restart timed to
# /readyz, then RSS (greenfleet and emulator), lateness and limits at the default intervals.
# Fleets of a million and more have their own row set (targets of issue 14). Scenario 4 (up to
# 100,000 only) then loads the admin API of that fleet with wrk, against nginx serving the same
# bodies as static files.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
nginx_pid=""
trap '[ -n "$nginx_pid" ] && stop_pid "$nginx_pid"; stop_all' EXIT
n="${1:-${BENCH_S3_INSTANCES:-100000}}"
if [ "$n" -ge 1000000 ]; then
  # issue 14 at a million: import >= 50,000/s, ready <= 3 s, RSS <= 1 GB / emulator <= 1.5 GB.
  import_op=ge import_target=50000 ready_target=3000 rss_target=1024 emu_rss_target=1536
else
  import_op=info import_target=0 ready_target=1000 rss_target=200 emu_rss_target=1536
fi
settle="${BENCH_S3_SETTLE_SECONDS:-20}"
conns="${BENCH_S4_CONNECTIONS:-32}"
dur="${BENCH_WRK_SECONDS:-5}"
not_auth=$((n / 10))

start_emulator s3 $((n - not_auth))
emu_start_ms="$EMU_START_MS"
curl -fsS -X POST -H 'Content-Type: application/json' --data "{\"count\":$not_auth,\"state\":\"notAuthorized\"}" \
  "$EMU_URL/_emulator/instances" >/dev/null
# Default intervals and spread; only the global request budget is raised to what the fleet needs
# at those intervals: 90 % authorized at 60 s + 10 % notAuthorized at 30 s = n / 54.5 polls/s
# (1,830/s at 100,000, 18,300/s at 1,000,000), above the default upstream.max_rps of 1,000. A cap
# below that demand makes every probe later than the scheduler planned it, without end (17 s p99
# at a million with the 5,000 this scenario used to set). n / 40 leaves room for jitter, confirm
# probes and scan sessions; never below 5,000; in flight: 1 % of that, at least 64, and as many
# per host (the emulator is one host for the whole fleet, where Green API spreads instances over
# many: at 64 per host a million instances waited for the host, not for their time).
max_rps=$((n / 40 > 5000 ? n / 40 : 5000))
max_in_flight=$((max_rps / 100 > 64 ? max_rps / 100 : 64))
gf_env=(GREENFLEET_UPSTREAM_MAX_RPS="$max_rps" GREENFLEET_UPSTREAM_MAX_IN_FLIGHT="$max_in_flight"
        GREENFLEET_UPSTREAM_MAX_IN_FLIGHT_PER_HOST="$max_in_flight")
start_greenfleet s3 "${gf_env[@]}"
read -r count secs rate < <($TOOLS import "$EMU_URL" "$GF_URL" "$GF_KEY" 10000)
log "imported $count instances in ${secs}s ($rate/s); restarting"
s="3 big fleet (${n} inst)"
row "$s" "emulator start-up, --instances $((n - not_auth))" "$emu_start_ms" ms "-" - info 0 ""
row "$s" "bulk import (batches of 10,000)" "$rate" inst/s "-" - "$import_op" "$import_target" "$count in ${secs} s"

stop_pid "$GF_PID"
start_greenfleet s3 "${gf_env[@]}"
row "$s" "restart: process start → /readyz 200" "$GF_READY_MS" ms "-" - le "$ready_target" ""
row "$s" "restart: CPU seconds to /readyz 200" "$GF_READY_CPU_S" s "-" - info 0 \
  "utime+stime of all its threads; the wall time above when the machine is busy is mostly waiting"
curl -fsS -X POST "$EMU_URL/_emulator/reset-counters" >/dev/null
log "running ${settle}s at the default intervals"
sleep "$settle"
p99="$(summary scheduler.latenessP99Ms)"
pps="$(summary scheduler.probesPerSecond)"
rss="$($TOOLS rss "$GF_PID")"
emu_rss="$($TOOLS rss "$EMU_PID")"
limited="$(counter totals.rateLimited)"
maxps="$(counter methods.getStateInstance.maxPerSecond)"
qrmax="$(counter methods.qr.maxPerSecond 2>/dev/null || echo 0)"
row "$s" "greenfleet RSS" "$rss" MB "-" - le "$rss_target" "$(awk -v r="$rss" -v n="$n" 'BEGIN{printf "%.0f B/instance", r*1048576/n}')"
row "$s" "emulator RSS" "$emu_rss" MB "-" - le "$emu_rss_target" "$(awk -v r="$emu_rss" -v n="$n" 'BEGIN{printf "%.0f B/instance", r*1048576/n}')"
row "$s" "lateness p99 (since restart)" "$p99" ms "-" - le 100 "$(printf %.0f "$pps") probes/s, max_rps $max_rps"
row "$s" "emulator 429s (rateLimited)" "$limited" "" "-" - le 0 ""
row "$s" "getStateInstance maxPerSecond per instance" "$maxps" /s "-" - le 1 "qr max $qrmax/s (limit 3)"

# ---- scenario 4: admin API vs nginx with the same bodies --------------------------------------
[ "$n" -gt 100000 ] && exit 0
www="$WORK/nginx/www"; mkdir -p "$www/api/v1" "$WORK/nginx/tmp"
auth=(-H "Authorization: Bearer $GF_KEY")
curl -fsS "${auth[@]}" "$GF_URL/api/v1/needs-scan" -o "$www/api/v1/needs-scan"
curl -fsS "${auth[@]}" "$GF_URL/api/v1/summary" -o "$www/api/v1/summary"
# The gzip bytes greenfleet answers, served by nginx as a pre-compressed file.
curl -fsS "${auth[@]}" -H 'Accept-Encoding: gzip' "$GF_URL/api/v1/needs-scan" -o "$www/api/v1/needs-scan.gz"
ns_items="$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['items']))" "$www/api/v1/needs-scan")"
ns_total="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['total'])" "$www/api/v1/needs-scan")"
nginx_port="$($TOOLS free-port)"
cat >"$WORK/nginx/nginx.conf" <<CONF
user $(id -un);
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port; root $www; location / { }
    location = /gz/api/v1/needs-scan { alias $www/api/v1/needs-scan.gz; add_header Content-Encoding gzip; }
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>>"$WORK/nginx/error.log" &
nginx_pid=$!
$TOOLS wait-http "http://127.0.0.1:$nginx_port/api/v1/summary" 10 "$(now_ns)" >/dev/null

s4="4 admin API (c=$conns)"
for route in needs-scan summary needs-scan.gz; do
  path="/api/v1/$route"; ng_path="$path"; hdr=(); label="GET $path"
  if [ "$route" = needs-scan.gz ]; then
    path="/api/v1/needs-scan"; ng_path="/gz/api/v1/needs-scan"
    hdr=(-H "Accept-Encoding: gzip"); label="GET $path (gzip)"
  fi
  bytes="$(stat -c %s "$www/api/v1/$route")"
  run_wrk "$WORK/s4-nginx-$route" -t 2 -c "$conns" -d "${dur}s" --timeout 5s --latency \
    "${auth[@]}" "${hdr[@]+"${hdr[@]}"}" "http://127.0.0.1:$nginx_port$ng_path"
  ng_rps="$WRK_RPS"
  run_wrk "$WORK/s4-gf-$route" -t 2 -c "$conns" -d "${dur}s" --timeout 5s --latency \
    "${auth[@]}" "${hdr[@]+"${hdr[@]}"}" "$GF_URL$path"
  note="$bytes B body"
  [ "$route" != summary ] && note="$ns_items of $ns_total items, $bytes B body"
  [ "$WRK_NON2XX" != 0 ] && note="$note, $WRK_NON2XX non-2xx"
  row "$s4" "$label req/s" "$WRK_RPS" req/s "nginx static" "$ng_rps" ge 0.5 "$note"
  row "$s4" "$label p99" "$WRK_P99_MS" ms "-" - le 10 ""
done
