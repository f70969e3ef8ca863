#include "store/sweep_repository.hpp"

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>

using namespace Poco::Data::Keywords;
using Poco::Data::RecordSet;
using Poco::Data::Statement;

namespace greenfleet::store {

namespace {
std::vector<StoredSweep> readSweeps(Statement& stmt) {
  stmt.execute();
  RecordSet rs(stmt);
  std::vector<StoredSweep> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    StoredSweep s;
    s.id = rs.value(0).convert<Poco::Int64>();
    s.created_at_ms = rs.value(1).convert<Poco::Int64>();
    if (!rs.value(2).isEmpty()) s.finished_at_ms = rs.value(2).convert<Poco::Int64>();
    s.status = rs.value(3).convert<std::string>();
    s.body = rs.value(4).convert<std::string>();
    out.push_back(std::move(s));
  }
  return out;
}

constexpr const char* kSelect = "SELECT id, created_at, finished_at, status, body FROM sweeps";
}  // namespace

std::int64_t SweepRepository::create(std::int64_t created_at_ms, const std::string& created_by) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Poco::Int64 at = created_at_ms;
  std::string by = created_by;
  *session
      << "INSERT INTO sweeps(created_at, status, created_by, body) VALUES (?, 'running', ?, '{}')",
      use(at), use(by), now;
  Poco::Int64 id = 0;
  *session << "SELECT last_insert_rowid()", into(id), now;
  tx.commit();
  return id;
}

void SweepRepository::save(const StoredSweep& sweep) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Statement stmt(*session);
  stmt << "UPDATE sweeps SET finished_at = ?, status = ?, body = ? WHERE id = ?";
  if (sweep.finished_at_ms) {
    stmt, bind(static_cast<Poco::Int64>(*sweep.finished_at_ms));
  } else {
    stmt, bind(Poco::Nullable<Poco::Int64>());
  }
  stmt, bind(sweep.status), bind(sweep.body), bind(static_cast<Poco::Int64>(sweep.id));
  stmt.execute();
  tx.commit();
}

std::optional<StoredSweep> SweepRepository::get(std::int64_t id) {
  auto session = db_.acquire();
  Statement stmt(*session);
  stmt << std::string(kSelect) + " WHERE id = ?", bind(static_cast<Poco::Int64>(id));
  auto rows = readSweeps(stmt);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<StoredSweep> SweepRepository::list(std::size_t limit,
                                               std::optional<std::int64_t> before_id) {
  auto session = db_.acquire();
  Statement stmt(*session);
  stmt << std::string(kSelect) + (before_id ? " WHERE id < ?" : "") + " ORDER BY id DESC LIMIT ?";
  if (before_id) stmt, bind(static_cast<Poco::Int64>(*before_id));
  stmt, bind(static_cast<Poco::Int64>(limit));
  return readSweeps(stmt);
}

std::size_t SweepRepository::failRunning(std::int64_t now_ms) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Poco::Int64 at = now_ms;
  Statement stmt(*session);
  stmt << "UPDATE sweeps SET status = 'failed', finished_at = ?, "
          "body = json_set(body, '$.status', 'failed', '$.finishedAt', "
          "strftime('%Y-%m-%dT%H:%M:%fZ', ? / 1000.0, 'unixepoch')) "
          "WHERE status = 'running'",
      use(at), use(at);
  const auto n = stmt.execute();
  tx.commit();
  return n;
}

std::size_t SweepRepository::pruneOlderThan(std::int64_t cutoff_ms) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Poco::Int64 cutoff = cutoff_ms;
  Statement stmt(*session);
  stmt << "DELETE FROM sweeps WHERE created_at < ? AND status != 'running'", use(cutoff);
  const auto n = stmt.execute();
  tx.commit();
  return n;
}

}  // namespace greenfleet::store
