#include "store/migrator.hpp"

#include <algorithm>
#include <chrono>

#include <Poco/Data/SQLite/Utility.h>
#include <fmt/format.h>

#include "base/log.hpp"

using namespace Poco::Data::Keywords;

namespace greenfleet::store {

// Generated at build time by cmake/embed.cmake from migrations/*.sql.
const std::vector<std::pair<std::string_view, std::string_view>>& embeddedMigrations();

namespace {
const base::Log kLog{"store"};

std::vector<std::string> splitStatements(std::string_view sql) {
  // Our migrations hold no triggers or string literals with ';', so a plain split is enough;
  // comments are stripped line by line first.
  std::string clean;
  std::size_t pos = 0;
  while (pos < sql.size()) {
    auto end = sql.find('\n', pos);
    if (end == std::string_view::npos) end = sql.size();
    std::string_view line = sql.substr(pos, end - pos);
    if (const auto c = line.find("--"); c != std::string_view::npos) line = line.substr(0, c);
    clean.append(line);
    clean.push_back('\n');
    pos = end + 1;
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < clean.size()) {
    auto semi = clean.find(';', start);
    if (semi == std::string::npos) semi = clean.size();
    std::string stmt = clean.substr(start, semi - start);
    if (stmt.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(stmt);
    start = semi + 1;
  }
  return out;
}
}  // namespace

Migrator::Migrator(Database& db) : db_(db) {}

std::vector<Migration> Migrator::known() {
  std::vector<Migration> out;
  for (const auto& [name, sql] : embeddedMigrations()) {
    const std::string file(name);
    const int version = std::stoi(file.substr(0, file.find('_')));
    out.push_back({version, file, sql});
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return out;
}

int Migrator::latestVersion() {
  const auto all = known();
  return all.empty() ? 0 : all.back().version;
}

int Migrator::currentVersion() {
  auto session = db_.acquire();
  int version = 0;
  *session << "PRAGMA user_version", into(version), now;
  return version;
}

std::vector<int> Migrator::migrate() { return migrateTo(latestVersion()); }

std::vector<int> Migrator::migrateTo(int target) {
  const int current = currentVersion();
  const int latest = latestVersion();
  if (current > latest) {
    throw DatabaseTooNewError(fmt::format(
        "database schema version {} is newer than this binary knows ({}); upgrade greenfleet",
        current, latest));
  }
  std::vector<int> applied;
  auto session = db_.acquire();
  for (const auto& m : known()) {
    if (m.version <= current || m.version > target) continue;
    WriteTransaction tx(*session);
    if (m.version == 1) {
      *session << "CREATE TABLE IF NOT EXISTS schema_migrations ("
                  "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
          now;
    }
    for (const auto& stmt : splitStatements(m.sql)) *session << stmt, now;
    const auto applied_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    int version = m.version;
    std::string name = m.name;
    Poco::Int64 at = applied_at;
    *session << "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
        use(version), use(name), use(at), now;
    *session << fmt::format("PRAGMA user_version = {}", m.version), now;
    tx.commit();
    kLog.info("event=migration_applied version={} name={}", m.version, m.name);
    applied.push_back(m.version);
  }
  return applied;
}

}  // namespace greenfleet::store
