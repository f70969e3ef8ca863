#include "app/fleet_service.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "api/admin_server.hpp"
#include "api/api_context.hpp"
#include "api/event_hub.hpp"
#include "api/fleet_metrics.hpp"
#include "api/routes.hpp"
#include "app/alerting.hpp"
#include "app/block_pipeline.hpp"
#include "app/database_lock.hpp"
#include "app/partner_sync_runner.hpp"
#include "app/service_config.hpp"
#include "app/status_mapping.hpp"
#include "app/token_key.hpp"
#include "base/comma_list.hpp"
#include "base/log.hpp"
#include "base/time_format.hpp"
#include "greenapi/transfer_engine.hpp"
#include "scheduler/fleet_poller.hpp"
#include "scheduler/pairing_code_requester.hpp"
#include "scheduler/webhook_setter.hpp"
#include "store/api_key_repository.hpp"
#include "store/instance_repository.hpp"
#include "store/migrator.hpp"
#include "store/partner_repository.hpp"
#include "store/scan_link_repository.hpp"
#include "store/state_event_log.hpp"
#include "store/status_writer.hpp"
#include "store/sweep_repository.hpp"
#include "store/webhook_repository.hpp"
#include "sweep/sweep_runner.hpp"

namespace greenfleet::app {

namespace {
const base::Log kLog{"app"};

void writeSecretFile(const std::string& path, const std::string& secret) {
  namespace fs = std::filesystem;
  const fs::path file(path);
  if (file.has_parent_path() && !fs::exists(file.parent_path())) {
    fs::create_directories(file.parent_path());
    fs::permissions(file.parent_path(), fs::perms::owner_all, fs::perm_options::replace);
  }
  const std::string tmp = path + ".tmp";
  // A leftover (or planted) temp file or link is removed, never written through.
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + tmp);
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + tmp);
  fs::rename(tmp, path);
}
// The data directory holds the database and the first admin key: owner-only, and a real
// directory (a symlink could point it anywhere). Created 0700; an existing one is tightened.
void securePrivateDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  const auto status = fs::symlink_status(dir);
  if (fs::is_symlink(status)) {
    throw std::runtime_error(fmt::format(
        "data directory {} is a symbolic link; point data.dir at the real directory", dir));
  }
  if (!fs::exists(status)) {
    fs::create_directories(dir);
  } else if (!fs::is_directory(status)) {
    throw std::runtime_error(fmt::format("data directory {} is not a directory", dir));
  }
  if ((fs::status(dir).permissions() & (fs::perms::group_all | fs::perms::others_all)) !=
      fs::perms::none) {
    kLog.warn("event=data_dir_mode_fixed dir={} mode=0700", dir);
  }
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

// The database and its WAL/shared-memory files: owner read/write only.
void securePrivateFiles(const std::string& db_path) {
  namespace fs = std::filesystem;
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    const fs::path file(db_path + suffix);
    std::error_code ec;
    const auto status = fs::symlink_status(file, ec);
    if (ec || !fs::is_regular_file(status)) continue;
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                    ec);
  }
}

// An operator's action goes into the event log, and is answered only once it is committed.
api::EventRecorder actionRecorder(store::StatusWriter& writer, const base::Clock& clock) {
  return [&writer, &clock](std::int64_t id, const std::string& type, const std::string& detail,
                           const std::string& actor) {
    store::EventRow e;
    e.at_ms = base::toUnixMillis(clock.wallNow());
    e.source = "action";
    e.type = type;
    e.detail = detail;
    if (!actor.empty()) e.actor = actor;
    writer.enqueueEvent(id, std::move(e));
    writer.flush();
  };
}
}  // namespace

// Registry changes reach the poller at once, without a restart.
class PollerRegistryObserver final : public api::RegistryObserver {
 public:
  explicit PollerRegistryObserver(scheduler::FleetPoller& poller) : poller_(poller) {}
  void instanceUpserted(const fleet::RegisteredInstance& instance) override {
    poller_.upsert(instance);
  }
  void instancesUpserted(const std::vector<const fleet::RegisteredInstance*>& instances) override {
    poller_.upsertMany(instances);
  }
  void instanceRemoved(std::int64_t id) override { poller_.remove(id); }

