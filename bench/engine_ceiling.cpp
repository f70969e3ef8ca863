// bench/engine_ceiling: greenapi::TransferEngine alone, no scheduler: N requests in flight on
// one I/O thread (or `--io-threads`), each completion submitting the next getStateInstance at once,
// rotating over the emulator's instances. Prints "<requests/s> <CPU µs per request>" measured over
// `--seconds` after a 3 s warm-up: the ceiling greenfleet's poller could reach on this machine.
//   engine_ceiling API_URL INSTANCES_FILE [--in-flight N] [--io-threads N] [--seconds S]
// INSTANCES_FILE: one "idInstance apiTokenInstance" per line (bench/tools.py emulator-ids).

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "greenapi/transfer_engine.hpp"

using namespace greenfleet::greenapi;

namespace {

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

class Rotation {
 public:
  using Instance = std::pair<std::int64_t, std::string>;
  Rotation(TransferEngine& engine, std::string api_url, std::vector<Instance> instances)
      : engine_(engine), api_url_(std::move(api_url)), instances_(std::move(instances)) {}

  void issue() {
    const auto& [id, token] = instances_[next_.fetch_add(1) % instances_.size()];
    TransferEngine::Request r;
    r.credentials = InstanceCredentials{api_url_, id, token};
    r.method = "getStateInstance";
    r.done = [this](RawReply&&) {
      done_.fetch_add(1);
      issue();
    };
    engine_.submit(std::move(r));
  }
  long done() const { return done_.load(); }

 private:
  TransferEngine& engine_;
  std::string api_url_;
  std::vector<Instance> instances_;
  std::atomic<std::size_t> next_{0};
  std::atomic<long> done_{0};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: engine_ceiling API_URL INSTANCES_FILE [--in-flight N] "
                 "[--io-threads N] [--seconds S]\n");
    return 2;
  }
  std::vector<Rotation::Instance> instances;
  std::ifstream in(argv[2]);
  for (Rotation::Instance i; in >> i.first >> i.second;) instances.push_back(i);
  int in_flight = 64;
  int seconds = 10;
  TransferOptions options;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--in-flight") in_flight = value;
    if (flag == "--io-threads") options.ioThreads = static_cast<std::size_t>(value);
    if (flag == "--seconds") seconds = value;
  }
  if (instances.empty() || in_flight <= 0 || seconds <= 0) return 2;
  options.allowedHosts = UpstreamHostPolicy::parse("127.0.0.0/8, [::1]").value();
  options.maxInFlight = static_cast<std::size_t>(in_flight);
  TransferEngine engine(options);
  Rotation rotation(engine, argv[1], std::move(instances));
  for (int i = 0; i < in_flight; ++i) rotation.issue();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double c0 = cpuSeconds();
  const long d0 = rotation.done();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double c1 = cpuSeconds();
  const long d1 = rotation.done();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double n = static_cast<double>(d1 - d0);
  std::printf("%.0f %.2f\n", n / wall, n > 0 ? (c1 - c0) / n * 1e6 : 0.0);
  std::fflush(stdout);
  // Completions keep resubmitting: leave without tearing the engine down under them.
  std::_Exit(0);
}
