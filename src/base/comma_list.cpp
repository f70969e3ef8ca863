#include "base/comma_list.hpp"

namespace greenfleet::base {

std::vector<std::string_view> splitCommaList(std::string_view text, std::string_view blanks) {
  std::vector<std::string_view> items;
  while (true) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    const auto first = item.find_first_not_of(blanks);
    if (first != std::string_view::npos) {
      item = item.substr(first, item.find_last_not_of(blanks) - first + 1);
      items.push_back(item);
    }
    if (comma == std::string_view::npos) return items;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace greenfleet::base