 private:
  scheduler::FleetPoller& poller_;
};

struct FleetService::Parts {
  std::unique_ptr<DatabaseLock> lock;  // shared: `secrets rotate` cannot run under the server
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::TokenCipher> cipher;
  std::unique_ptr<store::InstanceRepository> instances;
  std::unique_ptr<store::ApiKeyRepository> keys;
  // Declared before the writer and the poller: outlives their hooks.
  std::unique_ptr<api::FleetMetrics> metrics;
  std::unique_ptr<store::StatusWriter> writer;
  std::unique_ptr<greenapi::TransferEngine> engine;  // outlives the poller: its completions
  std::unique_ptr<scheduler::FleetPoller> poller;
  std::unique_ptr<PollerRegistryObserver> observer;
  std::unique_ptr<store::StateEventLog> event_log;
  std::unique_ptr<api::EventHub> event_hub;
  std::unique_ptr<store::SweepRepository> sweep_store;
  std::unique_ptr<sweep::SweepRunner> sweeps;
  std::unique_ptr<store::PartnerRepository> partners;
  std::unique_ptr<PartnerSyncRunner> partner_sync;
  std::unique_ptr<store::ScanLinkRepository> scan_links;
  std::unique_ptr<scheduler::PairingCodeRequester> pairing;
  std::unique_ptr<store::WebhookRepository> webhooks;
  std::unique_ptr<scheduler::WebhookSetter> webhook_setter;
  std::unique_ptr<api::ApiContext> context;
  std::unique_ptr<api::AdminServer> server;
  std::unique_ptr<alerts::AlertDispatcher> alerts;  // null without alerts.targets
  std::vector<http::Listener> server_listeners;     // what scan link URLs are built from
  std::atomic<bool> ready{false};
  // Retention: prunes old events in the background.
  std::thread pruner;
  std::mutex pruner_mutex;
  std::condition_variable pruner_wake;
  bool pruner_stop = false;
};

FleetService::FleetService(config::Config config, const base::Clock& clock)
    : config_(std::move(config)), clock_(clock), parts_(std::make_unique<Parts>()) {}

FleetService::~FleetService() { stop(); }

void FleetService::start() {
  // Checked before anything starts: a default outside allowed_hosts is a start-up error.
  const std::string default_api_url = defaultApiUrl(config_);
  const auto transfer_options = transferOptions(config_);
  openStore();
  ensureAdminKey();
  startStatusWriter();
  startPoller(transfer_options);
  startEventHub();
  startBackgroundWork();
  buildUpstreamActions();
  buildApiContext(default_api_url, transfer_options.allowedHosts);
  startServer();
}

// The data directory, the database (migrated, locked, owner-only) and the repositories on it.
void FleetService::openStore() {
  auto& p = *parts_;
  securePrivateDirectory(config_.getString("data.dir"));
  p.db = openMigratedDatabase(config_);
  p.lock = std::make_unique<DatabaseLock>(databasePath(config_), DatabaseLock::Mode::shared);
  securePrivateFiles(databasePath(config_));
  p.cipher = openTokenCipher(config_, *p.db);
  p.instances = std::make_unique<store::InstanceRepository>(*p.db, clock_, *p.cipher);
  p.keys = std::make_unique<store::ApiKeyRepository>(*p.db, clock_);
}

// A fresh install gets one admin key, written to a private file, so the API can be reached.
void FleetService::ensureAdminKey() {
  auto& p = *parts_;
  if (p.keys->countActive() != 0) return;
  const std::string path = adminKeyFile(config_);
  const auto created = p.keys->create("initial-admin", store::Role::admin);
  writeSecretFile(path, created.secret);
  kLog.info("event=admin_key_created id={} file={}", created.key.id, path);
  fmt::print("no API keys existed: created an admin key in {}\n", path);
}

