#include "store/status_writer.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "store/sqlite_statement.hpp"

namespace greenfleet::store {

namespace {

const base::Log kLog{"store"};

// A batch this large is committed at once rather than at its deadline: it bounds how long one
// transaction holds the write lock and how much a crash can take with it.
constexpr std::size_t kEarlyCommitUpdates = 10000;
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
// While the queue overflows, one log line per this interval says how many updates were dropped.
constexpr std::chrono::seconds kDropLogInterval{10};

// The WHERE EXISTS skips rows of instances deleted since the probe instead of failing the whole
// batch on the foreign key. (It also keeps SQLite's parser from reading ON CONFLICT as a join.)
constexpr const char* kUpsertSql =
    "INSERT INTO instance_status(id, state, state_since, needs_scan, attention, last_checked_at, "
    "last_ok_at, consecutive_failures, last_error_code, last_error, phone, next_check_at) "
    "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM instances WHERE id = ?) "
    "ON CONFLICT(id) DO UPDATE SET state = excluded.state, state_since = excluded.state_since, "
    "needs_scan = excluded.needs_scan, attention = excluded.attention, "
    "last_checked_at = excluded.last_checked_at, last_ok_at = excluded.last_ok_at, "
    "consecutive_failures = excluded.consecutive_failures, "
    "last_error_code = excluded.last_error_code, last_error = excluded.last_error, "
    "phone = excluded.phone, next_check_at = excluded.next_check_at";

constexpr const char* kEventSql =
    "INSERT INTO state_events(id, at, from_state, to_state, source, type, detail, actor) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

}  // namespace

StatusWriter::StatusWriter(Database& db, const base::Clock& clock,
                           std::chrono::milliseconds max_batch_delay, StatusWriterLimits limits)
    : db_(db), clock_(clock), max_batch_delay_(max_batch_delay), limits_(std::move(limits)) {
  if (limits_.max_pending == 0) throw std::invalid_argument("StatusWriter needs max_pending > 0");
}

StatusWriter::~StatusWriter() {
  try {
    if (!stop())
      kLog.error("event=status_dropped updates={} reason=writer_destroyed", pendingCount());
  } catch (const std::exception& e) {
    kLog.error("event=status_writer_destroy_failed error=\"{}\"", e.what());
  }
}

void StatusWriter::start() {
  std::lock_guard lock(mutex_);
  if (running_ || thread_.joinable()) throw std::logic_error("StatusWriter already started");
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void StatusWriter::enqueue(StatusUpdate update) {
  std::optional<EventRow> transition = std::exchange(update.transition, std::nullopt);
  const std::int64_t id = update.id;
  fold(id, std::move(transition), std::move(update));
}

void StatusWriter::enqueueEvent(std::int64_t id, EventRow event) {
  fold(id, std::move(event), std::nullopt);
}

void StatusWriter::fold(std::int64_t id, std::optional<EventRow> event,
                        std::optional<StatusUpdate> row) {
  bool wake = false;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    Batch& b = pending_;
    if (b.empty()) {
      b.oldest = clock_.steadyNow();
      wake = true;
    }
    if (event) b.events.push_back({id, std::move(*event)});
    if (row && row->seq != 0) {
      seq_floor_ = std::max(seq_floor_, row->seq_floor);
      const auto [seen, first] = taken_seq_.try_emplace(id, row->seq);
      if (!first && row->seq <= seen->second) {
        ++stale_rows_;
        row.reset();
      } else {
        seen->second = row->seq;
      }
      if (taken_seq_.size() >= prune_seqs_at_) {
        std::erase_if(taken_seq_, [&](const auto& taken) { return taken.second < seq_floor_; });
        prune_seqs_at_ = std::max<std::size_t>(1024, 2 * taken_seq_.size());
      }
    }
    if (row) {
      const auto [it, inserted] = b.row_of_id.try_emplace(id, b.rows.size());
      if (inserted) {
        b.rows.push_back(std::move(*row));
      } else {
        b.rows[it->second] = std::move(*row);
      }
    }
    b.last_ticket = ++next_ticket_;
    ++b.updates;
    wake = wake || b.updates == kEarlyCommitUpdates;
    if (b.rows.size() + b.events.size() > limits_.max_pending) dropped = shed(b);
  }
  if (wake) wake_.notify_one();
  reportDropped(dropped);
}

void StatusWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = next_ticket_;
  if (running_) {
    flush_ticket_ = std::max(flush_ticket_, target);
    wake_.notify_one();
    committed_.wait(lock, [&] { return committed_ticket_ >= target || !running_; });
  }
  while (committed_ticket_ < target) {
    lock.unlock();
    const bool ok = commitPending();
    lock.lock();
    if (!ok) throw std::runtime_error("status batch could not be committed (see the log)");
  }
}

