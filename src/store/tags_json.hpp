#pragma once
// The `tags` column: a JSON array of strings. encodeTags writes it directly (no Poco::JSON tree)
// with the same text Poco writes; decodeTags reads the plain case — strings without escapes, which
// is every tag we write for ordinary text — in one pass and hands anything else (escapes, odd
// spacing, hand edits) to Poco's parser, so both stay exact. Pure functions.

#include <string>
#include <string_view>
#include <vector>

namespace greenfleet::store {

// Appends `text` as a JSON string, byte for byte as Poco::JSON's Stringifier writes it
// (JSON_WRAP_STRINGS): ASCII escaped here, text with other bytes handed to Poco itself.
void appendJsonString(std::string& out, std::string_view text);
std::string encodeTags(const std::vector<std::string>& tags);
// Replaces `out` (capacity reused). Throws Poco::Exception when the text is not an array of
// strings.
void decodeTagsInto(std::string_view json, std::vector<std::string>& out);
std::vector<std::string> decodeTags(std::string_view json);

}  // namespace greenfleet::store