// The metrics, and the writer that batches status updates into the store.
void FleetService::startStatusWriter() {
  auto& p = *parts_;
  p.metrics = std::make_unique<api::FleetMetrics>(GREENFLEET_VERSION);
  auto* metrics = p.metrics.get();
  store::StatusWriterLimits writer_limits;
  writer_limits.max_pending =
      static_cast<std::size_t>(config_.getInt("status.max_pending_updates", 100, 100000000));
  writer_limits.on_dropped = [metrics](std::uint64_t n) { metrics->recordStatusUpdatesDropped(n); };
  p.writer = std::make_unique<store::StatusWriter>(
      *p.db, clock_, std::chrono::milliseconds(config_.getInt("status.batch_ms", 10, 60000)),
      std::move(writer_limits));
  p.writer->start();
}

// The transfer engine, the poller loaded with the registry, the alerts it feeds, and the
// observer that keeps it following registry changes.
void FleetService::startPoller(const greenapi::TransferOptions& transfer_options) {
  auto& p = *parts_;
  auto* metrics = p.metrics.get();
  p.engine = std::make_unique<greenapi::TransferEngine>(transfer_options);
  scheduler::PollerOptions poller_options;
  poller_options.on_result = [metrics](const scheduler::Job& job,
                                       const scheduler::Outcome& outcome) {
    metrics->recordUpstream(job, outcome);
  };
  poller_options.max_in_flight = transfer_options.maxInFlight;
  p.alerts = buildAlertDispatcher(config_, clock_, *p.writer, *metrics, p.poller);
  if (auto* alerts = p.alerts.get()) {
    poller_options.on_attention = [alerts](fleet::InstanceId id, fleet::Attention from,
                                           fleet::Attention to) {
      alerts->onAttention(id, from, to);
    };
  }
  auto* writer = p.writer.get();
  const base::Clock* clock = &clock_;
  p.poller = std::make_unique<scheduler::FleetPoller>(
      schedulerConfig(config_), poller_options, *p.engine, clock_,
      [writer, clock](const scheduler::ProbeUpdate& update) {
        const auto anchor = base::TimeAnchor::of(*clock);
        writer->enqueue(toStoredUpdate(update, anchor));
        for (auto& e : notableEvents(update, anchor)) writer->enqueueEvent(update.id, std::move(e));
      });
  const std::size_t loaded = loadRegistry();
  p.poller->start();
  if (p.alerts) p.alerts->start();  // after the load: stored conditions are not news
  p.observer = std::make_unique<PollerRegistryObserver>(*p.poller);
  kLog.info("event=scheduler_started instances={}", loaded);
}

// Hands every registered instance to the poller, resuming from its stored status; returns how
// many.
std::size_t FleetService::loadRegistry() {
  auto& p = *parts_;
  std::size_t loaded = 0;
  const auto anchor = base::TimeAnchor::of(clock_);
  // Sized once from the count: growing the per-id maps row by row rehashes them ~20 times.
  p.poller->reserve(static_cast<std::size_t>(p.instances->count()));
  {
    // Rows are read and decoded here while the previous block's tokens are opened and its rows
    // upserted on a second thread: the two halves cost about the same.
    struct LoadedRow {
      store::InstanceRow row;
      bool sealed = false;
    };
    auto* poller = p.poller.get();
    const auto* instances = p.instances.get();
    BlockPipeline<LoadedRow> upserts(4096, [&](LoadedRow& item) {
      auto& row = item.row;
      if (item.sealed) instances->openSealedToken(row.instance);
      // Resuming from the stored status spreads first probes over one interval.
      poller->upsert(
          row.instance,
          fromStoredStatus(row.status, anchor.toSteady(row.instance.created_at), anchor));
    });
    p.instances->forEachSealedRow([&](const store::InstanceRow& row, bool sealed) {
      upserts.pushWith([&](LoadedRow& slot) {
        slot.row = row;
        slot.sealed = sealed;
      });
      ++loaded;
    });
    upserts.finish();
  }
  // The loader's transient strings leave free chunks all over the heap; hand them back.
  ::malloc_trim(0);
  return loaded;
}