bool StatusWriter::stop(std::chrono::milliseconds give_up_after) {
  std::uint64_t dropped_before = 0;
  bool joinable = false;
  {
    std::lock_guard lock(mutex_);
    dropped_before = dropped_;
    joinable = thread_.joinable();
    if (joinable) {
      stopping_ = true;
      give_up_at_ = clock_.steadyNow() + give_up_after;
    }
  }
  if (!joinable) return commitPending();
  wake_.notify_all();
  thread_.join();
  std::lock_guard lock(mutex_);
  stopping_ = false;
  return dropped_ == dropped_before && pending_.empty();
}

std::optional<base::SteadyTime> StatusWriter::lastCommitAt() const {
  std::lock_guard lock(mutex_);
  return last_commit_;
}

std::uint64_t StatusWriter::pendingCount() const {
  std::lock_guard lock(mutex_);
  return next_ticket_ - committed_ticket_;
}

std::uint64_t StatusWriter::committedBatches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

std::uint64_t StatusWriter::failedBatches() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

std::uint64_t StatusWriter::staleRowsDropped() const {
  std::lock_guard lock(mutex_);
  return stale_rows_;
}

std::size_t StatusWriter::rememberedSeqs() const {
  std::lock_guard lock(mutex_);
  return taken_seq_.size();
}

std::uint64_t StatusWriter::droppedUpdates() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void StatusWriter::run() {
  std::unique_lock lock(mutex_);
  auto backoff = kFirstBackoff;
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) break;  // stopping, and everything is committed
    // Waits are relative, so they follow the injected clock's reading.
    wake_.wait_for(lock, pending_.oldest + max_batch_delay_ - clock_.steadyNow(), [&] {
      return stopping_ || flush_ticket_ > committed_ticket_ ||
             pending_.updates >= kEarlyCommitUpdates;
    });
    lock.unlock();
    const bool ok = commitPending();
    lock.lock();
    if (ok) {
      backoff = kFirstBackoff;
      continue;
    }
    const auto now = clock_.steadyNow();
    if (stopping_ && now >= give_up_at_) {
      kLog.error("event=status_dropped updates={} reason=stop_deadline",
                 next_ticket_ - committed_ticket_);
      dropped_ += next_ticket_ - committed_ticket_;
      pending_ = Batch{};
      committed_ticket_ = next_ticket_;
      break;
    }
    auto retry_at = now + backoff;
    if (stopping_) retry_at = std::min(retry_at, give_up_at_);
    backoff = std::min(backoff * 2, kMaxBackoff);
    // A flush or a stop cuts the backoff short; nothing else does.
    const auto flush_seen = flush_ticket_;
    const bool stopping_seen = stopping_;
    wake_.wait_for(lock, retry_at - now,
                   [&] { return flush_ticket_ > flush_seen || stopping_ != stopping_seen; });
  }
  running_ = false;
  committed_.notify_all();
}

