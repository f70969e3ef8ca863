#include <doctest/doctest.h>

#include "support/child_process.hpp"

using namespace greenfleet::testing;

TEST_CASE("a bad flag prints usage and exits 2") {
  std::string out;
  CHECK(runToCompletion(greenfleetBinary(), {"version", "--bogus"}, out) == 2);
  CHECK(out.find("unknown flag --bogus") != std::string::npos);
}

TEST_CASE("an unknown command lists the commands and exits 2") {
  std::string out;
  CHECK(runToCompletion(greenfleetBinary(), {"frobnicate"}, out) == 2);
  CHECK(out.find("serve") != std::string::npos);
}