// The event log and the hub that serves its reads and live streams, within their caps.
void FleetService::startEventHub() {
  auto& p = *parts_;
  p.event_log = std::make_unique<store::StateEventLog>(*p.db);
  api::EventHubOptions hub_options;
  hub_options.max_subscribers =
      static_cast<std::size_t>(config_.getInt("events.max_subscribers", 1, 10000));
  hub_options.max_per_owner =
      static_cast<std::size_t>(config_.getInt("events.max_streams_per_key", 1, 10000));
  p.event_hub = std::make_unique<api::EventHub>(*p.event_log, hub_options);
  p.event_hub->start();
}

// Retention, health sweeps and the partner sync: the threads that run beside the poller.
void FleetService::startBackgroundWork() {
  auto& p = *parts_;
  p.sweep_store = std::make_unique<store::SweepRepository>(*p.db);
  p.scan_links = std::make_unique<store::ScanLinkRepository>(*p.db);
  startPruner();
  auto* writer = p.writer.get();
  p.sweeps = std::make_unique<sweep::SweepRunner>(
      *p.poller, *p.instances, *p.sweep_store, [writer] { writer->flush(); }, clock_);
  p.sweeps->start();
  p.partners = std::make_unique<store::PartnerRepository>(*p.db, clock_, *p.cipher);
  p.partner_sync =
      std::make_unique<PartnerSyncRunner>(*p.partners, *p.instances, *p.engine, *p.observer,
                                          *p.writer, clock_, partnerSyncPacing(config_));
  p.partner_sync->start();
}

// Calls operators make on one instance (pairing codes, webhook set-up), each paced.
void FleetService::buildUpstreamActions() {
  auto& p = *parts_;
  p.pairing = std::make_unique<scheduler::PairingCodeRequester>(
      *p.engine, clock_, std::chrono::seconds(config_.getInt("pairing.min_interval_s", 1, 3600)));
  p.webhooks = std::make_unique<store::WebhookRepository>(*p.db, *p.cipher);
  p.webhook_setter = std::make_unique<scheduler::WebhookSetter>(
      *p.engine, clock_,
      std::chrono::milliseconds(
          config_.getInt("webhooks.configure_min_interval_ms", 1000, 600000)));
}

void FleetService::buildApiContext(const std::string& default_api_url,
                                   const greenapi::UpstreamHostPolicy& allowed_hosts) {
  auto& p = *parts_;
  p.context = std::make_unique<api::ApiContext>(api::ApiContext{
      .instances = *p.instances,
      .keys = *p.keys,
      .clock = clock_,
      .observer = *p.observer,
      .poller = *p.poller,
      .metrics = *p.metrics,
      .events = *p.event_hub,
      .sweeps = *p.sweeps,
      .status_writer = *p.writer,
      .partners = *p.partners,
      .partner_sync = *p.partner_sync,
      .scan_links = *p.scan_links,
      .pairing = *p.pairing,
      .webhooks = *p.webhooks,
      .webhook_setter = *p.webhook_setter,
      .record_event = actionRecorder(*p.writer, clock_),
      .ready = [&p] { return p.ready.load(); },
      .default_api_url = default_api_url,
      .metrics_require_key = config_.getBool("metrics.require_key"),
      .webhook_token = config_.getString("webhooks.token"),
      .sse_heartbeat = std::chrono::milliseconds(
          static_cast<std::int64_t>(config_.getDouble("events.heartbeat_s", 0.05, 3600) * 1000)),
      .allowed_hosts = allowed_hosts,
      .scan_link_settings = scanLinkSettings(config_),
      .webhook_jobs_per_second = config_.getDouble("webhooks.configure_per_second", 0.01, 100),
  });
  p.context->scan_link_settings.listener_base_url = [&p] {
    const bool has_public = p.server && p.server->publicPort() != 0;
    const auto& listener = p.server_listeners[has_public ? 1 : 0];
    const int port = p.server ? (has_public ? p.server->publicPort() : p.server->port()) : 0;
    const bool v6 = listener.host.find(':') != std::string::npos;
    return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", listener.host, v6 ? "]" : "", port);
  };
}

