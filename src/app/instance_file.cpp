#include "app/instance_file.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/instance_json.hpp"
#include "api/json_fields.hpp"
#include "store/tags_json.hpp"

namespace greenfleet::app {

namespace {

const std::vector<std::string> kCsvColumns = {"id", "token", "apiUrl", "name", "tags"};

struct Chunk {
  std::size_t line = 0;
  std::string_view text;
};

// The top-level elements of a JSON array with the line each starts on; the elements themselves
// are parsed later. Throws std::invalid_argument (with a line) when the text is not an array.
std::vector<Chunk> splitJsonArray(std::string_view text) {
  std::vector<Chunk> out;
  std::size_t line = 1;
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
      if (text[i] == '\n') ++line;
      ++i;
    }
  };
  skip_space();
  if (i >= text.size() || text[i] != '[') {
    throw std::invalid_argument(fmt::format("line {}: a JSON file must hold one array", line));
  }
  ++i;
  int depth = 0;
  bool in_string = false;
  std::size_t start = std::string_view::npos, start_line = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (start == std::string_view::npos && !std::isspace(static_cast<unsigned char>(c)) &&
        c != ',' && c != ']') {
      start = i;
      start_line = line;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || (c == ']' && depth > 0)) {
      --depth;
    } else if ((c == ',' || c == ']') && depth == 0) {
      if (start != std::string_view::npos)
        out.push_back({start_line, text.substr(start, i - start)});
      start = std::string_view::npos;
      if (c == ']') return out;
    }
  }
  throw std::invalid_argument(fmt::format("line {}: the JSON array is not closed", line));
}

std::vector<Chunk> splitLines(std::string_view text) {
  std::vector<Chunk> out;
  std::size_t line = 1, start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto row = text.substr(start, end - start);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (row.find_first_not_of(" \t") != std::string_view::npos) out.push_back({line, row});
    ++line;
    start = end + 1;
  }
  return out;
}

