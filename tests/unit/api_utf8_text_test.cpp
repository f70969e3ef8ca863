#include <doctest/doctest.h>

#include "api/utf8_text.hpp"

using greenfleet::api::isValidUtf8;
using greenfleet::api::toValidUtf8;

TEST_CASE("isValidUtf8 accepts well-formed text and refuses stray, overlong and surrogate bytes") {
  CHECK(isValidUtf8(""));
  CHECK(isValidUtf8("plain ascii"));
  CHECK(isValidUtf8("b\xc3\xa4r \xe2\x82\xac \xf0\x9f\x98\x80"));  // ä € 😀
  CHECK(isValidUtf8(std::string("nul\0inside", 10)));
  CHECK_FALSE(isValidUtf8("\xff"));
  CHECK_FALSE(isValidUtf8("\x80"));              // a continuation byte alone
  CHECK_FALSE(isValidUtf8("\xc3"));              // cut short
  CHECK_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(isValidUtf8("\xe0\x80\xaf"));      // overlong, three bytes
  CHECK_FALSE(isValidUtf8("\xed\xa0\x80"));      // a UTF-16 surrogate
  CHECK_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
}

TEST_CASE("toValidUtf8 replaces each bad byte with U+FFFD and keeps the rest") {
  CHECK(toValidUtf8("ok \xc3\xa4") == "ok \xc3\xa4");
  CHECK(toValidUtf8("/x/\xff\x01") == "/x/\xef\xbf\xbd\x01");
  CHECK(toValidUtf8("\xc3") == "\xef\xbf\xbd");
  CHECK(isValidUtf8(toValidUtf8("\xed\xa0\x80\xf4\x90\x80\x80z")));
}
