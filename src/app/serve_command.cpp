#include "app/command_table.hpp"
#include "app/flags.hpp"

namespace greenfleet::app {

int runServe(const CommandArgs& args) {
  Flags flags("serve", "TODO");
  if (!flags.parse(args)) return 0;
  return 1;
}

}  // namespace greenfleet::app