bool StatusWriter::commitPending() {
  std::lock_guard write_lock(write_mutex_);
  Batch batch;
  {
    std::lock_guard lock(mutex_);
    if (pending_.empty()) return true;
    batch = std::exchange(pending_, Batch{});
  }
  const auto started = clock_.steadyNow();
  std::string error;
  try {
    if (db_.sharesOneConnection()) {
      // One shared connection there: borrow it per batch rather than starve the pool.
      auto lease = db_.acquire();
      write(*lease, batch);
    } else {
      if (!session_) session_ = db_.openDedicated(false);
      write(*session_, batch);
    }
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  const auto finished = clock_.steadyNow();
  if (!error.empty()) {
    kLog.error("event=status_batch_failed rows={} events={} error=\"{}\"", batch.rows.size(),
               batch.events.size(), error);
    // Reopened on the next attempt: the connection itself may be what broke.
    session_.reset();
    std::uint64_t dropped = 0;
    {
      std::lock_guard lock(mutex_);
      ++failures_;
      putBack(std::move(batch));
      dropped = shed(pending_);
    }
    reportDropped(dropped);
    return false;
  }
  kLog.debug("event=status_batch rows={} events={} updates={} ms={}", batch.rows.size(),
             batch.events.size(), batch.updates,
             std::chrono::duration_cast<std::chrono::milliseconds>(finished - started).count());
  {
    std::lock_guard lock(mutex_);
    committed_ticket_ = std::max(committed_ticket_, batch.last_ticket);
    ++batches_;
    last_commit_ = finished;
  }
  committed_.notify_all();
  return true;
}

void StatusWriter::write(Poco::Data::Session& session, const Batch& batch) {
  WriteTransaction tx(session);
  // Prepared once per batch and stepped per row on the raw connection: Poco::Data's bound
  // containers cost more per row than SQLite's own work (the first readings of a big import
  // write one row each).
  sqlite3* db = sqliteHandle(session);
  if (!batch.rows.empty()) {
    SqliteStatement upsert(db, kUpsertSql);
    for (const auto& u : batch.rows) {
      upsert.bindRow(u.id, u.state, u.state_since_ms, std::int64_t{u.needs_scan ? 1 : 0},
                     u.attention, u.last_checked_at_ms, u.last_ok_at_ms,
                     std::int64_t{u.consecutive_failures}, u.last_error_code, u.last_error, u.phone,
                     u.next_check_at_ms, u.id);
      upsert.execute();
    }
  }
  if (!batch.events.empty()) {
    SqliteStatement insert(db, kEventSql);
    for (const auto& e : batch.events) {
      const auto& t = e.transition;
      insert.bindRow(e.id, t.at_ms, t.from_state, t.to_state, t.source, t.type, t.detail, t.actor);
      insert.execute();
    }
  }
  tx.commit();
}

void StatusWriter::putBack(Batch failed) {
  // Rows enqueued since the batch was taken are newer and win; events keep their order, the
  // failed batch's first.
  Batch& p = pending_;
  const bool had_pending = !p.empty();
  for (auto& row : failed.rows) {
    if (p.row_of_id.count(row.id) != 0) continue;
    p.row_of_id.emplace(row.id, p.rows.size());
    p.rows.push_back(std::move(row));
  }
  failed.events.insert(failed.events.end(), std::make_move_iterator(p.events.begin()),
                       std::make_move_iterator(p.events.end()));
  p.events = std::move(failed.events);
  p.oldest = !had_pending ? failed.oldest : std::min(p.oldest, failed.oldest);
  p.last_ticket = std::max(p.last_ticket, failed.last_ticket);
  p.updates += failed.updates;
}

std::uint64_t StatusWriter::shed(Batch& b) {
  std::uint64_t dropped = 0;
  // Events are history; rows are the current status, so they go last.
  while (b.rows.size() + b.events.size() > limits_.max_pending && !b.events.empty()) {
    b.events.pop_front();
    ++dropped;
  }
  while (b.rows.size() > limits_.max_pending) {
    b.row_of_id.erase(b.rows.back().id);
    b.rows.pop_back();
    ++dropped;
  }
  dropped_ += dropped;
  unlogged_drops_ += dropped;
  return dropped;
}

void StatusWriter::reportDropped(std::uint64_t count) {
  if (count == 0) return;
  if (limits_.on_dropped) limits_.on_dropped(count);
  std::uint64_t since_last = 0;
  std::uint64_t total = 0;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.steadyNow();
    if (last_drop_log_ && now - *last_drop_log_ < kDropLogInterval) return;
    last_drop_log_ = now;
    since_last = std::exchange(unlogged_drops_, 0);
    total = dropped_;
  }
  kLog.error("event=status_updates_dropped dropped={} total={} max_pending={} reason=queue_full",
             since_last, total, limits_.max_pending);
}

}  // namespace greenfleet::store
