#include "store/tags_json.hpp"

#include <algorithm>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <fmt/format.h>

namespace greenfleet::store {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The one-pass reader; false when the text needs the full parser.
bool decodePlain(std::string_view json, std::vector<std::string>& out) {
  std::size_t k = 0;
  const auto skip = [&] {
    while (k < json.size() && isSpace(json[k])) ++k;
  };
  skip();
  if (k == json.size() || json[k] != '[') return false;
  ++k;
  skip();
  std::size_t count = 0;
  if (k < json.size() && json[k] == ']') {
    ++k;
  } else {
    while (true) {
      if (k == json.size() || json[k] != '"') return false;
      const std::size_t start = ++k;
      while (k < json.size() && json[k] != '"') {
        const auto c = static_cast<unsigned char>(json[k]);
        if (c == '\\' || c < 0x20) return false;
        ++k;
      }
      if (k == json.size()) return false;
      if (count < out.size()) {
        out[count].assign(json.data() + start, k - start);
      } else {
        out.emplace_back(json.data() + start, k - start);
      }
      ++count;
      ++k;
      skip();
      if (k == json.size()) return false;
      if (json[k] == ']') {
        ++k;
        break;
      }
      if (json[k] != ',') return false;
      ++k;
      skip();
    }
  }
  skip();
  if (k != json.size()) return false;
  out.resize(count);
  return true;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  const bool ascii = std::all_of(text.begin(), text.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (!ascii) {
    std::ostringstream poco;
    Poco::JSON::Stringifier::formatString(std::string(text), poco, Poco::JSON_WRAP_STRINGS);
    out += poco.str();
    return;
  }
  out += '"';
  for (const char ch : text) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(ch));
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string encodeTags(const std::vector<std::string>& tags) {
  std::string out = "[";
  for (std::size_t t = 0; t < tags.size(); ++t) {
    if (t > 0) out += ',';
    appendJsonString(out, tags[t]);
  }
  out += ']';
  return out;
}

void decodeTagsInto(std::string_view json, std::vector<std::string>& out) {
  if (decodePlain(json, out)) return;
  out.clear();
  Poco::JSON::Parser parser;
  const auto arr = parser.parse(std::string(json)).extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < arr->size(); ++i) out.push_back(arr->getElement<std::string>(i));
}

std::vector<std::string> decodeTags(std::string_view json) {
  std::vector<std::string> out;
  decodeTagsInto(json, out);
  return out;
}

}  // namespace greenfleet::store
