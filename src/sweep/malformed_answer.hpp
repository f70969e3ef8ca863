#pragma once
// MalformedAnswer: a server answer (or stored report) that is not the JSON shape the sweep
// contract promises; `field` names the offending path ("report.attention[3].id"). The sweep CLI
// turns it into UNKNOWN. The server never throws it: it only writes reports.

#include <stdexcept>
#include <string>

namespace greenfleet::sweep {

class MalformedAnswer : public std::runtime_error {
 public:
  MalformedAnswer(const std::string& field, const std::string& problem)
      : std::runtime_error(field + ": " + problem), field_(field) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

}  // namespace greenfleet::sweep
