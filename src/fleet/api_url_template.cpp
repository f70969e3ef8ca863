#include "fleet/api_url_template.hpp"

namespace greenfleet::fleet {

std::string expandApiUrlTemplate(std::string_view url_template, std::int64_t id) {
  const std::string digits = std::to_string(id < 0 ? -id : id).substr(0, 4);
  std::string out(url_template);
  for (auto pos = out.find(kFirst4Placeholder); pos != std::string::npos;
       pos = out.find(kFirst4Placeholder, pos + digits.size())) {
    out.replace(pos, kFirst4Placeholder.size(), digits);
  }
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::optional<std::string> validateApiUrlTemplate(std::string_view url_template) {
  const std::string sample = expandApiUrlTemplate(url_template, kApiUrlTemplateSampleId);
  if (sample.find_first_of("{}") != std::string::npos) {
    return "may use only the {first4} placeholder";
  }
  return std::nullopt;
}

}  // namespace greenfleet::fleet
