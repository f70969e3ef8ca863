#!/usr/bin/env bash
# Builds the .deb from this build tree with CPack and inspects it: control fields, conffiles,
# maintainer scripts, the file list; then unpacks it into a throwaway root and checks that the
# binary runs (`version`), that the shipped config points at /var/lib/greenfleet and that the
# unit passes `systemd-analyze verify` with ExecStart pointing at the unpacked binary.
#   tests/packaging/deb_test.sh BUILD_DIR
set -euo pipefail
build="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb="$(ls "$work"/out/greenfleet_*.deb)"
[ -f "$deb" ] || fail "no .deb produced"

info="$(dpkg-deb --info "$deb")"
for field in "Package: greenfleet" "Architecture: amd64" "Depends:" "libpoco" "libsqlite3" \
             "libcurl" "libqrencode" "libsystemd0"; do
  grep -q "$field" <<<"$info" || fail "control lacks '$field':"$'\n'"$info"
done
# The list is read whole first: `| grep -q` under pipefail fails when grep's early exit SIGPIPEs tar.
control_files="$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)"
grep -qx './conffiles' <<<"$control_files" || fail "no conffiles"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/greenfleet/greenfleet.properties "$work/control/conffiles" ||
  fail "the config is not a conffile"
for script in postinst postrm; do
  [ -x "$work/control/$script" ] || fail "$script missing or not executable"
  sh -n "$work/control/$script" || fail "$script has a syntax error"
done

contents="$(dpkg-deb --contents "$deb" | awk '{print $NF}')"
for path in ./usr/bin/greenfleet ./etc/greenfleet/greenfleet.properties \
            ./usr/lib/systemd/system/greenfleet.service ./usr/lib/sysusers.d/greenfleet.conf \
            ./usr/lib/greenfleet/health-sweep ./usr/share/greenfleet/grafana/greenfleet.json \
            ./usr/share/greenfleet/prometheus/greenfleet-alerts.yml \
            ./usr/share/doc/greenfleet/README.md ./usr/share/doc/greenfleet/API.md \
            ./usr/share/doc/greenfleet/examples/cron.d/greenfleet; do
  grep -qx "$path" <<<"$contents" || fail "$path is not in the package"
done
if grep -q 'greenfleet\.db\|admin\.key\|secret\.key' <<<"$contents"; then
  fail "the package carries a database or key file"
fi

root="$work/root"
dpkg-deb -x "$deb" "$root"
out="$("$root/usr/bin/greenfleet" version)" || fail "the unpacked binary does not run"
grep -q greenfleet <<<"$out" || fail "version printed: $out"
grep -qx 'data.dir = /var/lib/greenfleet' "$root/etc/greenfleet/greenfleet.properties" ||
  fail "the shipped config does not use /var/lib/greenfleet"

unit="$work/unit/greenfleet.service"
mkdir -p "$work/unit"
sed "s#/usr/bin/greenfleet#$root/usr/bin/greenfleet#" \
  "$root/usr/lib/systemd/system/greenfleet.service" >"$unit"
verify="$(systemd-analyze verify "$unit" 2>&1)" || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify warns: $verify"
grep -q '^Type=notify$' "$unit" || fail "the unit is not Type=notify"
echo "deb ok: $(basename "$deb"), $(wc -l <<<"$contents") paths"
