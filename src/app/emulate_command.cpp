#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include "app/command_table.hpp"
#include "app/flags.hpp"
#include "app/termination_signal.hpp"
#include "base/clock.hpp"
#include "emulator/controllable_clock.hpp"
#include "emulator/emulator_server.hpp"
#include "emulator/scenario.hpp"

namespace greenfleet::app {

namespace {

struct DelayFlag {
  const char* name;
  emulator::Millis emulator::Delays::*field;
};

constexpr DelayFlag kDelayFlags[] = {
    {"initializing-ms", &emulator::Delays::initializing},
    {"starting-ms", &emulator::Delays::starting},
    {"logout-ms", &emulator::Delays::logout},
    {"reboot-ms", &emulator::Delays::reboot},
    {"qr-rotation-ms", &emulator::Delays::qrRotation},
    {"qr-quirk-ms", &emulator::Delays::qrQuirk},
    {"qr-quirk-gap-ms", &emulator::Delays::qrQuirkGap},
    {"ws-timeout-ms", &emulator::Delays::wsTimeout},
};

// Every open connection is a descriptor and benchmarks hold tens of thousands: lift the soft
// limit (often 1024) to the hard one.
void raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Writes the fleet as a greenfleet registration batch (POST /api/v1/instances), so a demo or a
// script needs nothing beyond the binary and curl. Written to a temporary name and renamed: a
// reader waiting for the file never sees half of it.
void exportFleet(emulator::EmulatorServer& server, const std::string& path) {
  Poco::JSON::Array batch;
  for (const auto id : server.registry().ids()) {
    server.registry().with(id, [&](const emulator::EmulatedInstance& instance, auto, auto&) {
      Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      item->set("id", instance.id());
      item->set("token", instance.token());
      item->set("apiUrl", server.baseUrl());
      item->set("name", fmt::format("emulated-{}", instance.id() % 100000));
      Poco::JSON::Array::Ptr tags = new Poco::JSON::Array;
      tags->add(std::string("emulator"));
      tags->add(instance.state());
      item->set("tags", tags);
      batch.add(item);
    });
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    batch.stringify(out);
    out << "\n";
    if (!out) throw UsageError("--export-fleet: cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw UsageError("--export-fleet: cannot rename " + tmp + " to " + path);
  }
}

void defineFlags(Flags& flags) {
  flags.option("host", "ADDR", "address to bind", "127.0.0.1")
      .option("port", "N", "port to listen on; 0 picks a free port", "9090")
      .option("instances", "N",
              "number of instances to create when no --scenario is given, all in --state", "10")
      .option("state", "STATE", "state of the --instances instances", "authorized")
      .option("scenario", "FILE", "JSON fleet description (instances by state, faults, delays)")
      .option("seed", "S", "seed for tokens, QR payloads and fault rolls", "1")
      .option("faults", "JSON", "global fault profile, inline JSON (see docs/EMULATOR.md)")
      .option("initializing-answer", "null|401",
              "how a new instance answers getStateInstance while initializing")
      .option("ws-timeout-type", "TYPE",
              "type of the websocket timeout frame: timeoutExpired or timeout")
      .option("hang-max-ms", "MS", "longest a hang fault holds a request", "30000")
      .option("webhook-url", "URL", "POST stateInstanceChanged webhooks here")
      .option("webhook-token", "TOKEN", "sent as Authorization: Bearer <token>")
      .option("threads", "N",
              "worker threads for slow routes (qr PNGs, control API); connections cost none", "16")
      .option("queue", "N", "requests waiting for a worker thread; beyond: 503", "4096")
      .option("keep-alive-ms", "MS", "idle keep-alive connection timeout", "10000")
      .option("export-fleet", "FILE",
              "write the fleet as a greenfleet registration batch (JSON array for POST "
              "/api/v1/instances, apiUrl = this emulator) once listening")
      .toggle("controllable-clock",
              "tests: the emulator's clock stands still and moves only by POST "
              "/_emulator/clock/advance");
  for (const auto& d : kDelayFlags) {
    flags.option(d.name, "MS", "state machine / QR timing in milliseconds (see docs)");
  }
}

// --scenario, when given, loads into `options` (delays, seed, answers, rate limits) first, so
// the flags that follow override it.
std::optional<emulator::Scenario> loadScenario(const Flags& flags,
                                               emulator::EmulatorOptions& options) {
  const auto file = flags.get("scenario");
  if (!file) return std::nullopt;
  auto loaded = emulator::Scenario::load(*file, options);
  if (!loaded) throw UsageError("--scenario: " + loaded.error());
  if (flags.isSet("seed")) {
    options.seed = static_cast<std::uint64_t>(*flags.getInt("seed", 0, 1LL << 62));
  }
  return std::move(loaded).value();
}

void applyOptionFlags(const Flags& flags, emulator::EmulatorOptions& options) {
  for (const auto& d : kDelayFlags) {
    if (flags.isSet(d.name)) {
      options.delays.*d.field = emulator::Millis(*flags.getInt(d.name, 0, 86400000));
    }
  }
  if (const auto v = flags.get("initializing-answer")) {
    if (*v != "null" && *v != "401") throw UsageError("--initializing-answer must be null or 401");
    options.initializingAnswer = *v;
  }
  if (const auto v = flags.get("ws-timeout-type")) options.wsTimeoutType = *v;
  options.hangMax = emulator::Millis(*flags.getInt("hang-max-ms", 0, 3600000));
  options.webhookUrl = flags.getOr("webhook-url", "");
  options.webhookToken = flags.getOr("webhook-token", "");
  options.threads = static_cast<int>(*flags.getInt("threads", 2, 4096));
  options.queue = static_cast<int>(*flags.getInt("queue", 1, 1000000));
  options.keepAlive = emulator::Millis(*flags.getInt("keep-alive-ms", 100, 3600000));
}

// --faults replaces the scenario's global profile.
std::optional<emulator::FaultProfile> globalFaults(
    const Flags& flags, const std::optional<emulator::Scenario>& scenario) {
  std::optional<emulator::FaultProfile> faults = scenario ? scenario->faults : std::nullopt;
  if (const auto json = flags.get("faults")) {
    Poco::JSON::Object::Ptr obj;
    try {
      obj = Poco::JSON::Parser().parse(*json).extract<Poco::JSON::Object::Ptr>();
    } catch (...) {
      throw UsageError("--faults must be a JSON object");
    }
    auto parsed = emulator::FaultProfile::fromJson(obj);
    if (!parsed) throw UsageError("--faults: " + parsed.error());
    faults = std::move(parsed).value();
  }
  return faults;
}

// The scenario's instances, unless it has none and --instances is given: then --instances of
// --state.
void populate(emulator::EmulatorServer& server, const Flags& flags,
              const std::optional<emulator::Scenario>& scenario, int count,
              const std::string& state) {
  if (scenario && (!scenario->instances.empty() || !flags.isSet("instances"))) {
    for (const auto& [s, n] : scenario->instances) server.registry().add(n, s);
  } else {
    server.registry().add(count, state);
  }
}

void announce(emulator::EmulatorServer& server) {
  std::cout << "listening on " << server.baseUrl() << std::endl;
  std::cout << fmt::format(
                   "emulating {} instances; credentials (idInstance, apiTokenInstance): GET "
                   "{}/_emulator/instances",
                   server.registry().size(), server.baseUrl())
            << std::endl;
}

}  // namespace

int runEmulate(const CommandArgs& args) {
  Flags flags("emulate",
              "Run a local Green API emulator (wire format, rate limits, faults, control API "
              "under /_emulator/). See docs/EMULATOR.md.");
  defineFlags(flags);
  if (!flags.parse(args)) return 0;

  emulator::EmulatorOptions options;
  options.host = flags.getOr("host", "127.0.0.1");
  options.port = static_cast<int>(*flags.getInt("port", 0, 65535));
  options.seed = static_cast<std::uint64_t>(*flags.getInt("seed", 0, 1LL << 62));
  const auto scenario = loadScenario(flags, options);
  applyOptionFlags(flags, options);
  const int count = static_cast<int>(*flags.getInt("instances", 0, 1000000));
  const std::string state = flags.getOr("state", "authorized");
  if (!emulator::states::isKnown(state)) throw UsageError("--state: unknown state " + state);
  const auto faults = globalFaults(flags, scenario);

  // Before any thread starts, so every thread inherits the mask.
  blockTerminationSignals();
  raiseOpenFileLimit();
  static const base::SystemClock system_clock;
  static emulator::ControllableClock controllable_clock(system_clock);
  emulator::EmulatorServer server = flags.isSet("controllable-clock")
                                        ? emulator::EmulatorServer(options, controllable_clock)
                                        : emulator::EmulatorServer(options, system_clock);
  populate(server, flags, scenario, count, state);
  if (faults) server.registry().setGlobalFaults(*faults);
  server.start();
  if (const auto file = flags.get("export-fleet")) exportFleet(server, *file);
  announce(server);

  const int sig = waitForTerminationSignal();
  std::cout << "stopping (signal " << sig << ")" << std::endl;
  server.stop();
  return 0;
}

}  // namespace greenfleet::app
