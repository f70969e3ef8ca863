#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include <Poco/Data/Statement.h>
#include <openssl/evp.h>

#include "base/clock.hpp"
#include "store/database.hpp"
#include "store/instance_repository.hpp"
#include "store/migrator.hpp"
#include "store/stored_tokens.hpp"
#include "store/token_cipher.hpp"
#include "support/migrated_store.hpp"

using namespace greenfleet;
using namespace greenfleet::store;
using namespace Poco::Data::Keywords;

namespace {

const std::string kToken = "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";

// Flips one bit of the decoded sealed bytes at `at` and encodes it again.
std::string flipBit(const std::string& sealed, std::size_t at) {
  std::string bytes(sealed.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(bytes.data());
  int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(sealed.data()),
                          static_cast<int>(sealed.size()));
  REQUIRE(n > 0);
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  std::string encoded(sealed.size() + 4, '\0');
  n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), out,
                      static_cast<int>(sealed.size() / 4 * 3 - (sealed.back() == '=') -
                                       (sealed[sealed.size() - 2] == '=')));
  encoded.resize(static_cast<std::size_t>(n));
  return encoded;
}

}  // namespace

TEST_CASE("TokenCipher: a sealed token opens with the same key and instance id") {
  const TokenCipher cipher(TokenCipher::generateKey());
  const auto sealed = cipher.seal(kToken, 1101000001);
  CHECK(sealed.find(kToken) == std::string::npos);
  CHECK(cipher.open(sealed, 1101000001) == kToken);
  CHECK(cipher.openOrThrow(sealed, 1101000001) == kToken);
  CHECK(cipher.open(cipher.seal("", 7), 7) == "");
  // A fresh nonce each time: the same token never seals to the same text.
  CHECK(cipher.seal(kToken, 1101000001) != sealed);
}

TEST_CASE("TokenCipher: another key does not open a sealed token") {
  const TokenCipher cipher(TokenCipher::generateKey());
  const TokenCipher other(TokenCipher::generateKey());
  const auto sealed = cipher.seal(kToken, 5);
  CHECK_FALSE(other.open(sealed, 5).has_value());
  CHECK_THROWS_AS(other.openOrThrow(sealed, 5), SecretsError);
  CHECK(cipher.keyId() != other.keyId());
}

TEST_CASE("TokenCipher: a tampered nonce, ciphertext or tag does not open") {
  const TokenCipher cipher(TokenCipher::generateKey());
  const auto sealed = cipher.seal(kToken, 5);
  // nonce (12 bytes), ciphertext (50), tag (16)
  for (const std::size_t at : {0UL, 11UL, 12UL, 40UL, 61UL, 62UL, 77UL}) {
    CAPTURE(at);
    const auto tampered = flipBit(sealed, at);
    REQUIRE(tampered != sealed);
    CHECK_FALSE(cipher.open(tampered, 5).has_value());
  }
  CHECK_FALSE(cipher.open(sealed.substr(0, sealed.size() - 4), 5).has_value());
  CHECK_FALSE(cipher.open("", 5).has_value());
  CHECK_FALSE(cipher.open("not base64!", 5).has_value());
  CHECK_FALSE(cipher.open(kToken, 5).has_value());  // a clear token is not a sealed one
}

TEST_CASE("TokenCipher: openInPlace turns the sealed text into the token in the same string") {
  const TokenCipher cipher(TokenCipher::generateKey());
  const auto sealed = cipher.seal(kToken, 1101000001);
  std::string token = sealed;
  const auto capacity = token.capacity();
  cipher.openInPlace(token, 1101000001);
  CHECK(token == kToken);
  CHECK(token.capacity() == capacity);  // kept for the next row's sealed text
  const auto partner_sealed = cipher.seal(kToken, 9, TokenOwner::partner);
  token = partner_sealed;
  cipher.openInPlace(token, 9, TokenOwner::partner);
  CHECK(token == kToken);

  // Altered or another row's: SecretsError, and the string keeps nothing of what it held.
  token = flipBit(sealed, 40);
  CHECK_THROWS_WITH_AS(cipher.openInPlace(token, 1101000001),
                       doctest::Contains("token of instance 1101000001 does not decrypt"),
                       SecretsError);
  CHECK(token.empty());
  token = sealed;
  CHECK_THROWS_AS(cipher.openInPlace(token, 1101000002), SecretsError);
  token = partner_sealed;  // a partner's, read as an instance's
  CHECK_THROWS_AS(cipher.openInPlace(token, 9), SecretsError);
}

