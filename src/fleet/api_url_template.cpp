#include "fleet/api_url_template.hpp"

#include "fleet/registered_instance.hpp"

namespace greenfleet::fleet {

std::string expandApiUrlTemplate(std::string_view url_template, std::int64_t id) {
  const std::string digits = std::to_string(id < 0 ? -id : id).substr(0, 4);
  std::string out(url_template);
  for (auto pos = out.find(kFirst4Placeholder); pos != std::string::npos;
       pos = out.find(kFirst4Placeholder, pos + digits.size())) {
    out.replace(pos, kFirst4Placeholder.size(), digits);
  }
  return normalizeApiUrl(out);
}

std::optional<std::string> validateApiUrlTemplate(std::string_view url_template) {
  // A sample id stands for every id: the placeholder only ever becomes 1-4 digits.
  const std::string sample = expandApiUrlTemplate(url_template, 1101000001);
  if (sample.find_first_of("{}") != std::string::npos) {
    return "may use only the {first4} placeholder";
  }
  return validateApiUrl(sample);
}

}  // namespace greenfleet::fleet
