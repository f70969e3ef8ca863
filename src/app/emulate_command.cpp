#include <iostream>

#include "app/command_table.hpp"
#include "app/flags.hpp"

namespace greenfleet::app {

// Placeholder until the emulator lands.
int runEmulate(const CommandArgs& args) {
  Flags flags("emulate", "Run a local Green API emulator.");
  if (!flags.parse(args)) return 0;
  std::cerr << "emulate: not built yet\n";
  return 1;
}

}  // namespace greenfleet::app
