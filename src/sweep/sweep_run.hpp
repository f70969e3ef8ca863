#pragma once
// SweepRun: one server-side sweep as GET/POST /api/v1/sweeps answers it —
//   {"id","status":"running"|"done"|"failed","createdAt","finishedAt"|null,"filter":{…},
//    "done","total","etaSeconds"|null,"report":null|Report}
// and SweepFilter, the body of POST /api/v1/sweeps ({"tag","state","attention","ids"}, all
// optional). toJson for the server, *FromJson (strict, MalformedAnswer) for the CLI. Value types.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "base/clock.hpp"
#include "sweep/json_reader.hpp"
#include "sweep/report.hpp"

namespace greenfleet::sweep {

struct SweepFilter {
  std::optional<std::string> tag;
  std::optional<std::string> state;
  std::optional<std::string> attention;
  std::optional<std::vector<std::int64_t>> ids;
};

enum class SweepStatus { running, done, failed };
std::string_view sweepStatusName(SweepStatus status);
std::optional<SweepStatus> parseSweepStatus(std::string_view name);

struct SweepRun {
  std::int64_t id = 0;
  SweepStatus status = SweepStatus::running;
  base::WallTime created_at{};
  std::optional<base::WallTime> finished_at;
  SweepFilter filter;
  std::int64_t done = 0;
  std::int64_t total = 0;
  std::optional<double> eta_seconds;
  std::optional<Report> report;  // present once status is done
};

Poco::JSON::Object::Ptr toJson(const SweepFilter& filter);  // absent fields are left out
SweepFilter sweepFilterFromJson(const JsonReader& object);
Poco::JSON::Object::Ptr toJson(const SweepRun& run);
SweepRun sweepRunFromJson(const JsonReader& object);

}  // namespace greenfleet::sweep
