#pragma once
// Instance files for `greenfleet instances import|export`: a JSON array, NDJSON (one object per
// line) or CSV with a header naming columns among id,token,apiUrl,name,tags (tags separated by
// ';'). Every row is checked exactly as POST /api/v1/instances checks it (api::instanceFromJson),
// and every problem is reported with the line it starts on; nothing is written by this file.
// Pure functions; thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fleet/registered_instance.hpp"
#include "greenapi/upstream_host_policy.hpp"

namespace greenfleet::app {

enum class InstanceFileFormat { json, ndjson, csv };

// "json", "ndjson", "csv"; nullopt otherwise.
std::optional<InstanceFileFormat> instanceFileFormat(std::string_view name);
// From the file name's extension (.json, .ndjson/.jsonl, .csv), else from the first character
// of the text: '[' JSON, '{' NDJSON, anything else CSV.
InstanceFileFormat detectInstanceFileFormat(std::string_view file_name, std::string_view text);

struct InstanceFileRow {
  std::size_t line = 0;  // 1-based line the row starts on
  fleet::RegisteredInstance instance;
};

struct InstanceFileError {
  std::size_t line = 0;
  std::string message;  // never contains a token
};

struct ParsedInstanceFile {
  std::vector<InstanceFileRow> rows;  // the valid rows, in file order
  std::vector<InstanceFileError> errors;
};

// Rows and errors of a whole file (an id repeated in the file is an error on its second line);
// an apiUrl outside `allowed_hosts` is an error on its row.
ParsedInstanceFile parseInstanceFile(std::string_view text, InstanceFileFormat format,
                                     const std::string& default_api_url,
                                     const greenapi::UpstreamHostPolicy& allowed_hosts);

// One instance as written by export: tokens only when `with_tokens`.
std::string formatInstanceFile(const std::vector<fleet::RegisteredInstance>& instances,
                               InstanceFileFormat format, bool with_tokens);

}  // namespace greenfleet::app
