#include <doctest/doctest.h>

#include "fleet/attention.hpp"
#include "fleet/stored_attention.hpp"

using namespace greenfleet::fleet;

TEST_CASE("stored attention names are every derived attention and expired") {
  for (std::size_t a = 0; a < kAttentionCount; ++a) {
    CHECK(isStoredAttentionName(attentionName(static_cast<Attention>(a))));
  }
  CHECK(isStoredAttentionName("expired"));
  CHECK_FALSE(isStoredAttentionName("Blocked"));
  CHECK_FALSE(isStoredAttentionName(""));
  const std::string names = storedAttentionNames();
  CHECK(names.rfind(
            "none, credentials_rejected, blocked, passkey_required, needs_scan, suspended, ", 0) ==
        0);
  CHECK(names.size() > 8);
  CHECK(names.substr(names.size() - 9) == ", expired");
}
