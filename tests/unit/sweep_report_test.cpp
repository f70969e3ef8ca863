#include <doctest/doctest.h>

#include <chrono>

#include "base/time_format.hpp"
#include "sweep/json_reader.hpp"
#include "sweep/malformed_answer.hpp"
#include "sweep/report.hpp"
#include "sweep/report_json.hpp"
#include "sweep/sweep_run.hpp"

using namespace greenfleet;
using std::chrono::minutes;

namespace {

// Whole milliseconds, the precision stored and serialised times have.
const base::WallTime kNow = base::fromUnixMillis(base::toUnixMillis(base::ManualClock().wallNow()));

store::InstanceRow row(std::int64_t id, std::optional<std::string> state, std::string attention,
                       std::optional<base::WallTime> since = std::nullopt) {
  store::InstanceRow r;
  r.instance.id = id;
  r.instance.name = "shop " + std::to_string(id);
  r.instance.tags = {"eu"};
  r.status.state = std::move(state);
  r.status.attention = std::move(attention);
  if (since) r.status.state_since_ms = base::toUnixMillis(*since);
  return r;
}

std::vector<std::int64_t> ids(const sweep::Report& report) {
  std::vector<std::int64_t> out;
  for (const auto& e : report.attention) out.push_back(e.id);
  return out;
}

}  // namespace

TEST_CASE("buildReport counts instances by state and by attention") {
  const std::vector<store::InstanceRow> rows = {
      row(1, "authorized", "none"),
      row(2, "authorized", "none"),
      row(3, "notAuthorized", "needs_scan", kNow - minutes(5)),
      row(4, std::nullopt, "none"),
      row(5, "blocked", "blocked", kNow - minutes(1)),
  };
  const auto report = sweep::buildReport(rows, kNow);
  CHECK(report.total == 5);
  CHECK(report.counts_by_state.at("authorized") == 2);
  CHECK(report.counts_by_state.at("notAuthorized") == 1);
  CHECK(report.counts_by_state.at("blocked") == 1);
  CHECK(report.counts_by_state.at("unknown") == 1);
  CHECK(report.counts_by_state.size() == 4);
  CHECK(report.counts_by_attention.size() == 9);
  CHECK(report.attentionCount("none") == 3);
  CHECK(report.attentionCount("needs_scan") == 1);
  CHECK(report.attentionCount("blocked") == 1);
  CHECK(report.attentionCount("stale") == 0);
  REQUIRE(report.unprobed.size() == 1);
  CHECK(report.unprobed[0].id == 4);
  CHECK(report.unprobed[0].reason == sweep::kNotProbedYet);
}

TEST_CASE("buildReport lists problems most severe first, then longest waiting first") {
  const std::vector<store::InstanceRow> rows = {
      row(10, "notAuthorized", "needs_scan", kNow - minutes(2)),
      row(11, "notAuthorized", "needs_scan", kNow - minutes(30)),
      row(12, "authorized", "stale", kNow - minutes(90)),
      row(13, "blocked", "blocked", kNow - minutes(1)),
      row(14, std::nullopt, "credentials_rejected"),
      row(15, "notAuthorized", "needs_scan"),  // since unknown: after the known waits
      row(16, "yellowCard", "suspended", kNow - minutes(3)),
      row(17, "starting", "stuck_starting", kNow - minutes(20)),
      row(18, "authorized", "unreachable", kNow - minutes(4)),
      row(19, "authorized", "none", kNow - minutes(500)),
  };
  const auto report = sweep::buildReport(rows, kNow);
  CHECK(ids(report) == std::vector<std::int64_t>{14, 13, 11, 10, 15, 16, 17, 18, 12});
  CHECK(report.attention[0].state == "unknown");
  CHECK(report.attention[2].since == kNow - minutes(30));
  CHECK(report.attention[2].tags == std::vector<std::string>{"eu"});
}

TEST_CASE("buildReport keeps an unknown attention name and sorts it after the known ones") {
  const auto report = sweep::buildReport(
      {row(1, "weird", "future_kind", kNow - minutes(9)), row(2, "authorized", "stale")}, kNow);
  CHECK(ids(report) == std::vector<std::int64_t>{2, 1});
  CHECK(report.attentionCount("future_kind") == 1);
}

TEST_CASE("buildReport does not alarm on disabled instances but still counts them") {
  auto disabled = row(1, "blocked", "blocked", kNow - minutes(9));
  disabled.instance.enabled = false;
  const auto report = sweep::buildReport({disabled}, kNow);
  CHECK(report.total == 1);
  CHECK(report.counts_by_state.at("blocked") == 1);
  CHECK(report.attentionCount("blocked") == 0);
  CHECK(report.attentionCount("none") == 1);
  CHECK(report.attention.empty());
}

