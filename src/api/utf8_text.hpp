#pragma once
// UTF-8 checks for text that crosses the API: JSON must be valid UTF-8, and Poco's parser and
// serializer pass stray bytes through. Request bodies that are not UTF-8 are refused; outside
// text echoed in an answer (a path in an error message) is repaired instead.

#include <string>
#include <string_view>

namespace greenfleet::api {

// Well-formed UTF-8: no stray continuation bytes, overlong forms, surrogates or code points
// beyond U+10FFFF.
bool isValidUtf8(std::string_view text);
// `text` with every byte that is not part of a well-formed sequence replaced by U+FFFD.
std::string toValidUtf8(std::string_view text);

}  // namespace greenfleet::api
