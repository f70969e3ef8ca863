#pragma once
// StatusWriter: the single writer of probe observations. Producers enqueue() StatusUpdates; one
// thread group-commits them, one transaction per batch, at most max_batch_delay after the oldest
// pending update (sooner when a batch grows large or someone calls flush()). Within a batch the
// updates of one id coalesce to the latest row, while every transition is appended to
// state_events in enqueue order. Rows carry their instance's sequence (StatusUpdate::seq): one
// that arrives after a newer one of the same instance was taken is dropped (its event is kept),
// so two producers racing to enqueue cannot leave an older state stored. Rows of instances deleted
// meanwhile are skipped; their events are kept. A failed batch is logged and retried with backoff,
// newer updates winning over its rows. The writer owns a dedicated connection with
// synchronous=NORMAL (a crash may lose the last batch; the next probe re-derives it); it borrows
// the Database, which must outlive it.
// The pending queue is bounded (StatusWriterLimits): while the database fails or lags, updates
// of one id keep coalescing, and beyond max_pending the oldest events are dropped first, then
// the rows of the ids that joined the queue last (the scheduler still has their status and
// writes it at their next probe). Drops are counted, reported to on_dropped and logged at most
// once per interval.
// Thread-safe: enqueue(), flush() and the stats may be called from any thread; enqueue() never
// waits on SQLite. start() and stop() belong to the owner (one thread).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/Data/Session.h>

#include "base/clock.hpp"
#include "store/database.hpp"
#include "store/status_update.hpp"

namespace greenfleet::store {

struct StatusWriterLimits {
  // Rows and events waiting (pending plus put back after a failure) at most
  // (status.max_pending_updates).
  std::size_t max_pending = 200000;
  // Called outside the writer's lock with the number of updates just dropped (a metric).
  std::function<void(std::uint64_t)> on_dropped;
};

class StatusWriter {
 public:
  // `clock` times the batches, the retry backoff, the stop() deadline and lastCommitAt(); it
  // must outlive the writer. (A clock that never moves makes stop() on a failing database wait
  // for good.)
  StatusWriter(Database& db, const base::Clock& clock,
               std::chrono::milliseconds max_batch_delay = std::chrono::milliseconds(250),
               StatusWriterLimits limits = {});
  ~StatusWriter();  // stop()s if still running
  StatusWriter(const StatusWriter&) = delete;
  StatusWriter& operator=(const StatusWriter&) = delete;

  void start();
  // Updates enqueued while no thread runs wait for the next flush() or start().
  void enqueue(StatusUpdate update);
  // Appends one event that changes no status row (an operator action, a session end), in
  // order with the transitions of enqueued updates. Thread-safe, never touches SQLite.
  void enqueueEvent(std::int64_t id, EventRow event);
  // Blocks until everything enqueued before the call is committed. Without a running thread
  // (before start(), after stop()) it commits in the calling thread and throws on failure.
  void flush();
  // Flushes, then joins the thread. While the database keeps failing it retries until
  // give_up_after has passed, then drops what is left with an error log and returns false.
  bool stop(std::chrono::milliseconds give_up_after = std::chrono::seconds(10));

  // Steady time of the last successful commit; nullopt before the first.
  std::optional<base::SteadyTime> lastCommitAt() const;
  // Updates enqueued and not yet committed (nor dropped).
  std::uint64_t pendingCount() const;
  std::uint64_t committedBatches() const;
  std::uint64_t failedBatches() const;
  // Rows dropped because a newer one of the same instance had been enqueued before them.
  std::uint64_t staleRowsDropped() const;
  // Instances whose last seq is still remembered (bounded by the updates on their way).
  std::size_t rememberedSeqs() const;
  // Rows and events dropped so far: beyond max_pending, or left over at a stop() deadline.
  std::uint64_t droppedUpdates() const;

 private:
  // Adds an event and/or a row to the pending batch (one update ticket).
  void fold(std::int64_t id, std::optional<EventRow> event, std::optional<StatusUpdate> row);
  // Pending work: coalesced rows (transition stripped) and every transition in order.
  struct Batch {
    struct Event {
      std::int64_t id = 0;
      EventRow transition;
    };
    std::vector<StatusUpdate> rows;
    std::unordered_map<std::int64_t, std::size_t> row_of_id;
    std::deque<Event> events;
    std::uint64_t last_ticket = 0;  // ticket of the newest update folded in
    std::size_t updates = 0;        // enqueue() calls folded in
    base::SteadyTime oldest{};      // when the oldest update arrived

    bool empty() const { return updates == 0; }
  };

  void run();
  // Takes the pending batch and writes it; on failure puts it back and returns false.
  bool commitPending();
  void write(Poco::Data::Session& session, const Batch& batch);
  void putBack(Batch failed);  // requires mutex_
  // Drops beyond limits_.max_pending, oldest events first; returns how many. Requires mutex_.
  std::uint64_t shed(Batch& batch);
  // The hook and the rate-limited log line for `count` drops. Without mutex_.
  void reportDropped(std::uint64_t count);

  Database& db_;
  const base::Clock& clock_;
  const std::chrono::milliseconds max_batch_delay_;
  const StatusWriterLimits limits_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;       // writer: work, flush request or stop
  std::condition_variable committed_;  // flush(): committed_ticket_ advanced
  Batch pending_;
  std::uint64_t next_ticket_ = 0;       // tickets handed out by enqueue()
  std::uint64_t committed_ticket_ = 0;  // every ticket <= this is committed or dropped
  std::uint64_t flush_ticket_ = 0;      // flush() waits for this ticket
  std::uint64_t batches_ = 0;
  std::uint64_t failures_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t stale_rows_ = 0;
  // Highest seq taken per instance, for the instances whose seq is not below seq_floor_ (older
  // ones are pruned: nothing older can still arrive). Small: the updates on their way.
  std::unordered_map<std::int64_t, std::uint64_t> taken_seq_;
  std::uint64_t seq_floor_ = 0;
  std::size_t prune_seqs_at_ = 1024;
  std::uint64_t unlogged_drops_ = 0;               // dropped since the last log line
  std::optional<base::SteadyTime> last_drop_log_;  // when that line was written
  std::optional<base::SteadyTime> last_commit_;
  bool running_ = false;
  bool stopping_ = false;
  base::SteadyTime give_up_at_{};  // while stopping: drop what still fails after this
  std::thread thread_;

  // Serialises writes (writer thread or an inline flush) and guards session_.
  std::mutex write_mutex_;
  std::unique_ptr<Poco::Data::Session> session_;
};

}  // namespace greenfleet::store