TEST_CASE("buildReport clamps a since in the future to now") {
  const auto report =
      sweep::buildReport({row(1, "notAuthorized", "needs_scan", kNow + minutes(10))}, kNow);
  REQUIRE(report.attention.size() == 1);
  CHECK(report.attention[0].since == kNow);
}

TEST_CASE("a Report survives toJson and reportFromJson unchanged") {
  auto problem = row(1101000001, "notAuthorized", "needs_scan", kNow - minutes(7));
  problem.status.last_error = "qr \"timeout\"\nretrying";
  problem.instance.tags = {"eu", "sales"};
  auto report = sweep::buildReport(
      {problem, row(2, std::nullopt, "none"), row(3, "blocked", "blocked")}, kNow);
  report.unprobed.push_back({7, "x", "timeout"});

  const auto text = sweep::toJsonString(report);
  const auto back = sweep::reportFromJson(sweep::JsonReader::parseObject(text));
  CHECK(back.total == report.total);
  CHECK(back.counts_by_state == report.counts_by_state);
  CHECK(back.counts_by_attention == report.counts_by_attention);
  REQUIRE(back.attention.size() == report.attention.size());
  for (std::size_t i = 0; i < back.attention.size(); ++i) {
    CHECK(back.attention[i].id == report.attention[i].id);
    CHECK(back.attention[i].name == report.attention[i].name);
    CHECK(back.attention[i].tags == report.attention[i].tags);
    CHECK(back.attention[i].state == report.attention[i].state);
    CHECK(back.attention[i].attention == report.attention[i].attention);
    CHECK(back.attention[i].since == report.attention[i].since);
    CHECK(back.attention[i].last_error == report.attention[i].last_error);
  }
  REQUIRE(back.unprobed.size() == 2);
  CHECK(back.unprobed[1].reason == "timeout");
  CHECK(text.find(R"("countsByAttention":{"credentials_rejected":0,"blocked":1,)"
                  R"("passkey_required":0,"needs_scan":1)") != std::string::npos);
  CHECK(text.find(R"("since":null)") != std::string::npos);
}

TEST_CASE("reportFromJson names the field of a malformed report") {
  const auto fieldOf = [](const std::string& json) {
    try {
      sweep::reportFromJson(sweep::JsonReader::parseObject(json));
    } catch (const sweep::MalformedAnswer& e) {
      return e.field();
    }
    return std::string("(accepted)");
  };
  const std::string counts = R"("countsByState":{},"countsByAttention":{"none":1})";
  CHECK(fieldOf(R"({"total":"1",)" + counts + R"(,"attention":[],"unprobed":[]})") ==
        "report.total");
  CHECK(fieldOf(R"({"total":1,)" + counts + R"(,"unprobed":[]})") == "report.attention");
  CHECK(fieldOf(R"({"total":1,)" + counts +
                R"(,"attention":[{"id":1,"name":"a","tags":[],"state":"s","attention":"blocked",)"
                R"("since":"yesterday","lastError":null}],"unprobed":[]})") ==
        "report.attention[0].since");
  CHECK(fieldOf(R"({"total":1,"countsByState":{"x":-1},"countsByAttention":{},"attention":[],)"
                R"("unprobed":[]})") == "report.countsByState.x");
  CHECK(fieldOf(R"({"total":1,)" + counts + R"(,"attention":[],"unprobed":[]})") == "(accepted)");
}

TEST_CASE(
    "a SweepRun survives toJson and sweepRunFromJson, and done without a report is rejected") {
  sweep::SweepRun run;
  run.id = 7;
  run.status = sweep::SweepStatus::done;
  run.created_at = kNow - minutes(1);
  run.finished_at = kNow;
  run.filter.tag = "eu";
  run.filter.ids = std::vector<std::int64_t>{1, 2};
  run.done = run.total = 3;
  run.eta_seconds = 0.0;
  run.report = sweep::buildReport({row(1, "notAuthorized", "needs_scan", kNow)}, kNow);
  std::ostringstream text;
  sweep::toJson(run)->stringify(text);
  const auto back =
      sweep::sweepRunFromJson(sweep::JsonReader(sweep::JsonReader::parseObject(text.str()), ""));
  CHECK(back.id == 7);
  CHECK(back.status == sweep::SweepStatus::done);
  CHECK(back.created_at == run.created_at);
  CHECK(back.finished_at == run.finished_at);
  CHECK(back.filter.tag == "eu");
  CHECK(back.filter.ids == run.filter.ids);
  CHECK(back.done == 3);
  REQUIRE(back.report.has_value());
  CHECK(back.report->attentionCount("needs_scan") == 1);

  run.report.reset();
  std::ostringstream broken;
  sweep::toJson(run)->stringify(broken);
  CHECK_THROWS_AS(
      sweep::sweepRunFromJson(sweep::JsonReader(sweep::JsonReader::parseObject(broken.str()), "")),
      sweep::MalformedAnswer);
}
