// greenfleet: one binary, subcommands. Everything lives in greenfleet_core; this only dispatches.
#include "app/command_table.hpp"

int main(int argc, char** argv) { return greenfleet::app::dispatch(argc, argv); }
