#pragma once
// The one table of how long a string from outside may be: request bodies, query parameters,
// webhook fields and upstream answers are all checked against these (docs/API.md, "Limits").
// Lengths are in bytes. A value over its limit is refused with 422 naming the field, except in
// upstream answers, where it is not a value Green API sends and is treated as malformed/absent.

#include <cstddef>

namespace greenfleet::fleet {

inline constexpr std::size_t kMaxNameLength = 200;     // instance name; `q=` substring
inline constexpr std::size_t kMaxTags = 32;            // tags per instance
inline constexpr std::size_t kMaxTagLength = 64;       // one tag; `tag=` filters
inline constexpr std::size_t kMaxTokenLength = 200;    // apiTokenInstance
inline constexpr std::size_t kMaxApiUrlLength = 2048;  // apiUrl
inline constexpr std::size_t kMaxStateLength = 64;     // stateInstance; `state=` filters
inline constexpr std::size_t kMaxPhoneLength = 32;     // phone of an upstream answer
inline constexpr std::size_t kMaxWidLength = 64;       // webhook instanceData.wid ("<phone>@c.us")
inline constexpr std::size_t kMaxTypeLength = 64;      // webhook typeWebhook, event/attention names
inline constexpr std::size_t kMaxCursorLength = 32;    // `cursor=` ("i" and a 64-bit id)

}  // namespace greenfleet::fleet
