#include "store/state_event_log.hpp"

#include <algorithm>
#include <string>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>

#include "base/log.hpp"

using namespace Poco::Data::Keywords;
using Poco::Data::RecordSet;
using Poco::Data::Statement;

namespace greenfleet::store {

namespace {

const base::Log kLog{"store"};

constexpr const char* kSelectColumns =
    "SELECT seq, id, at, from_state, to_state, source, type, detail, actor FROM state_events";

std::optional<std::string> optText(RecordSet& rs, std::size_t col) {
  const auto& v = rs.value(col);
  if (v.isEmpty()) return std::nullopt;
  return v.convert<std::string>();
}

std::vector<StateEvent> readEvents(Statement& stmt) {
  stmt.execute();
  RecordSet rs(stmt);
  std::vector<StateEvent> out;
  out.reserve(rs.rowCount());
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    StateEvent e;
    e.seq = rs.value(0).convert<Poco::Int64>();
    e.id = rs.value(1).convert<Poco::Int64>();
    e.at_ms = rs.value(2).convert<Poco::Int64>();
    e.from_state = optText(rs, 3);
    e.to_state = optText(rs, 4);
    e.source = rs.value(5).convert<std::string>();
    e.type = rs.value(6).convert<std::string>();
    e.detail = optText(rs, 7);
    e.actor = optText(rs, 8);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

StateEventLog::StateEventLog(Database& db, std::size_t prune_chunk)
    : db_(db), prune_chunk_(std::max<std::size_t>(prune_chunk, 1)) {}

std::vector<StateEvent> StateEventLog::after(std::int64_t after_seq, std::size_t limit,
                                             std::optional<std::int64_t> id,
                                             std::optional<std::string> source,
                                             std::optional<std::string> type) {
  if (limit == 0) return {};
  std::string sql = std::string(kSelectColumns) + " WHERE seq > ?";
  if (id) sql += " AND id = ?";
  if (source) sql += " AND source = ?";
  if (type) sql += " AND type = ?";
  sql += " ORDER BY seq LIMIT ?";
  auto session = db_.acquire();
  Statement stmt(*session);
  stmt << sql, bind(static_cast<Poco::Int64>(after_seq));
  if (id) stmt, bind(static_cast<Poco::Int64>(*id));
  if (source) stmt, bind(*source);
  if (type) stmt, bind(*type);
  stmt, bind(static_cast<Poco::Int64>(limit));
  return readEvents(stmt);
}

std::vector<StateEvent> StateEventLog::history(std::int64_t id, std::size_t limit) {
  if (limit == 0) return {};
  auto session = db_.acquire();
  Statement stmt(*session);
  stmt << std::string(kSelectColumns) + " WHERE id = ? ORDER BY seq DESC LIMIT ?",
      bind(static_cast<Poco::Int64>(id)), bind(static_cast<Poco::Int64>(limit));
  return readEvents(stmt);
}

std::int64_t StateEventLog::latestSeq() {
  auto session = db_.acquire();
  Poco::Int64 seq = 0;
  // sqlite_sequence keeps the highest seq ever assigned, so the answer never goes back after a
  // prune empties the table.
  *session << "SELECT MAX(COALESCE((SELECT MAX(seq) FROM state_events), 0), "
              "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'state_events'), 0))",
      into(seq), now;
  return seq;
}

std::size_t StateEventLog::pruneOlderThan(std::int64_t cutoff_ms) {
  Poco::Int64 cutoff = cutoff_ms;
  Poco::Int64 chunk = static_cast<Poco::Int64>(prune_chunk_);
  std::size_t total = 0;
  auto session = db_.acquire();
  while (true) {
    std::size_t deleted = 0;
    {
      // One short transaction per chunk: the status writer gets the lock between chunks.
      WriteTransaction tx(*session);
      Statement stmt(*session);
      stmt << "DELETE FROM state_events WHERE seq IN "
              "(SELECT seq FROM state_events WHERE at < ? ORDER BY seq LIMIT ?)",
          use(cutoff), use(chunk);
      deleted = stmt.execute();
      tx.commit();
    }
    total += deleted;
    if (deleted < prune_chunk_) break;
  }
  if (total > 0) kLog.info("event=state_events_pruned rows={} cutoff_ms={}", total, cutoff_ms);
  return total;
}

}  // namespace greenfleet::store
