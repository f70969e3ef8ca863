#pragma once
// The subcommand table: `greenfleet <name> [args]`. main() only looks a name up here.

#include <string>
#include <string_view>
#include <vector>

namespace greenfleet::app {

using CommandArgs = std::vector<std::string>;

struct Command {
  std::string_view name;
  int (*run)(const CommandArgs& args);
  std::string_view summary;
};

const std::vector<Command>& commands();
// Dispatches argv to a command; prints usage and returns 2 on an unknown command.
int dispatch(int argc, char** argv);

// Each subcommand, implemented in its own <name>_command.cpp.
int runServe(const CommandArgs& args);
int runMigrate(const CommandArgs& args);
int runKeys(const CommandArgs& args);
int runVersion(const CommandArgs& args);
int runEmulate(const CommandArgs& args);
int runSweep(const CommandArgs& args);
int runInstances(const CommandArgs& args);
int runSecrets(const CommandArgs& args);
int runBackup(const CommandArgs& args);

}  // namespace greenfleet::app
