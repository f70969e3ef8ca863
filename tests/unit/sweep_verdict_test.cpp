#include <doctest/doctest.h>

#include "sweep_cli/verdict.hpp"

using namespace greenfleet::sweep;
using namespace greenfleet::sweep_cli;

namespace {
Report reportWith(std::int64_t needs_scan, std::int64_t blocked, std::int64_t rejected) {
  Report r;
  r.total = 100;
  r.counts_by_attention = {{"needs_scan", needs_scan},
                           {"blocked", blocked},
                           {"credentials_rejected", rejected},
                           {"none", 100 - needs_scan - blocked - rejected}};
  return r;
}
}  // namespace

TEST_CASE("a fleet with no problem instance is OK under the default thresholds") {
  const auto v = evaluate(reportWith(0, 0, 0), Thresholds{});
  CHECK(v.status == CheckStatus::ok);
  CHECK(exitCode(v.status) == 0);
}

TEST_CASE("one instance needing a scan is a WARNING by default") {
  const auto v = evaluate(reportWith(1, 0, 0), Thresholds{});
  CHECK(v.status == CheckStatus::warning);
  CHECK(exitCode(v.status) == 1);
  CHECK(v.reason == "1 need a QR scan (warn >= 1)");
}

TEST_CASE("needs-scan reaching --crit-needs-scan is CRITICAL, one below is WARNING") {
  Thresholds t;
  t.crit_needs_scan = 10;
  CHECK(evaluate(reportWith(9, 0, 0), t).status == CheckStatus::warning);
  const auto v = evaluate(reportWith(10, 0, 0), t);
  CHECK(v.status == CheckStatus::critical);
  CHECK(exitCode(v.status) == 2);
  CHECK(v.reason == "10 need a QR scan (crit >= 10)");
}

TEST_CASE("one blocked instance is CRITICAL by default") {
  const auto v = evaluate(reportWith(0, 1, 0), Thresholds{});
  CHECK(v.status == CheckStatus::critical);
  CHECK(v.reason == "1 blocked (crit >= 1)");
}

TEST_CASE("one instance with rejected credentials is CRITICAL by default") {
  const auto v = evaluate(reportWith(0, 0, 1), Thresholds{});
  CHECK(v.status == CheckStatus::critical);
  CHECK(v.reason == "1 with rejected credentials (crit >= 1)");
}

TEST_CASE("the reason lists every threshold reached, critical ones first") {
  const auto v = evaluate(reportWith(3, 2, 0), Thresholds{});
  CHECK(v.status == CheckStatus::critical);
  CHECK(v.reason == "2 blocked (crit >= 1); 3 need a QR scan (warn >= 1)");
}

TEST_CASE("custom thresholds compare with >= and unset thresholds never fire") {
  Thresholds t;
  t.warn_needs_scan = 5;
  t.crit_blocked = 3;
  CHECK(evaluate(reportWith(4, 2, 2), t).status == CheckStatus::ok);
  CHECK(evaluate(reportWith(5, 2, 2), t).status == CheckStatus::warning);
  CHECK(evaluate(reportWith(5, 3, 0), t).status == CheckStatus::critical);
  CHECK(evaluate(reportWith(0, 0, 3), t).status == CheckStatus::critical);

  Thresholds off;
  off.warn_needs_scan.reset();
  off.crit_blocked.reset();
  CHECK(evaluate(reportWith(50, 20, 20), off).status == CheckStatus::ok);
}
