#include <doctest/doctest.h>

#include <regex>

#include "base/clock.hpp"
#include "base/time_format.hpp"
#include "sweep/json_reader.hpp"
#include "sweep/report_json.hpp"
#include "sweep_cli/json_format.hpp"
#include "sweep_cli/nagios_format.hpp"
#include "sweep_cli/text_format.hpp"

using namespace greenfleet;
using namespace greenfleet::sweep;
using namespace greenfleet::sweep_cli;

namespace {

// Whole milliseconds, the precision stored and serialised times have.
const base::WallTime kNow = base::fromUnixMillis(base::toUnixMillis(base::ManualClock().wallNow()));

AttentionEntry entry(std::int64_t id, std::string name, std::string attention) {
  AttentionEntry e;
  e.id = id;
  e.name = std::move(name);
  e.attention = std::move(attention);
  e.state = attention == "needs_scan" ? "notAuthorized" : "blocked";
  e.since = kNow - std::chrono::minutes(90);
  e.tags = {"eu"};
  return e;
}

SweepOutcome outcomeWith(std::int64_t needs_scan, std::int64_t blocked, std::int64_t total) {
  SweepOutcome o;
  Report r;
  r.total = total;
  r.counts_by_attention = {{"needs_scan", needs_scan},
                           {"blocked", blocked},
                           {"credentials_rejected", 0},
                           {"none", total - needs_scan - blocked}};
  r.counts_by_state = {{"notAuthorized", needs_scan},
                       {"blocked", blocked},
                       {"authorized", total - needs_scan - blocked}};
  for (std::int64_t i = 0; i < blocked; ++i) {
    r.attention.push_back(entry(2000 + i, "blocked " + std::to_string(i), "blocked"));
  }
  for (std::int64_t i = 0; i < needs_scan; ++i) {
    r.attention.push_back(entry(1000 + i, "shop " + std::to_string(i), "needs_scan"));
  }
  o.thresholds.crit_needs_scan = 10;
  o.verdict = evaluate(r, o.thresholds);
  o.report = std::move(r);
  o.source = "fresh";
  o.sweep_id = 7;
  o.generated_at = kNow;
  return o;
}

// The Nagios plugin output grammar (Nagios plugin development guidelines, "Performance data"):
// TEXT [| 'label'=value[UOM];[warn];[crit];[min];[max] ...], one line. Returns the perfdata items
// as label → value, and fails the test on anything that does not match.
std::map<std::string, std::string> parseNagios(const std::string& output) {
  REQUIRE(!output.empty());
  REQUIRE(output.back() == '\n');
  const std::string line = output.substr(0, output.size() - 1);
  REQUIRE(line.find('\n') == std::string::npos);
  REQUIRE(line.find('\r') == std::string::npos);
  const auto bar = line.find('|');
  REQUIRE(bar != std::string::npos);
  REQUIRE(line.find('|', bar + 1) == std::string::npos);
  const std::string perf = line.substr(bar + 1);
  const std::string number = R"(-?[0-9]+(?:\.[0-9]+)?)";
  const std::string range = "(?:@?(?:~|" + number + ")?(?::(?:" + number + ")?)?)";
  const std::regex item("('(?:[^']|'')+'|[^'= ]+)=(" + number + ")(?:s|ms|us|%|B|KB|MB|TB|c)?" +
                        "(?:;" + range + "(?:;" + range + "(?:;(?:" + number +
                        ")?(?:;(?:" + number + ")?)?)?)?)?");
  std::map<std::string, std::string> out;
  REQUIRE(perf.size() > 1);
  REQUIRE(perf.front() == ' ');
  std::size_t pos = 1;
  while (pos < perf.size()) {
    const auto space = perf.find(' ', pos);
    const std::string token =
        perf.substr(pos, space == std::string::npos ? std::string::npos : space - pos);
    std::smatch m;
    INFO("perfdata item: " << token);
    REQUIRE(std::regex_match(token, m, item));
    out[m[1]] = m[2];
    if (space == std::string::npos) break;
    pos = space + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("the nagios output is one status line with valid perfdata") {
  const auto out = formatNagios(outcomeWith(3, 0, 1000));
  CHECK(out.rfind("GREENFLEET WARNING - 3 need a QR scan, 0 blocked, 1000 instances", 0) == 0);
  const auto perf = parseNagios(out);
  CHECK(perf.at("needs_scan") == "3");
  CHECK(perf.at("blocked") == "0");
  CHECK(perf.at("credentials_rejected") == "0");
  CHECK(perf.at("total") == "1000");
  CHECK(out.find("| needs_scan=3;1;10 blocked=0;;1 credentials_rejected=0;;1 ") !=
        std::string::npos);
  CHECK(out.find("shop 0 (needs_scan)") != std::string::npos);
}

TEST_CASE("the nagios line stays under 4 KiB with 100k problem instances") {
  const auto out = formatNagios(outcomeWith(100'000, 5, 200'000));
  CHECK(out.size() < 4096);
  CHECK(out.size() <= kNagiosLineLimit);
  const auto perf = parseNagios(out);
  CHECK(perf.at("needs_scan") == "100000");
  CHECK(out.rfind("GREENFLEET CRITICAL - 100000 need a QR scan, 5 blocked", 0) == 0);
  CHECK(out.find("blocked 0 (blocked)") != std::string::npos);
  CHECK(out.find(" more |") != std::string::npos);
}

TEST_CASE("instance names cannot break the nagios line or its perfdata") {
  auto o = outcomeWith(1, 0, 1);
  o.report->attention[0].name = "evil | name\nwith=newline " + std::string(500, 'x');
  const auto out = formatNagios(o);
  CHECK(out.size() < 600);
  const auto perf = parseNagios(out);
  CHECK(perf.at("needs_scan") == "1");
}

TEST_CASE("an UNKNOWN nagios line has the reason and no report") {
  SweepOutcome o;
  o.verdict = unknownVerdict("cannot reach http://127.0.0.1:1: Connection refused");
  const auto out = formatNagios(o);
  CHECK(out == "GREENFLEET UNKNOWN - cannot reach http://127.0.0.1:1: Connection refused\n");
}

TEST_CASE("the text output has the verdict, the counts and a table of problem instances") {
  const auto out = formatText(outcomeWith(3, 1, 50), 2, kNow);
  CHECK(out.rfind(
            "greenfleet sweep: CRITICAL - 1 blocked (crit >= 1); 3 need a QR scan (warn >= 1)\n",
            0) == 0);
  CHECK(out.find("50 instances; fresh sweep #7") != std::string::npos);
  CHECK(out.find("needs_scan 3") != std::string::npos);
  CHECK(out.find("authorized 46") != std::string::npos);
  CHECK(out.find("ATTENTION") != std::string::npos);
  CHECK(out.find("blocked 0") != std::string::npos);
  CHECK(out.find("shop 0") != std::string::npos);
  CHECK(out.find("shop 1") == std::string::npos);  // cut at max_rows = 2
  CHECK(out.find("90m") != std::string::npos);
  CHECK(out.find("... and 2 more") != std::string::npos);
}

TEST_CASE("the text output of a healthy fleet says nothing needs attention") {
  const auto out = formatText(outcomeWith(0, 0, 5), 50, kNow);
  CHECK(out.rfind("greenfleet sweep: OK", 0) == 0);
  CHECK(out.find("No instance needs attention.") != std::string::npos);
}

TEST_CASE("the json output is the report plus status, exit code and thresholds") {
  const auto o = outcomeWith(3, 0, 1000);
  const auto out = formatJson(o);
  CHECK(out.back() == '\n');
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  const JsonReader json(JsonReader::parseObject(out), "");
  CHECK(json.string("status") == "WARNING");
  CHECK(json.integer("exitCode") == 1);
  CHECK(json.string("source") == "fresh");
  CHECK(json.integer("sweepId") == 7);
  CHECK(json.object("thresholds").integer("critNeedsScan") == 10);
  const auto report = reportFromJson(json.object("report"));
  CHECK(report.total == 1000);
  CHECK(report.attention.size() == 3);

  SweepOutcome failed;
  failed.verdict = unknownVerdict("bad key");
  const JsonReader unknown(JsonReader::parseObject(formatJson(failed)), "");
  CHECK(unknown.integer("exitCode") == 3);
  CHECK(unknown.isNull("report"));
}
