#pragma once
// SweepRepository: stored health sweeps. A sweep is kept as the JSON document the API answers
// (body), with its status and times as columns for listing and retention. Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace greenfleet::store {

struct StoredSweep {
  std::int64_t id = 0;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> finished_at_ms;
  std::string status;
  std::string body;
};

class SweepRepository {
 public:
  explicit SweepRepository(Database& db) : db_(db) {}

  // Reserves an id for a new running sweep; the body is written with save().
  std::int64_t create(std::int64_t created_at_ms, const std::string& created_by);
  void save(const StoredSweep& sweep);
  std::optional<StoredSweep> get(std::int64_t id);
  // Newest first; ids below `before_id` when given.
  std::vector<StoredSweep> list(std::size_t limit, std::optional<std::int64_t> before_id);
  // Sweeps left running by a process that died are failed at start.
  std::size_t failRunning(std::int64_t now_ms);
  std::size_t pruneOlderThan(std::int64_t cutoff_ms);

 private:
  Database& db_;
};

}  // namespace greenfleet::store