// One CSV record (RFC 4180 quoting; a quoted field may span lines) from `pos`; advances `pos`
// and `line`.
std::vector<std::string> csvRecord(std::string_view text, std::size_t& pos, std::size_t& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (quoted) {
      if (c == '"' && pos < text.size() && text[pos] == '"') {
        fields.back() += '"';
        ++pos;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      ++line;
      break;
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted) throw std::invalid_argument("a quoted field is not closed");
  return fields;
}

// A CSV row as the JSON object the API would receive.
Poco::JSON::Object::Ptr csvObject(const std::vector<std::string>& header,
                                  const std::vector<std::string>& fields) {
  if (fields.size() != header.size()) {
    throw std::invalid_argument(
        fmt::format("{} fields where the header names {}", fields.size(), header.size()));
  }
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  for (std::size_t k = 0; k < header.size(); ++k) {
    const auto& column = header[k];
    const auto& value = fields[k];
    if (column == "id") {
      std::int64_t id = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
      if (ec != std::errc() || ptr != value.data() + value.size()) {
        throw std::invalid_argument(fmt::format("id '{}' is not an integer", value));
      }
      o->set("id", static_cast<Poco::Int64>(id));
    } else if (column == "tags") {
      Poco::JSON::Array::Ptr tags = new Poco::JSON::Array;
      for (std::size_t start = 0; start < value.size();) {
        auto end = value.find(';', start);
        if (end == std::string::npos) end = value.size();
        tags->add(value.substr(start, end - start));
        start = end + 1;
      }
      o->set("tags", tags);
    } else if (!(column == "apiUrl" && value.empty())) {  // an empty apiUrl: the default
      o->set(column, value);
    }
  }
  return o;
}

std::vector<std::string> csvHeader(std::vector<std::string> names) {
  for (auto& n : names) {
    n.erase(0, n.find_first_not_of(" \t"));
    n.erase(n.find_last_not_of(" \t") + 1);
    if (std::find(kCsvColumns.begin(), kCsvColumns.end(), n) == kCsvColumns.end()) {
      throw std::invalid_argument(
          fmt::format("header: unknown column '{}' (known: id,token,apiUrl,name,tags)", n));
    }
  }
  for (const char* required : {"id", "token"}) {
    if (std::find(names.begin(), names.end(), required) == names.end()) {
      throw std::invalid_argument(fmt::format("header: the column '{}' is required", required));
    }
  }
  return names;
}

void csvField(std::string& out, const std::string& value) {
  if (value.find_first_of(",\"\n\r") == std::string::npos) {
    out += value;
    return;
  }
  out += '"';
  for (const char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string jsonObject(const fleet::RegisteredInstance& in, bool with_token) {
  std::string out = "{\"id\":" + std::to_string(in.id);
  if (with_token) {
    out += ",\"token\":";
    store::appendJsonString(out, in.token);
  }
  out += ",\"apiUrl\":";
  store::appendJsonString(out, in.api_url);
  out += ",\"name\":";
  store::appendJsonString(out, in.name);
  out += ",\"tags\":" + store::encodeTags(in.tags) + "}";
  return out;
}

}  // namespace

std::optional<InstanceFileFormat> instanceFileFormat(std::string_view name) {
  if (name == "json") return InstanceFileFormat::json;
  if (name == "ndjson") return InstanceFileFormat::ndjson;
  if (name == "csv") return InstanceFileFormat::csv;
  return std::nullopt;
}

InstanceFileFormat detectInstanceFileFormat(std::string_view file_name, std::string_view text) {
  const auto ends = [&](std::string_view ext) { return file_name.ends_with(ext); };
  if (ends(".json")) return InstanceFileFormat::json;
  if (ends(".ndjson") || ends(".jsonl")) return InstanceFileFormat::ndjson;
  if (ends(".csv")) return InstanceFileFormat::csv;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '[') return InstanceFileFormat::json;
  if (first != std::string_view::npos && text[first] == '{') return InstanceFileFormat::ndjson;
  return InstanceFileFormat::csv;
}

ParsedInstanceFile parseInstanceFile(std::string_view text, InstanceFileFormat format,
                                     const std::string& default_api_url,
                                     const greenapi::UpstreamHostPolicy& allowed_hosts) {
  ParsedInstanceFile out;
  std::unordered_map<std::int64_t, std::size_t> first_line;
  const auto take = [&](std::size_t line, const Poco::Dynamic::Var& json) {
    try {
      auto in = api::instanceFromJson(json, "", default_api_url, allowed_hosts);
      const auto [it, fresh] = first_line.emplace(in.id, line);
      if (!fresh) {
        out.errors.push_back(
            {line, fmt::format("instance {} is already on line {}", in.id, it->second)});
        return;
      }
      out.rows.push_back({line, std::move(in)});
    } catch (const api::ApiError& e) {
      out.errors.push_back({line, e.what()});
    }
  };
  try {
    if (format == InstanceFileFormat::csv) {
      std::size_t pos = 0, line = 1;
      const auto header = csvHeader(csvRecord(text, pos, line));
      while (pos < text.size()) {
        const std::size_t row_line = line;
        try {
          const auto fields = csvRecord(text, pos, line);
          if (fields.size() == 1 && fields[0].find_first_not_of(" \t") == std::string::npos)
            continue;
          take(row_line, csvObject(header, fields));
        } catch (const std::invalid_argument& e) {
          out.errors.push_back({row_line, e.what()});
        }
      }
      return out;
    }
    const auto chunks =
        format == InstanceFileFormat::json ? splitJsonArray(text) : splitLines(text);
    for (const auto& chunk : chunks) {
      try {
        take(chunk.line, api::parseJsonBody(std::string(chunk.text)));
      } catch (const api::ApiError& e) {
        out.errors.push_back({chunk.line, e.what()});
      }
    }
  } catch (const std::invalid_argument& e) {
    out.errors.push_back({0, e.what()});
  }
  if (out.rows.empty() && out.errors.empty())
    out.errors.push_back({0, "the file holds no instances"});
  return out;
}

std::string formatInstanceFile(const std::vector<fleet::RegisteredInstance>& instances,
                               InstanceFileFormat format, bool with_tokens) {
  std::string out;
  out.reserve(instances.size() * 160);
  if (format == InstanceFileFormat::csv) {
    out += with_tokens ? "id,token,apiUrl,name,tags\n" : "id,apiUrl,name,tags\n";
    for (const auto& in : instances) {
      out += std::to_string(in.id);
      out += ',';
      if (with_tokens) {
        out += in.token;
        out += ',';
      }
      csvField(out, in.api_url);
      out += ',';
      csvField(out, in.name);
      out += ',';
      std::string tags;
      for (std::size_t k = 0; k < in.tags.size(); ++k) tags += (k ? ";" : "") + in.tags[k];
      csvField(out, tags);
      out += '\n';
    }
    return out;
  }
  const bool array = format == InstanceFileFormat::json;
  if (array) out += "[\n";
  for (std::size_t k = 0; k < instances.size(); ++k) {
    out += jsonObject(instances[k], with_tokens);
    out += array && k + 1 < instances.size() ? ",\n" : "\n";
  }
  if (array) out += "]\n";
  return out;
}

}  // namespace greenfleet::app
