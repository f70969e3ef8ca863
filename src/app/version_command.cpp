#include <iostream>

#include "app/command_table.hpp"
#include "app/flags.hpp"

namespace greenfleet::app {

int runVersion(const CommandArgs& args) {
  Flags flags("version", "Print the version of this greenfleet binary.");
  if (!flags.parse(args)) return 0;
  std::cout << "greenfleet " << GREENFLEET_VERSION << "\n";
  return 0;
}

}  // namespace greenfleet::app
