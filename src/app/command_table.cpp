#include "app/command_table.hpp"

#include <exception>
#include <iostream>

#include <fmt/format.h>

#include "app/flags.hpp"

namespace greenfleet::app {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"serve", runServe, "run the fleet service: admin API, scheduler, status store"},
      {"migrate", runMigrate, "apply pending database migrations and exit"},
      {"keys", runKeys, "create, list or revoke admin API keys"},
      {"emulate", runEmulate, "run a local Green API emulator for tests and demos"},
      {"sweep", runSweep, "check the fleet once and exit 0/1/2/3 like a Nagios plugin"},
      {"instances", runInstances, "import instances from, or export them to, JSON/NDJSON/CSV"},
      {"secrets", runSecrets, "rotate the key that encrypts tokens at rest (server stopped)"},
      {"backup", runBackup, "copy the live database to a file (online, consistent; no key)"},
      {"version", runVersion, "print the version"},
  };
  return table;
}

namespace {
void printUsage(std::ostream& out) {
  out << "usage: greenfleet <command> [flags]\n\n"
         "greenfleet watches a fleet of Green API WhatsApp instances and tells which need a QR "
         "scan.\n\ncommands:\n";
  for (const auto& c : commands()) out << fmt::format("  {:<10} {}\n", c.name, c.summary);
  out << "\nRun 'greenfleet <command> --help' for a command's flags.\n";
}
}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    printUsage(std::cerr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    printUsage(std::cout);
    return 0;
  }
  if (name == "--version") return runVersion({});
  CommandArgs args(argv + 2, argv + argc);
  for (const auto& c : commands()) {
    if (c.name != name) continue;
    try {
      return c.run(args);
    } catch (const UsageError& e) {
      std::cerr << "greenfleet " << name << ": " << e.what() << "\n"
                << "Run 'greenfleet " << name << " --help' for usage.\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "greenfleet " << name << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "greenfleet: unknown command '" << name << "'\n\n";
  printUsage(std::cerr);
  return 2;
}

}  // namespace greenfleet::app
