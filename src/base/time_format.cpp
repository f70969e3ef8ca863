#include "base/time_format.hpp"

#include <chrono>
#include <cstdio>
#include <string>

namespace greenfleet::base {

namespace {
void putDigits(char* at, long long value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}
}  // namespace

std::string formatRfc3339(WallTime t) {
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  // Written in place: a 10,000-item batch answer formats two of these per item. A WallTime (ns
  // since 1970 in 64 bits) lies within the years 1677..2262, always four digits.
  std::string out = "0000-00-00T00:00:00.000Z";
  putDigits(&out[0], int(ymd.year()), 4);
  putDigits(&out[5], unsigned(ymd.month()), 2);
  putDigits(&out[8], unsigned(ymd.day()), 2);
  putDigits(&out[11], hms.hours().count(), 2);
  putDigits(&out[14], hms.minutes().count(), 2);
  putDigits(&out[17], hms.seconds().count(), 2);
  putDigits(&out[20], hms.subseconds().count(), 3);
  return out;
}

std::optional<WallTime> parseRfc3339(std::string_view text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  const std::string str(text);
  int consumed = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
          6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) ms = ms * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  if (rest != "Z") return std::nullopt;
  const year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + milliseconds(ms);
}

std::int64_t toUnixMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

WallTime fromUnixMillis(std::int64_t ms) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms)));
}

}  // namespace greenfleet::base
