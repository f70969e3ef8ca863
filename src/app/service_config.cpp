#include "app/service_config.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <fmt/format.h>

#include "store/migrator.hpp"

namespace greenfleet::app {

void addConfigFlags(Flags& flags) {
  flags.option("config", "FILE", "properties file (default: etc/greenfleet.properties if present)")
      .option("data-dir", "DIR", "data directory (config data.dir)")
      .option("db", "FILE", "SQLite database file (config db.path)");
}

config::Config loadConfig(const Flags& flags, std::map<std::string, std::string> overrides) {
  std::string file;
  if (const auto f = flags.get("config")) {
    file = *f;
  } else if (std::filesystem::exists(kDefaultConfigFile)) {
    file = kDefaultConfigFile;
  }
  if (const auto d = flags.get("data-dir")) overrides["data.dir"] = *d;
  if (const auto d = flags.get("db")) overrides["db.path"] = *d;
  return config::Config::load(file, config::Config::processEnvironment(), overrides);
}

std::optional<config::Config> parseAndConfigure(Flags& flags,
                                                const std::vector<std::string>& args) {
  if (!flags.parse(args)) return std::nullopt;
  auto config = loadConfig(flags);
  setupLogging(config);
  return config;
}

std::string databasePath(const config::Config& config) {
  const std::string path = config.getString("db.path");
  if (!path.empty()) return path;
  return (std::filesystem::path(config.getString("data.dir")) / "greenfleet.db").string();
}

std::string adminKeyFile(const config::Config& config) {
  const std::string path = config.getString("auth.admin_key_file");
  if (!path.empty()) return path;
  return (std::filesystem::path(config.getString("data.dir")) / "admin.key").string();
}

std::string secretsKeyFile(const config::Config& config) {
  const std::string path = config.getString("secrets.key_file");
  if (!path.empty()) return path;
  return (std::filesystem::path(config.getString("data.dir")) / "secret.key").string();
}

store::DatabaseOptions databaseOptions(const config::Config& config) {
  store::DatabaseOptions options;
  options.path = databasePath(config);
  options.busy_timeout_ms = static_cast<int>(config.getInt("db.busy_timeout_ms", 0, 600000));
  return options;
}

std::unique_ptr<store::Database> openMigratedDatabase(const config::Config& config) {
  auto db = std::make_unique<store::Database>(databaseOptions(config));
  store::Migrator(*db).migrate();
  return db;
}

void setupLogging(const config::Config& config) {
  Poco::AutoPtr<Poco::PatternFormatter> formatter(
      new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s %t"));
  formatter->setProperty("times", "UTC");
  Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel);
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
  Poco::Logger::root().setChannel(channel);
  const std::string level = config.getString("log.level");
  try {
    Poco::Logger::root().setLevel(level);
  } catch (const Poco::Exception&) {
    throw config::ConfigError(
        "log.level must be one of fatal, critical, error, warning, notice, "
        "information, debug, trace; got '" +
        level + "'");
  }
  // Loggers created before this call keep their old level; set the ones that exist.
  std::vector<std::string> names;
  Poco::Logger::names(names);
  for (const auto& n : names) Poco::Logger::get(n).setLevel(Poco::Logger::root().getLevel());
  Poco::Logger::setChannel("", channel);
}

namespace {
base::Duration seconds(const config::Config& c, std::string_view key, double min, double max) {
  return std::chrono::duration_cast<base::Duration>(
      std::chrono::duration<double>(c.getDouble(key, min, max)));
}
}  // namespace

scheduler::SchedulerConfig schedulerConfig(const config::Config& c) {
  scheduler::SchedulerConfig s;
  auto& p = s.attention.probes;
  p.authorized = seconds(c, "scheduler.interval_authorized_s", 1.25, 86400);
  p.notAuthorized = seconds(c, "scheduler.interval_not_authorized_s", 1.25, 86400);
  p.starting = seconds(c, "scheduler.interval_starting_s", 1.25, 86400);
  p.blocked = seconds(c, "scheduler.interval_blocked_s", 1.25, 86400);
  p.other = seconds(c, "scheduler.interval_other_s", 1.25, 86400);
  p.startupSpread = seconds(c, "scheduler.startup_spread_s", 0, 86400);
  p.jitterFraction = c.getDouble("scheduler.jitter", 0, 0.5);
  s.attention.authGrace = seconds(c, "scheduler.auth_grace_s", 0, 30 * 86400);
  s.attention.stuckStartingAfter = seconds(c, "scheduler.stuck_starting_s", 1, 30 * 86400);
  s.attention.unreachableAfterFailures =
      static_cast<int>(c.getInt("scheduler.unreachable_after_failures", 1, 1000));
  s.confirmDelay = seconds(c, "scheduler.confirm_delay_s", 0, 3600);
  // Green API: qr 3 rps, account methods 1 rps per instance (green-api.md section 6).
  s.qrRps = c.getDouble("scheduler.qr_rps", 0.01, 2.5);
  s.accountMethodRps = c.getDouble("scheduler.account_method_rps", 0.01, 0.9);
  s.maxRps = c.getDouble("upstream.max_rps", 1, 1e6);
  s.maxInFlightPerHost =
      static_cast<std::size_t>(c.getInt("upstream.max_in_flight_per_host", 1, 100000));
  s.backoffBase = seconds(c, "scheduler.backoff_base_s", 0.1, 3600);
  s.backoffCap = seconds(c, "scheduler.backoff_cap_s", 1, 86400);
  s.checkedWriteInterval = seconds(c, "status.checked_write_interval_s", 0, 3600);
  auto& q = s.sessions;
  q.autoStartOnNotAuthorized = c.getBool("sessions.auto_start");
  q.pollInterval = seconds(c, "sessions.poll_interval_s", 0.5, 60);
  q.idleLength = seconds(c, "sessions.idle_s", 1, 3600);
  q.maxRun = seconds(c, "sessions.max_run_s", 1, 290);
  q.cooldown = seconds(c, "sessions.cooldown_s", 0, 86400);
  q.maxConcurrent = static_cast<std::size_t>(c.getInt("sessions.max_concurrent", 1, 100000));
  const auto transport = scheduler::parseQrTransport(c.getString("sessions.transport"));
  if (!transport) throw config::ConfigError("sessions.transport must be websocket or poll");
  q.transport = *transport;
  return s;
}

std::string defaultServerUrl(const config::Config& config) {
  std::string host = config.getString("http.host");
  // A server bound to every interface is reached on loopback from its own host.
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") host = "127.0.0.1";
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return fmt::format("http://{}:{}", host, config.getInt("http.port", 0, 65535));
}

std::string readApiKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(
        fmt::format("cannot read key file {}: {}", path, std::strerror(errno)));
  }
  std::string key;
  std::getline(in, key);
  const auto first = key.find_first_not_of(" \t\r\n");
  const auto last = key.find_last_not_of(" \t\r\n");
  if (first == std::string::npos)
    throw std::runtime_error(fmt::format("key file {} is empty", path));
  return key.substr(first, last - first + 1);
}

