#pragma once
// TokenCipher: seals an instance's apiTokenInstance with AES-256-GCM under one 256-bit key, so
// the database file (and any copy of it) never holds a token in clear. Each seal draws a random
// 96-bit nonce; the instance id is the additional authenticated data, so a sealed token moved
// to another row does not open. The key id (a short fingerprint of the key, stored beside each
// row) tells which key sealed a row without revealing anything about the key. Thread-safe:
// OpenSSL contexts with the key schedule already set up are pooled (setting up a key per call
// cost twice the cipher itself, which a start-up of a million rows pays a million times).

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct evp_cipher_st;
struct evp_cipher_ctx_st;

namespace greenfleet::store {

// A token that cannot be opened: wrong key, tampered row, or a row moved between instances.
class SecretsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Whose token a sealed value is: part of the associated data, so a partner's sealed token
// copied into an instance row with the same id (or the reverse) does not open.
enum class TokenOwner { instance, partner };

class TokenCipher {
 public:
  static constexpr std::size_t kKeyBytes = 32;
  using Key = std::array<unsigned char, kKeyBytes>;

  explicit TokenCipher(const Key& key);
  ~TokenCipher();  // wipes the key
  TokenCipher(const TokenCipher&) = delete;
  TokenCipher& operator=(const TokenCipher&) = delete;

  // A fresh random key (getrandom).
  static Key generateKey();
  // The text form of a key (key file, GREENFLEET_SECRETS_KEY): 64 hex digits. Surrounding
  // whitespace is ignored; anything else is nullopt.
  static std::optional<Key> parseKey(std::string_view text);
  static std::string formatKey(const Key& key);

  // 8 hex digits: the first 4 bytes of SHA-256 over a label and the key.
  const std::string& keyId() const { return key_id_; }
  // base64(nonce ‖ ciphertext ‖ tag): what instances.token (and partners.partner_token) hold.
  // `id` is the row's id (instance id, partner id).
  std::string seal(std::string_view token, std::int64_t id,
                   TokenOwner owner = TokenOwner::instance) const;
  // The token, or nullopt when the tag does not verify (other key, tampering, other row).
  std::optional<std::string> open(std::string_view sealed, std::int64_t id,
                                  TokenOwner owner = TokenOwner::instance) const;
  // open(), or SecretsError naming the row and the key id.
  std::string openOrThrow(std::string_view sealed, std::int64_t id,
                          TokenOwner owner = TokenOwner::instance) const;
  // Replaces a sealed token by the token in the same string, keeping its capacity (a read of a
  // million rows into one reused row allocates nothing); SecretsError as openOrThrow().
  void openInPlace(std::string& token, std::int64_t id,
                   TokenOwner owner = TokenOwner::instance) const;

 private:
  class PooledContext;
  // open() into `out`, which may be the string `sealed` views; false, `out` wiped, when the tag
  // does not verify.
  bool openInto(std::string_view sealed, std::int64_t id, TokenOwner owner, std::string& out) const;
  [[noreturn]] void throwUnopened(std::int64_t id, TokenOwner owner) const;
  evp_cipher_ctx_st* takeContext(bool encrypt) const;
  void returnContext(bool encrypt, evp_cipher_ctx_st* ctx) const;

  Key key_;
  std::string key_id_;
  evp_cipher_st* cipher_ = nullptr;
  mutable std::mutex pool_mutex_;
  mutable std::vector<evp_cipher_ctx_st*> idle_[2];  // [0] decrypt, [1] encrypt
};

}  // namespace greenfleet::store
