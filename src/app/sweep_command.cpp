#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "app/command_table.hpp"
#include "app/service_config.hpp"
#include "base/clock.hpp"
#include "store/readonly_status_reader.hpp"
#include "sweep/report.hpp"
#include "sweep_cli/json_format.hpp"
#include "sweep_cli/nagios_format.hpp"
#include "sweep_cli/progress_bar.hpp"
#include "sweep_cli/sweep_client.hpp"
#include "sweep_cli/sweep_outcome.hpp"
#include "sweep_cli/text_format.hpp"
#include "sweep_cli/verdict.hpp"

namespace greenfleet::app {

namespace {

using Deadline = sweep_cli::SweepClient::Deadline;

// Nagios reads 3 as UNKNOWN; 2 (what other commands return for a bad flag) would page someone
// with CRITICAL for a typo in a check definition.
constexpr int kUsageExit = 3;

struct SweepSettings {
  std::string mode;  // "fresh", "cached", "db"
  std::string url;
  std::string key_file;
  std::string db_path;
  std::optional<std::string> tag;
  std::string format;
  sweep_cli::Thresholds thresholds;
  std::chrono::seconds timeout{60};
  std::chrono::milliseconds poll_interval{500};
  std::size_t max_rows = 50;
};

std::optional<std::int64_t> thresholdFlag(const Flags& flags, const std::string& name) {
  const auto v = flags.getInt(name, 0, 1'000'000'000);
  if (!v || *v == 0) return std::nullopt;  // 0 switches a threshold off
  return *v;
}

SweepSettings readSettings(const Flags& flags) {
  SweepSettings s;
  const bool fresh = flags.isSet("fresh");
  const bool cached = flags.isSet("cached");
  const bool offline = flags.isSet("db");
  if (fresh && cached) throw UsageError("--fresh and --cached exclude each other");
  if (offline && fresh)
    throw UsageError("--db reads the stored status; it cannot run a --fresh sweep");
  s.mode = offline ? "db" : cached ? "cached" : "fresh";
  s.format = flags.getOr("format", "text");
  if (s.format != "text" && s.format != "json" && s.format != "nagios") {
    throw UsageError(fmt::format("--format must be text, json or nagios, got '{}'", s.format));
  }
  s.tag = flags.get("tag");
  if (s.tag && s.tag->empty()) throw UsageError("--tag needs a non-empty tag");
  s.thresholds.warn_needs_scan = thresholdFlag(flags, "warn-needs-scan");
  s.thresholds.crit_needs_scan = thresholdFlag(flags, "crit-needs-scan");
  s.thresholds.crit_blocked = thresholdFlag(flags, "crit-blocked");
  s.timeout = std::chrono::seconds(*flags.getInt("timeout", 1, 86400));
  s.poll_interval = std::chrono::milliseconds(*flags.getInt("poll-interval-ms", 10, 60000));
  s.max_rows = static_cast<std::size_t>(*flags.getInt("max-rows", 0, 1'000'000));
  // Config only supplies defaults; a flag wins. Loading it can fail (bad file), which is then a
  // usage problem of this check, not a fleet problem.
  try {
    const auto config = loadConfig(flags);
    s.url = flags.isSet("url") ? *flags.get("url") : defaultServerUrl(config);
    s.key_file = flags.isSet("key-file") ? *flags.get("key-file") : adminKeyFile(config);
    s.db_path = databasePath(config);
  } catch (const config::ConfigError& e) {
    throw UsageError(e.what());
  }
  return s;
}

std::string seconds(std::chrono::seconds s) { return fmt::format("{} s", s.count()); }

void checkFresh(const SweepSettings& s, Deadline deadline, sweep_cli::SweepOutcome& outcome) {
  const sweep_cli::SweepClient client(s.url, readApiKeyFile(s.key_file));
  sweep::SweepFilter filter;
  filter.tag = s.tag;
  auto run = client.start(filter, deadline);
  outcome.sweep_id = run.id;
  std::optional<sweep_cli::ProgressBar> bar;
  if (::isatty(STDERR_FILENO) == 1) bar.emplace(std::cerr);
  while (run.status == sweep::SweepStatus::running) {
    if (bar) bar->update(fmt::format("sweep #{}", run.id), run.done, run.total, run.eta_seconds);
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      throw sweep_cli::SweepTimeout(fmt::format("sweep #{} still running after {} ({}/{} probed)",
                                                run.id, seconds(s.timeout), run.done, run.total));
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(s.poll_interval, deadline - now));
    run = client.get(run.id, deadline);
  }
  if (bar) {
    bar->update(fmt::format("sweep #{}", run.id), run.done, run.total, std::nullopt);
    bar->finish();
  }
  if (run.status == sweep::SweepStatus::failed) {
    throw sweep_cli::SweepFailure(fmt::format("sweep #{} failed on the server", run.id));
  }
  outcome.report = std::move(run.report);
  outcome.generated_at = run.finished_at;
}

void checkCached(const SweepSettings& s, Deadline deadline, sweep_cli::SweepOutcome& outcome) {
  const sweep_cli::SweepClient client(s.url, readApiKeyFile(s.key_file));
  auto cached = client.cachedReport(s.tag, deadline);
  outcome.report = std::move(cached.report);
  outcome.generated_at = cached.generated_at;
}

void checkOffline(const SweepSettings& s, const base::Clock& clock,
                  sweep_cli::SweepOutcome& outcome) {
  const store::ReadOnlyStatusReader reader(s.db_path);
  if (reader.walPresent()) {
    std::cerr << fmt::format(
        "greenfleet sweep: note: {}-wal exists, so the server may be running or did not stop "
        "cleanly; reading with locking\n",
        s.db_path);
  }
  const auto now = clock.wallNow();
  outcome.report = sweep::buildReport(reader.rows(s.tag), now);
  outcome.generated_at = now;
}

Flags sweepFlags() {
  Flags flags("sweep",
              "Check the fleet once and exit like a Nagios plugin: 0 OK, 1 WARNING, 2 CRITICAL, "
              "3 UNKNOWN (the check itself failed, or a bad flag). Every threshold fires when "
              "count >= N; 0 switches it off. --fresh (default) asks the server for a sweep and "
              "waits; --cached reads the server's stored status; --db FILE reads a stopped "
              "server's database read-only (then --url and --key-file are ignored).");
  addConfigFlags(flags);
  flags
      .option("url", "URL", "server base URL (default: http://<http.host>:<http.port> from config)")
      .option("key-file", "FILE", "file holding the API key (default: <data.dir>/admin.key)")
      .option("tag", "TAG", "check only instances carrying this tag")
      .toggle("fresh", "start a sweep on the server and wait for it (default; admin key)")
      .toggle("cached", "report the stored status at once, without probing (read key is enough)")
      .option("format", "FMT", "text, json or nagios", "text")
      .option("warn-needs-scan", "N", "WARNING when >= N instances need a QR scan", "1")
      .option("crit-needs-scan", "N", "CRITICAL when >= N instances need a QR scan (default: off)")
      .option("crit-blocked", "N",
              "CRITICAL when >= N are blocked, or >= N have rejected credentials", "1")
      .option("timeout", "S", "bound on the whole run, in seconds; exceeded = UNKNOWN", "60")
      .option("poll-interval-ms", "MS", "how often a --fresh sweep's progress is read", "500")
      .option("max-rows", "N", "problem instances listed by --format text", "50");
  return flags;
}

// Runs the check the settings name; a check that fails or times out is an UNKNOWN verdict.
sweep_cli::SweepOutcome checkFleet(const SweepSettings& settings, const base::Clock& clock) {
  const auto deadline = clock.steadyNow() + settings.timeout;
  sweep_cli::SweepOutcome outcome;
  outcome.source = settings.mode;
  outcome.thresholds = settings.thresholds;
  try {
    if (settings.mode == "db") {
      checkOffline(settings, clock, outcome);
    } else if (settings.mode == "cached") {
      checkCached(settings, deadline, outcome);
    } else {
      checkFresh(settings, deadline, outcome);
    }
    outcome.verdict = sweep_cli::evaluate(*outcome.report, settings.thresholds);
  } catch (const sweep_cli::SweepTimeout& e) {
    outcome.report.reset();
    outcome.verdict = sweep_cli::unknownVerdict(
        fmt::format("timed out after {} (--timeout): {}", seconds(settings.timeout), e.what()));
  } catch (const std::exception& e) {
    outcome.report.reset();
    outcome.verdict = sweep_cli::unknownVerdict(e.what());
  }
  return outcome;
}

void printOutcome(const sweep_cli::SweepOutcome& outcome, const SweepSettings& settings,
                  const base::Clock& clock) {
  if (settings.format == "json") {
    std::cout << sweep_cli::formatJson(outcome);
  } else if (settings.format == "nagios") {
    std::cout << sweep_cli::formatNagios(outcome);
  } else {
    std::cout << sweep_cli::formatText(outcome, settings.max_rows, clock.wallNow());
  }
  std::cout.flush();
}

}  // namespace

int runSweep(const CommandArgs& args) {
  Flags flags = sweepFlags();
  SweepSettings settings;
  try {
    if (!flags.parse(args)) return 0;
    settings = readSettings(flags);
  } catch (const UsageError& e) {
    std::cerr << "greenfleet sweep: " << e.what() << "\nRun 'greenfleet sweep --help' for usage.\n";
    std::cout << "GREENFLEET UNKNOWN - bad usage: " << e.what() << "\n";
    return kUsageExit;
  }
  const base::SystemClock clock;
  const auto outcome = checkFleet(settings, clock);
  printOutcome(outcome, settings, clock);
  return sweep_cli::exitCode(outcome.verdict.status);
}

}  // namespace greenfleet::app