scheduler::PartnerSyncPacing partnerSyncPacing(const config::Config& c) {
  scheduler::PartnerSyncPacing p;
  p.sync_interval = seconds(c, "partners.sync_interval", 0.05, 7 * 86400);
  p.min_interval = seconds(c, "partners.min_interval", 0.05, 86400);
  return p;
}

greenapi::TransferOptions transferOptions(const config::Config& c) {
  greenapi::TransferOptions o;
  o.connectTimeout = std::chrono::milliseconds(c.getInt("upstream.connect_timeout_ms", 1, 600000));
  o.requestTimeout = std::chrono::milliseconds(c.getInt("upstream.request_timeout_ms", 1, 600000));
  o.maxInFlight = static_cast<std::size_t>(c.getInt("upstream.max_in_flight", 1, 1000000));
  o.maxConnectionsPerHost =
      static_cast<std::size_t>(c.getInt("upstream.max_in_flight_per_host", 1, 100000));
  o.ioThreads = static_cast<std::size_t>(c.getInt("upstream.io_threads", 1, 16));
  o.userAgent = "greenfleet/" GREENFLEET_VERSION;
  o.allowedHosts = allowedHosts(c);
  return o;
}

greenapi::UpstreamHostPolicy allowedHosts(const config::Config& c) {
  auto policy = greenapi::UpstreamHostPolicy::parse(c.getString("upstream.allowed_hosts"));
  if (!policy) throw config::ConfigError("upstream.allowed_hosts: " + policy.error());
  return std::move(policy).value();
}

std::string defaultApiUrl(const config::Config& c) {
  const std::string url = c.getString("upstream.default_api_url");
  auto admitted = allowedHosts(c).admit(url);
  if (!admitted) {
    throw config::ConfigError(
        fmt::format("upstream.default_api_url '{}' {}", url, admitted.error()));
  }
  return std::move(admitted).value();
}

http::ServerOptions httpOptions(const config::Config& config) {
  const auto seconds = [&](std::string_view key) {
    return std::chrono::milliseconds(config.getInt(key, 1, 86400) * 1000);
  };
  http::ServerOptions o;
  o.listeners.push_back({"admin", config.getString("http.host"),
                         static_cast<int>(config.getInt("http.port", 0, 65535))});
  if (config.getBool("public.enabled")) {
    o.listeners.push_back({"public", config.getString("public.host"),
                           static_cast<int>(config.getInt("public.port", 0, 65535))});
  }
  o.workers = static_cast<std::size_t>(config.getInt("http.threads", 1, 1024));
  o.max_queued = static_cast<std::size_t>(config.getInt("http.queue", 1, 1000000));
  o.idle_timeout = seconds("http.keep_alive_timeout_s");
  o.header_timeout = seconds("http.header_timeout_s");
  o.body_timeout = seconds("http.body_timeout_s");
  o.send_timeout = seconds("http.send_timeout_s");
  o.max_connections = static_cast<std::size_t>(config.getInt("http.max_connections", 1, 10000000));
  o.max_connections_per_ip =
      static_cast<std::size_t>(config.getInt("http.max_connections_per_ip", 1, 10000000));
  o.max_body_bytes =
      static_cast<std::size_t>(config.getInt("http.max_body_bytes", 1024, 1LL << 30));
  return o;
}

api::ScanLinkSettings scanLinkSettings(const config::Config& config) {
  api::ScanLinkSettings s;
  s.ttl = std::chrono::seconds(config.getInt("scan_links.ttl_s", 1, 7 * 24 * 3600));
  s.base_url = config.getString("public.base_url");
  if (!s.base_url.empty() && !s.base_url.starts_with("http://") &&
      !s.base_url.starts_with("https://")) {
    throw config::ConfigError("public.base_url must start with http:// or https://");
  }
  s.link_rps = config.getDouble("scan_links.link_rps", 0.01, 1000);
  s.client_rps = config.getDouble("scan_links.client_rps", 0.01, 1000);
  return s;
}

}  // namespace greenfleet::app
