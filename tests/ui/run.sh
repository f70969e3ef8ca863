#!/usr/bin/env bash
# The dashboard test, self-contained: starts `greenfleet emulate` (a small fleet, 3 of them
# notAuthorized) and `greenfleet serve` on free ports in a fresh temp dir, registers the fleet,
# creates a read key, then drives the dashboard in headless Chromium (dashboard.test.mjs).
# Everything it started is stopped on exit, whatever happens.
#   tests/ui/run.sh <greenfleet binary> [--screenshots DIR]
# Needs node (>= 18), `npm ci` done in tests/ui, and Chromium at $CHROMIUM (/usr/bin/chromium).
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
here="$(cd "$(dirname "$0")" && pwd)"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

fail() { echo "ui test: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "no greenfleet binary at $bin"
command -v node >/dev/null || fail "node is not installed"
[ -x "$CHROMIUM" ] || fail "no Chromium at $CHROMIUM (apt-get install chromium)"
[ -d "$here/node_modules/puppeteer-core" ] || fail "run 'npm ci' in $here first (scripts/test does)"

work="$(mktemp -d "${TMPDIR:-/tmp}/greenfleet-ui.XXXXXX")"
pids=()
cleanup() {
  local code=$?
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
  if [ "$code" -ne 0 ]; then
    for f in emulator.log server.log; do
      [ -f "$work/$f" ] && { echo "--- $f (tail)"; grep -v "path=/api/v1/events " "$work/$f" | tail -n 40; }
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints the port a child announced with "listening on http://host:PORT" in its log.
listening_port() {
  local log="$1" pid="$2" port
  for _ in $(seq 1 600); do
    port="$(grep -oE 'listening on http://[^ ]+:[0-9]+' "$log" 2>/dev/null | head -n1 | grep -oE '[0-9]+$' || true)"
    if [ -n "$port" ]; then echo "$port"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  cat "$log" >&2
  return 1
}

cat > "$work/scenario.json" <<'JSON'
{"instances": {"authorized": 3, "notAuthorized": 3, "blocked": 1},
 "delays": {"initializingMs": 0, "startingMs": 1000, "logoutMs": 500, "rebootMs": 1000},
 "seed": 7}
JSON
# A long QR rotation: the test compares the QR on screen with the emulator's current payload.
"$bin" emulate --port 0 --scenario "$work/scenario.json" --qr-rotation-ms 120000 \
  --export-fleet "$work/fleet.json" >"$work/emulator.log" 2>&1 &
pids+=($!)
emulator_port="$(listening_port "$work/emulator.log" "${pids[0]}")" || fail "the emulator did not start"

mkdir -p "$work/var"
(
  cd "$work"
  export GREENFLEET_SCHEDULER_STARTUP_SPREAD_S=0.5 GREENFLEET_SCHEDULER_INTERVAL_AUTHORIZED_S=5 \
    GREENFLEET_SCHEDULER_INTERVAL_NOT_AUTHORIZED_S=2 GREENFLEET_SCHEDULER_INTERVAL_STARTING_S=2 \
    GREENFLEET_SCHEDULER_INTERVAL_OTHER_S=5 GREENFLEET_SCHEDULER_CONFIRM_DELAY_S=1 \
    GREENFLEET_UPSTREAM_ALLOWED_HOSTS=127.0.0.1 \
    GREENFLEET_UPSTREAM_DEFAULT_API_URL="http://127.0.0.1:$emulator_port"
  exec "$bin" serve --port 0 --data-dir "$work/var"
) >"$work/server.log" 2>&1 &
pids+=($!)
server_port="$(listening_port "$work/server.log" "${pids[1]}")" || fail "greenfleet serve did not start"
base="http://127.0.0.1:$server_port"

for _ in $(seq 1 300); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && [ -s "$work/var/admin.key" ] && break
  sleep 0.1
done
admin_key="$(cat "$work/var/admin.key")"
code="$(curl -sS -o "$work/register.out" -w '%{http_code}' -X POST "$base/api/v1/instances" \
  -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
  --data-binary "@$work/fleet.json")"
[ "$code" = 201 ] || fail "registering the fleet answered $code: $(cat "$work/register.out")"
read_key="$("$bin" keys create --data-dir "$work/var" --name ui-test --role read 2>/dev/null)"

cd "$here"
GF_BASE_URL="$base" GF_READ_KEY="$read_key" GF_ADMIN_KEY="$admin_key" \
GF_EMULATOR_URL="http://127.0.0.1:$emulator_port" GF_TMP="$work" \
  timeout --kill-after=10 300 node dashboard.test.mjs "$@"
