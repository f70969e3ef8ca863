#include "app/termination_signal.hpp"

#include <signal.h>

#include <cerrno>

namespace greenfleet::app {

namespace {
sigset_t terminationSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void blockTerminationSignals() {
  const sigset_t set = terminationSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A peer closing a connection mid-write must not kill the process.
  signal(SIGPIPE, SIG_IGN);
}

int waitForTerminationSignal() {
  const sigset_t set = terminationSet();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace greenfleet::app
