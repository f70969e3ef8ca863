#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>

#include <Poco/AutoPtr.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <fmt/format.h>

extern char** environ;

namespace greenfleet::config {

const std::vector<ConfigKey>& configKeys() {
  static const std::vector<ConfigKey> keys = {
      {"http.host", "127.0.0.1", "address the admin API listens on"},
      {"http.port", "8080", "port of the admin API (0 = pick a free port and print it)"},
      {"http.threads", "8", "API handler threads (open connections cost memory, not threads)"},
      {"http.queue", "1024", "requests waiting for a handler thread before new ones get 503"},
      {"http.keep_alive_timeout_s", "60", "idle keep-alive connections are closed after this"},
      {"http.header_timeout_s", "10",
       "a request head must arrive within this, counted from its first byte"},
      {"http.body_timeout_s", "30",
       "a request body must arrive within this, counted from the end of the head"},
      {"http.send_timeout_s", "60",
       "a client that reads nothing of an answer for this long is disconnected"},
      {"http.max_connections", "10000",
       "open connections at most, both listeners together (more are refused)"},
      {"http.max_connections_per_ip", "256", "open connections at most from one client address"},
      {"http.max_body_bytes", "4194304", "largest request body accepted (413 above)"},
      {"http.cors_origins", "", "comma-separated origins allowed to call the API from a browser"},
      {"public.enabled", "false", "serve the public routes (webhooks) on their own listener"},
      {"public.host", "0.0.0.0", "address of the public listener"},
      {"public.port", "8081", "port of the public listener (0 = pick a free port and print it)"},
      {"public.base_url", "",
       "what scan link URLs start with, e.g. https://fleet.example.com (empty = the listener's "
       "address)"},
      {"data.dir", "var", "directory for the database and the generated admin key (created 0700)"},
      {"db.path", "", "SQLite database file (default: <data.dir>/greenfleet.db)"},
      {"db.busy_timeout_ms", "5000", "how long a write waits for another writer's lock"},
      {"auth.admin_key_file", "",
       "where the first admin key is written (default: <data.dir>/admin.key)"},
      {"secrets.key_file", "",
       "key that encrypts tokens at rest, 64 hex digits (default: <data.dir>/secret.key, created "
       "0600 on first start; GREENFLEET_SECRETS_KEY overrides it)"},
      {"upstream.default_api_url", "https://api.green-api.com",
       "apiUrl for instances registered without one"},
      {"upstream.allowed_hosts", "*.green-api.com, *.greenapi.com",
       "hosts apiUrls may name: host, *.domain, IP or CIDR, comma-separated; internal addresses "
       "only when listed"},
      {"upstream.connect_timeout_ms", "5000", "connect timeout of a Green API request"},
      {"upstream.request_timeout_ms", "30000",
       "total timeout of a Green API request (connect to last byte)"},
      {"upstream.io_threads", "1",
       "event-loop threads driving all Green API requests (libcurl multi)"},
      {"upstream.max_in_flight", "4096",
       "Green API requests in flight at most, all hosts together"},
      {"upstream.max_rps", "1000", "Green API requests per second at most, all instances together"},
      {"upstream.max_in_flight_per_host", "64",
       "requests in flight (and connections) at most per apiUrl host"},
      {"scheduler.interval_authorized_s", "60", "state probe interval of an authorized instance"},
      {"scheduler.interval_not_authorized_s", "30",
       "state probe interval of a notAuthorized instance"},
      {"scheduler.interval_starting_s", "15",
       "state probe interval while starting or initializing"},
      {"scheduler.interval_blocked_s", "300",
       "state probe interval of blocked/suspended instances"},
      {"scheduler.interval_other_s", "60", "state probe interval of any other state"},
      {"scheduler.startup_spread_s", "60",
       "first probes after a start are spread over this window"},
      {"scheduler.jitter", "0.1", "random +/- fraction applied to every interval"},
      {"scheduler.confirm_delay_s", "5",
       "a worse reading is confirmed by a second probe this much later"},
      {"scheduler.auth_grace_s", "600",
       "401/403 becomes credentials_rejected only after this long"},
      {"scheduler.stuck_starting_s", "600", "starting longer than this is stuck_starting"},
      {"scheduler.unreachable_after_failures", "5", "consecutive outages before unreachable"},
      {"scheduler.qr_rps", "2", "qr calls per second per instance (Green API allows 3)"},
      {"scheduler.account_method_rps", "0.8",
       "getStateInstance/logout/reboot per second per instance (Green API allows 1)"},
      {"scheduler.backoff_base_s", "2",
       "first backoff after a 429 or an outage (exponential, full jitter)"},
      {"scheduler.backoff_cap_s", "300", "longest backoff"},
      {"sessions.auto_start", "true",
       "start a QR scan session when an instance becomes notAuthorized"},
      {"sessions.poll_interval_s", "1", "qr poll interval during a scan session"},
      {"sessions.idle_s", "120", "a session ends this long after its QR was last fetched"},
      {"sessions.max_run_s", "240",
       "sessions never poll longer in a row (Green API moves an instance to starting after ~5 "
       "min)"},
      {"sessions.cooldown_s", "120", "pause after a session ran its maximum"},
      {"sessions.max_concurrent", "50", "scan sessions running at once at most"},
      {"sessions.transport", "websocket",
       "where a scan session takes its QR: websocket (scanqrcode, falls back to polling) or poll"},
      {"scan_links.ttl_s", "900", "a scan link is valid this long after it is made, seconds"},
      {"scan_links.link_rps", "2",
       "requests per second one scan link may make (burst: 10 s worth)"},
      {"scan_links.client_rps", "5",
       "requests per second one client address may make to scan links (burst: 10 s worth)"},
      {"pairing.min_interval_s", "20",
       "pairing codes of one instance are requested at least this far apart, seconds"},
      {"status.batch_ms", "250",
       "status observations are committed in batches at least this often"},
      {"status.checked_write_interval_s", "30",
       "a probe that changes nothing but its times is written at most this often per instance (0 = "
       "every probe)"},
      {"status.max_pending_updates", "200000",
       "status rows and events waiting for the database at most; beyond it the oldest events drop "
       "(counted in a metric)"},
      {"events.retention_days", "30", "events older than this are pruned (0 = keep forever)"},
      {"events.heartbeat_s", "15", "an idle event stream sends a heartbeat this often"},
      {"events.max_subscribers", "1000",
       "event streams open at once at most, all API keys together"},
      {"events.max_streams_per_key", "8", "event streams one API key may hold open at once"},
      {"webhooks.token", "",
       "token Green API must send (the instance's webhookUrlToken); empty = webhooks off"},
      {"webhooks.configure_min_interval_ms", "1100",
       "configure-webhook/verify-webhook start at most this often per instance (setSettings: 1 per "
       "second per instance)"},
      {"webhooks.configure_per_second", "2",
       "a configure-webhook job starts at most this many setSettings per second, fleet-wide"},
      {"alerts.targets", "",
       "comma-separated URLs POSTed to when an instance enters or leaves an alerted attention; "
       "prefix slack: for a Slack-compatible body"},
      {"alerts.reasons", "needs_scan,passkey_required,blocked,credentials_rejected",
       "attentions that raise alerts"},
      {"alerts.dashboard_url", "",
       "dashboard base URL put in alerts (default: the admin listener's /ui/)"},
      {"alerts.max_queue", "10000",
       "notices held per target while it fails; beyond, the oldest is dropped and counted"},
      {"alerts.retry_min_s", "1",
       "first retry of a failed delivery after this; doubling up to alerts.retry_max_s"},
      {"alerts.retry_max_s", "300", "longest wait between retries of a failing target"},
      {"alerts.timeout_s", "10", "one delivery attempt gives up after this"},
      {"metrics.require_key", "false",
       "GET /metrics needs a read API key (default: open, like /healthz)"},
      {"partners.sync_interval", "900",
       "seconds between periodic syncs of a partner account (jittered +/-10 %)"},
      {"partners.min_interval", "60",
       "seconds at least between two getInstances calls of one partner account (periodic or on "
       "demand)"},
      {"log.level", "information", "fatal|critical|error|warning|notice|information|debug|trace"},
  };
  return keys;
}

std::string envVarFor(std::string_view key) {
  std::string out = "GREENFLEET_";
  for (const char c : key) {
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

namespace {
// Keys that existed once: setting one is an error that says what replaced it.
std::optional<std::string> retiredKeyMessage(std::string_view key) {
  if (key == "upstream.workers") {
    return "upstream.workers is gone: Green API requests no longer run on worker threads; set "
           "upstream.max_in_flight (requests in flight, default 4096) and upstream.io_threads "
           "(event-loop threads, default 1) instead";
  }
  return std::nullopt;
}

const ConfigKey* findKey(std::string_view key) {
  const auto& keys = configKeys();
  const auto it =
      std::find_if(keys.begin(), keys.end(), [&](const ConfigKey& k) { return k.key == key; });
  return it == keys.end() ? nullptr : &*it;
}
}  // namespace

std::map<std::string, std::string> Config::processEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

Config Config::load(const std::string& file, const std::map<std::string, std::string>& env,
                    const std::map<std::string, std::string>& overrides) {
  Config c;
  for (const auto& k : configKeys()) {
    c.values_[std::string(k.key)] = std::string(k.default_value);
    c.sources_[std::string(k.key)] = "default";
  }
  if (!file.empty()) {
    if (!std::ifstream(file)) throw ConfigError(fmt::format("cannot read config file {}", file));
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> props;
    try {
      props = new Poco::Util::PropertyFileConfiguration(file);
    } catch (const Poco::Exception& e) {
      throw ConfigError(fmt::format("cannot parse config file {}: {}", file, e.displayText()));
    }
    std::vector<std::string> roots;
    props->keys(roots);
    // Walk the key tree: Poco exposes "http.port" as root "http" with child "port".
    std::vector<std::string> pending(roots.begin(), roots.end());
    while (!pending.empty()) {
      const std::string key = pending.back();
      pending.pop_back();
      std::vector<std::string> children;
      props->keys(key, children);
      for (const auto& child : children) pending.push_back(key + "." + child);
      if (!children.empty()) continue;
      if (const auto retired = retiredKeyMessage(key)) {
        throw ConfigError(fmt::format("{} (in {})", *retired, file));
      }
      if (findKey(key) == nullptr) {
        throw ConfigError(fmt::format("unknown configuration key '{}' in {}", key, file));
      }
      c.values_[key] = props->getRawString(key);
      c.sources_[key] = "file";
    }
  }
  for (const std::string_view retired : {"upstream.workers"}) {
    if (env.contains(envVarFor(retired))) {
      throw ConfigError(
          fmt::format("{} (from {})", *retiredKeyMessage(retired), envVarFor(retired)));
    }
  }
  for (const auto& k : configKeys()) {
    if (const auto it = env.find(envVarFor(k.key)); it != env.end()) {
      c.values_[std::string(k.key)] = it->second;
      c.sources_[std::string(k.key)] = "env";
    }
  }
  for (const auto& [key, value] : overrides) {
    if (const auto retired = retiredKeyMessage(key)) throw ConfigError(*retired);
    if (findKey(key) == nullptr)
      throw ConfigError(fmt::format("unknown configuration key '{}'", key));
    c.values_[key] = value;
    c.sources_[key] = "flag";
  }
  return c;
}

std::string Config::getString(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end())
    throw std::logic_error(fmt::format("config key '{}' is not declared", key));
  return it->second;
}

std::int64_t Config::getInt(std::string_view key, std::int64_t min, std::int64_t max) const {
  const std::string text = getString(key);
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    throw ConfigError(fmt::format("{} must be an integer in [{}, {}], got '{}' (from {})", key, min,
                                  max, text, sourceOf(key)));
  }
  return v;
}

double Config::getDouble(std::string_view key, double min, double max) const {
  const std::string text = getString(key);
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(v >= min && v <= max)) {
    throw ConfigError(fmt::format("{} must be a number in [{}, {}], got '{}' (from {})", key, min,
                                  max, text, sourceOf(key)));
  }
  return v;
}

bool Config::getBool(std::string_view key) const {
  const std::string text = getString(key);
  if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
  if (text == "false" || text == "no" || text == "off" || text == "0") return false;
  throw ConfigError(
      fmt::format("{} must be true or false, got '{}' (from {})", key, text, sourceOf(key)));
}

std::string Config::sourceOf(std::string_view key) const {
  const auto it = sources_.find(key);
  return it == sources_.end() ? "unknown" : it->second;
}

}  // namespace greenfleet::config
