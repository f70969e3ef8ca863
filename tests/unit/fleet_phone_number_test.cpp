#include <doctest/doctest.h>

#include "fleet/phone_number.hpp"

using greenfleet::fleet::validatePhoneNumber;

TEST_CASE("a phone number for pairing is 10 to 15 digits with the country code, nothing else") {
  CHECK_FALSE(validatePhoneNumber("441234567890").has_value());
  CHECK_FALSE(validatePhoneNumber("1234567890").has_value());
  CHECK_FALSE(validatePhoneNumber("123456789012345").has_value());
  SUBCASE("no + or 00 prefix, no leading 0") {
    CHECK(validatePhoneNumber("+441234567890")->find("'+'") != std::string::npos);
    CHECK(validatePhoneNumber("00441234567890")->find("'00'") != std::string::npos);
    CHECK(validatePhoneNumber("0441234567").has_value());
  }
  SUBCASE("digits only") {
    CHECK(validatePhoneNumber("44 1234 567890").has_value());
    CHECK(validatePhoneNumber("44-1234-567890").has_value());
    CHECK(validatePhoneNumber("-441234567890").has_value());
    CHECK(validatePhoneNumber("").has_value());
  }
  SUBCASE("length") {
    CHECK(validatePhoneNumber("123456789")->find("10 to 15") != std::string::npos);
    CHECK(validatePhoneNumber("1234567890123456").has_value());
  }
}