TEST_CASE("TokenCipher: a sealed token moved to another instance does not open (AAD)") {
  const TokenCipher cipher(TokenCipher::generateKey());
  const auto sealed = cipher.seal(kToken, 1101000001);
  CHECK_FALSE(cipher.open(sealed, 1101000002).has_value());
  CHECK_FALSE(cipher.open(sealed, -1101000001).has_value());
}

TEST_CASE("TokenCipher: keys read and print as 64 hex digits; the key id is a stable fingerprint") {
  const auto key = TokenCipher::generateKey();
  const auto text = TokenCipher::formatKey(key);
  CHECK(text.size() == 64);
  CHECK(TokenCipher::parseKey(text) == key);
  CHECK(TokenCipher::parseKey("  " + text + "\n") == key);
  std::string upper = text;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(TokenCipher::parseKey(upper) == key);
  CHECK_FALSE(TokenCipher::parseKey(text.substr(1)).has_value());
  CHECK_FALSE(TokenCipher::parseKey(text + "0").has_value());
  CHECK_FALSE(TokenCipher::parseKey("g" + text.substr(1)).has_value());
  CHECK_FALSE(TokenCipher::parseKey("").has_value());
  CHECK_FALSE(TokenCipher::parseKey(text.substr(0, 32) + " " + text.substr(33)).has_value());

  const TokenCipher a(key), b(key);
  CHECK(a.keyId() == b.keyId());
  CHECK(a.keyId().size() == 8);
  CHECK(a.keyId().find_first_not_of("0123456789abcdef") == std::string::npos);
  // The id of a fixed key never changes (rows on disk record it).
  const TokenCipher zero(*TokenCipher::parseKey(std::string(64, '0')));
  CHECK(zero.keyId() == TokenCipher(*TokenCipher::parseKey(std::string(64, '0'))).keyId());
}

namespace {
struct SealedStoreFixture : testing::MigratedStore {
  InstanceRepository& repo = instances;

  SealedStoreFixture() { addInstances({1, 2, 3}, tokenOf); }
  static std::string tokenOf(std::int64_t id) {
    return kToken.substr(0, 40) + std::to_string(id * 1111111111);
  }
};
}  // namespace

TEST_CASE("InstanceRepository seals tokens on write and opens them on read") {
  SealedStoreFixture f;
  CHECK(f.repo.get(2)->instance.token == SealedStoreFixture::tokenOf(2));
  REQUIRE(f.repo.update(2, InstancePatch{.token = kToken}).has_value());
  CHECK(f.repo.get(2)->instance.token == kToken);
  std::vector<std::string> seen;
  f.repo.forEachRow([&](const InstanceRow& row) { seen.push_back(row.instance.token); });
  CHECK(seen == std::vector<std::string>{SealedStoreFixture::tokenOf(1), kToken,
                                         SealedStoreFixture::tokenOf(3)});
  const auto raw = f.rawFile();
  for (std::int64_t id = 1; id <= 3; ++id)
    CHECK(raw.find(SealedStoreFixture::tokenOf(id)) == std::string::npos);
  CHECK(raw.find(kToken) == std::string::npos);
  CHECK(StoredTokens(f.db).countByKeyId() ==
        std::map<std::string, std::int64_t>{{f.cipher.keyId(), 3}});
}

TEST_CASE(
    "InstanceRepository::forEachSealedRow hands tokens over sealed, for another thread to open") {
  SealedStoreFixture f;
  {
    // A row from before migration 0004: its token in clear, no key id.
    auto session = f.db.acquire();
    *session << "UPDATE instances SET token = 'cleartoken', token_key_id = NULL WHERE id = 3", now;
  }
  std::vector<std::pair<std::string, bool>> seen;
  f.repo.forEachSealedRow(
      [&](const InstanceRow& row, bool sealed) { seen.emplace_back(row.instance.token, sealed); });
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].second);
  CHECK(seen[1].second);
  CHECK(seen[0].first != SealedStoreFixture::tokenOf(1));  // still sealed
  CHECK(seen[2] == std::pair<std::string, bool>{"cleartoken", false});
  fleet::RegisteredInstance opened;
  opened.id = 2;
  opened.token = seen[1].first;
  f.repo.openSealedToken(opened);
  CHECK(opened.token == SealedStoreFixture::tokenOf(2));
  opened.id = 1;  // another row's sealed token: its associated data does not match
  opened.token = seen[1].first;
  CHECK_THROWS_AS(f.repo.openSealedToken(opened), SecretsError);

  // Another key's rows are refused while reading, before anything is handed over.
  const TokenCipher other(TokenCipher::generateKey());
  InstanceRepository wrong(f.db, f.clock, other);
  int handed = 0;
  CHECK_THROWS_WITH_AS(wrong.forEachSealedRow([&](const InstanceRow&, bool) { ++handed; }),
                       doctest::Contains("was sealed by key id"), SecretsError);
  CHECK(handed == 0);
}

