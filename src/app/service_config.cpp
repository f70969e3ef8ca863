#include "app/service_config.hpp"

#include <filesystem>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>

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
    throw config::ConfigError("log.level must be one of fatal, critical, error, warning, notice, "
                              "information, debug, trace; got '" + level + "'");
  }
  // Loggers created before this call keep their old level; set the ones that exist.
  std::vector<std::string> names;
  Poco::Logger::names(names);
  for (const auto& n : names) Poco::Logger::get(n).setLevel(Poco::Logger::root().getLevel());
  Poco::Logger::setChannel("", channel);
}

}  // namespace greenfleet::app
