#pragma once
// What every command that touches the database shares: the --config/--data-dir/--db flags, the
// layered Config they resolve to, the derived file paths, and logging set-up.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/scan_link_settings.hpp"
#include "app/flags.hpp"
#include "config/config.hpp"
#include "greenapi/client.hpp"
#include "greenapi/transfer_engine.hpp"
#include "http/event_server.hpp"
#include "scheduler/partner_sync_pacer.hpp"
#include "scheduler/probe_scheduler.hpp"
#include "store/database.hpp"

namespace greenfleet::app {

inline constexpr const char* kDefaultConfigFile = "etc/greenfleet.properties";

void addConfigFlags(Flags& flags);
// Config from the file (--config, else etc/greenfleet.properties when present), environment,
// then the flags given, then `overrides` (flag-derived keys of the caller).
config::Config loadConfig(const Flags& flags, std::map<std::string, std::string> overrides = {});
// The start of a command that needs nothing between parsing and configuring: parses `args`
// (nullopt after --help), loads the Config and sets up logging.
std::optional<config::Config> parseAndConfigure(Flags& flags, const std::vector<std::string>& args);

std::string databasePath(const config::Config& config);
std::string adminKeyFile(const config::Config& config);
// The token key file: secrets.key_file, else <data.dir>/secret.key.
std::string secretsKeyFile(const config::Config& config);
store::DatabaseOptions databaseOptions(const config::Config& config);
// Opens the database and applies pending migrations (logging what was applied).
std::unique_ptr<store::Database> openMigratedDatabase(const config::Config& config);
void setupLogging(const config::Config& config);
// http://<http.host>:<http.port>, loopback for a server bound to every interface: where CLI
// commands on the server's host reach it.
std::string defaultServerUrl(const config::Config& config);
// The first line of an API key file, trimmed; std::runtime_error when unreadable or empty.
std::string readApiKeyFile(const std::string& path);
// The scheduler's limits and intervals; rates are capped below Green API's documented limits.
scheduler::SchedulerConfig schedulerConfig(const config::Config& config);
// Periodic partner syncs and the least spacing of two getInstances calls of one account.
scheduler::PartnerSyncPacing partnerSyncPacing(const config::Config& config);
// The upstream engine: timeouts, transfers in flight, connections per host, I/O threads, hosts.
greenapi::TransferOptions transferOptions(const config::Config& config);
// upstream.allowed_hosts; a ConfigError names an entry it cannot read.
greenapi::UpstreamHostPolicy allowedHosts(const config::Config& config);
// upstream.default_api_url normalised; a ConfigError when it is no usable apiUrl or its host is
// outside upstream.allowed_hosts.
std::string defaultApiUrl(const config::Config& config);
// The HTTP front's limits and listeners (admin; public when public.enabled).
http::ServerOptions httpOptions(const config::Config& config);
// Scan link lifetime, base URL and rate limits (the listener's URL is the caller's to set).
api::ScanLinkSettings scanLinkSettings(const config::Config& config);

}  // namespace greenfleet::app
