#pragma once
// Blocks SIGINT/SIGTERM in the calling thread (and so in every thread it starts afterwards) and
// later waits for one of them: a server's main thread calls blockTerminationSignals() before
// starting threads, then waitForTerminationSignal() to know when to shut down in order.

namespace greenfleet::app {

void blockTerminationSignals();
// Returns the signal number received.
int waitForTerminationSignal();

}  // namespace greenfleet::app
