#pragma once
// Process-level limits the connection-heavy tests need: enough descriptors for thousands of
// sockets, and a process's thread count to show that open connections cost none.

#include <sys/types.h>

namespace greenfleet::testing {

// Raises this process's soft RLIMIT_NOFILE to at least `count` (up to the hard limit); returns
// the soft limit now in force. Children started afterwards inherit it.
long raiseOpenFileLimit(long count);
// "Threads:" of /proc/<pid>/status; -1 when unreadable.
int threadCount(pid_t pid);

}  // namespace greenfleet::testing
