# Sourced by scripts/run, scripts/test and scripts/bench: installs the Debian packages greenfleet
# needs, and only those missing (no apt call at all when everything is present).

GREENFLEET_BUILD_PACKAGES=(
  cmake g++ make pkg-config
  libpoco-dev libfmt-dev doctest-dev libsqlite3-dev
  libqrencode-dev libpng-dev prometheus-cpp-dev libcurl4-openssl-dev
  libssl-dev  # AES-256-GCM for tokens at rest (EVP); also what Poco::Crypto builds on
  libsystemd-dev  # sd_notify: READY=1 for the Type=notify unit
  libmimalloc-dev  # the service binary's allocator (libcurl allocates on every poll)
)
GREENFLEET_TEST_PACKAGES=(
  zbar-tools sqlite3 curl
  clang-format  # style.format: scripts/format --check
  prometheus  # promtool: the /metrics tests run `promtool check metrics`
  chromium    # the dashboard test (tests/ui) drives it headless through puppeteer-core
  dpkg-dev file systemd  # the .deb test: dpkg-shlibdeps, CPack's ELF check, systemd-analyze
)
# scripts/bench: load generator, static-file reference server, JSON/timing helpers, profiler.
GREENFLEET_BENCH_PACKAGES=(
  wrk nginx python3 curl linux-perf
  libmicrohttpd-dev  # bench/front_compare: the libmicrohttpd side of issue 12's comparison
)

greenfleet_install_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  echo "==> installing missing packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "error: need root (or sudo) to install: ${missing[*]}" >&2
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}