TEST_CASE("InstanceRepository refuses to read a token sealed by another key (never an empty one)") {
  SealedStoreFixture f;
  const TokenCipher other(TokenCipher::generateKey());
  InstanceRepository wrong(f.db, f.clock, other);
  CHECK_THROWS_AS(wrong.get(1), SecretsError);
  CHECK_THROWS_AS(wrong.forEachRow([](const InstanceRow&) {}), SecretsError);
  // Same key id but a row whose ciphertext was swapped with another instance's: the AAD fails.
  {
    auto session = f.db.acquire();
    *session << "UPDATE instances SET token = (SELECT token FROM instances WHERE id = 2) "
                "WHERE id = 1",
        now;
  }
  CHECK_THROWS_WITH_AS(f.repo.get(1), doctest::Contains("token of instance 1 does not decrypt"),
                       SecretsError);
  CHECK(f.repo.get(2)->instance.token == SealedStoreFixture::tokenOf(2));
}

TEST_CASE("StoredTokens seals rows left in clear by migration 0004, and none stay in the file") {
  SealedStoreFixture f;
  const std::string legacy = "legacytoken0123456789abcdef0123456789abcdef01234567";
  {
    // What a database from before 0004 holds: the token in clear, no key id.
    auto session = f.db.acquire();
    std::string token = legacy;
    *session << "UPDATE instances SET token = ?, token_key_id = NULL WHERE id IN (1, 3)",
        use(token), now;
  }
  CHECK(f.repo.get(1)->instance.token == legacy);  // a clear row reads as it is until sealed
  StoredTokens tokens(f.db);
  CHECK(tokens.countByKeyId() ==
        std::map<std::string, std::int64_t>{{"", 2}, {f.cipher.keyId(), 1}});
  CHECK(tokens.hasClear());
  CHECK(tokens.sampleKeyId() == f.cipher.keyId());
  CHECK(tokens.countSealedBy(f.cipher.keyId()) == 1);
  CHECK(tokens.sealClear(f.cipher) == 2);
  CHECK_FALSE(tokens.hasClear());
  CHECK(tokens.countSealedBy(f.cipher.keyId()) == 3);
  CHECK(tokens.countByKeyId() == std::map<std::string, std::int64_t>{{f.cipher.keyId(), 3}});
  CHECK(f.repo.get(1)->instance.token == legacy);
  CHECK(f.repo.get(3)->instance.token == legacy);
  CHECK(f.rawFile().find(legacy) == std::string::npos);
  CHECK(tokens.sealClear(f.cipher) == 0);
}

TEST_CASE("StoredTokens re-seals every row under a new key in one transaction") {
  SealedStoreFixture f;
  const TokenCipher next(TokenCipher::generateKey());
  StoredTokens tokens(f.db);

  SUBCASE("a failure before COMMIT leaves every row on the old key") {
    CHECK_THROWS_AS(tokens.reseal(f.cipher, next, [] { throw std::runtime_error("crash"); }),
                    std::runtime_error);
    CHECK(tokens.countByKeyId() == std::map<std::string, std::int64_t>{{f.cipher.keyId(), 3}});
    CHECK(f.repo.get(3)->instance.token == SealedStoreFixture::tokenOf(3));
  }
  SUBCASE("committed: the new key opens every row, the old one none") {
    int before_commit = 0;
    CHECK(tokens.reseal(f.cipher, next, [&] { ++before_commit; }) == 3);
    CHECK(before_commit == 1);
    CHECK(tokens.countByKeyId() == std::map<std::string, std::int64_t>{{next.keyId(), 3}});
    InstanceRepository rotated(f.db, f.clock, next);
    for (std::int64_t id = 1; id <= 3; ++id) {
      CHECK(rotated.get(id)->instance.token == SealedStoreFixture::tokenOf(id));
    }
    CHECK_THROWS_AS(f.repo.get(1), SecretsError);
  }
}