// The admin API front; the service is ready once it listens.
void FleetService::startServer() {
  auto& p = *parts_;
  auto* metrics = p.metrics.get();
  api::AdminServerOptions options;
  options.http = httpOptions(config_);
  p.server_listeners = options.http.listeners;
  const std::string origins = config_.getString("http.cors_origins");
  for (const auto origin : base::splitCommaList(origins)) {
    options.cors_origins.emplace_back(origin);
  }
  options.on_request = [metrics](const std::string& route, int status, double seconds) {
    metrics->recordApiRequest(route, status, seconds);
  };
  p.server =
      std::make_unique<api::AdminServer>(options, api::buildRouter(*p.context), *p.keys, clock_);
  p.server->start();
  p.ready = true;
  kLog.info("event=started instances={} schema={}", p.instances->count(),
            store::Migrator::latestVersion());
  fmt::print("listening on http://{}:{}\n", options.http.listeners[0].host, p.server->port());
  if (p.server->publicPort() != 0) {
    fmt::print("public listener on http://{}:{}\n", options.http.listeners[1].host,
               p.server->publicPort());
  }
  std::fflush(stdout);
}

void FleetService::stop() {
  auto& p = *parts_;
  p.ready = false;
  // Ending the streams first lets them close cleanly (terminating chunk) before the front stops.
  if (p.event_hub) p.event_hub->stop();
  if (p.server) {
    p.server->stop();
    p.server.reset();
  }
  stopPruner();
  if (p.sweeps) p.sweeps->stop();
  if (p.partner_sync) p.partner_sync->stop();
  if (p.alerts) p.alerts->stop();
  if (p.poller) p.poller->stop();
  if (p.writer) p.writer->stop();
  p.context.reset();
  p.pairing.reset();
  p.webhook_setter.reset();
  p.webhooks.reset();
  p.event_hub.reset();
  p.sweeps.reset();
  p.partner_sync.reset();
  p.partners.reset();
  p.sweep_store.reset();
  p.scan_links.reset();
  p.event_log.reset();
  p.observer.reset();
  p.poller.reset();
  p.alerts.reset();  // after the poller, whose listener points at it
  p.engine.reset();
  p.writer.reset();  // before the metrics its drop hook feeds
  p.metrics.reset();
  p.keys.reset();
  p.instances.reset();
  p.cipher.reset();
  p.db.reset();
  p.lock.reset();
}

void FleetService::startPruner() {
  auto& p = *parts_;
  const auto days = config_.getInt("events.retention_days", 0, 36500);
  if (days == 0) return;
  p.pruner_stop = false;
  p.pruner = std::thread([this, days] {
    auto& parts = *parts_;
    std::unique_lock lock(parts.pruner_mutex);
    while (!parts.pruner_stop) {
      lock.unlock();
      try {
        const auto cutoff = clock_.wallNow() - std::chrono::hours(24 * days);
        const auto cutoff_ms = base::toUnixMillis(cutoff);
        const auto pruned = parts.event_log->pruneOlderThan(cutoff_ms);
        const auto sweeps = parts.sweep_store->pruneOlderThan(cutoff_ms);
        const auto links = parts.scan_links->pruneOlderThan(cutoff_ms);
        if (pruned + sweeps + links > 0) {
          kLog.info("event=pruned events={} sweeps={} scan_links={} older_than_days={}", pruned,
                    sweeps, links, days);
        }
      } catch (const std::exception& e) {
        kLog.warn("event=events_prune_failed error=\"{}\"", e.what());
      }
      lock.lock();
      parts.pruner_wake.wait_for(lock, std::chrono::hours(1), [&] { return parts.pruner_stop; });
    }
  });
}

void FleetService::stopPruner() {
  auto& p = *parts_;
  {
    std::lock_guard lock(p.pruner_mutex);
    p.pruner_stop = true;
  }
  p.pruner_wake.notify_all();
  if (p.pruner.joinable()) p.pruner.join();
}

int FleetService::port() const { return parts_->server ? parts_->server->port() : 0; }

std::string FleetService::host() const { return config_.getString("http.host"); }

}  // namespace greenfleet::app
