#pragma once
// StateEventLog: reads and prunes the state history (state_events) that the StatusWriter
// appends. seq only grows (AUTOINCREMENT, never reused after a prune), so `after(seq)` is a
// stable cursor for consumers that page through or tail the log. Borrows the Database, which
// must outlive it. Thread-safe (each call leases its own connection).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/event_row.hpp"

namespace greenfleet::store {

// An event as read back from the log: the row as appended, its instance and its log position.
struct StateEvent : EventRow {
  std::int64_t seq = 0;
  std::int64_t id = 0;  // idInstance (the instance may have been deleted since)
};

class StateEventLog {
 public:
  // prune_chunk: rows deleted per transaction, so a large prune never holds the write lock long.
  explicit StateEventLog(Database& db, std::size_t prune_chunk = 5000);

  // Events with seq > after_seq, oldest first, at most `limit`, optionally of one instance,
  // one source and/or one type.
  std::vector<StateEvent> after(std::int64_t after_seq, std::size_t limit,
                                std::optional<std::int64_t> id = std::nullopt,
                                std::optional<std::string> source = std::nullopt,
                                std::optional<std::string> type = std::nullopt);
  // The newest `limit` events of one instance, newest first.
  std::vector<StateEvent> history(std::int64_t id, std::size_t limit);
  // Highest seq ever assigned (a prune does not lower it), 0 before the first event.
  std::int64_t latestSeq();
  // Deletes events with at < cutoff_ms in chunks of prune_chunk; returns the rows deleted.
  std::size_t pruneOlderThan(std::int64_t cutoff_ms);

 private:
  Database& db_;
  std::size_t prune_chunk_;
};

}  // namespace greenfleet::store
