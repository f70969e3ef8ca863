#include "store/token_cipher.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace greenfleet::store {

namespace {
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

// Binds the sealed token to its row: the id as 8 big-endian bytes behind a format label that
// names the table (instance tokens keep the label they were first sealed with).
class AdditionalData {
 public:
  AdditionalData(std::int64_t row_id, TokenOwner owner) {
    const std::string_view label =
        owner == TokenOwner::instance ? "greenfleet.token.v1:" : "greenfleet.partner-token.v1:";
    std::copy(label.begin(), label.end(), bytes_.begin());
    size_ = label.size();
    const auto id = static_cast<std::uint64_t>(row_id);
    for (int shift = 56; shift >= 0; shift -= 8) {
      bytes_[size_++] = static_cast<unsigned char>(id >> shift);
    }
  }
  const unsigned char* data() const { return bytes_.data(); }
  int size() const { return static_cast<int>(size_); }

 private:
  std::array<unsigned char, 40> bytes_{};  // the longest label (28) and 8 bytes of id
  std::size_t size_ = 0;
};

void randomBytes(unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<std::size_t>(r);
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

bool unbase64Into(std::string_view text, std::vector<unsigned char>& out) {
  if (text.empty() || text.size() % 4 != 0) return false;
  out.resize(text.size() / 4 * 3);
  const int len = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
  if (len < 0) return false;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t size = static_cast<std::size_t>(len);
  if (text.back() == '=') --size;
  if (text[text.size() - 2] == '=') --size;
  out.resize(size);
  return true;
}
}  // namespace

// A context from the pool for one operation; back to the pool when done.
class TokenCipher::PooledContext {
 public:
  PooledContext(const TokenCipher& owner, bool encrypt)
      : owner_(owner), encrypt_(encrypt), ctx_(owner.takeContext(encrypt)) {}
  ~PooledContext() { owner_.returnContext(encrypt_, ctx_); }
  PooledContext(const PooledContext&) = delete;
  PooledContext& operator=(const PooledContext&) = delete;
  EVP_CIPHER_CTX* get() const { return ctx_; }

 private:
  const TokenCipher& owner_;
  bool encrypt_;
  EVP_CIPHER_CTX* ctx_;
};

EVP_CIPHER_CTX* TokenCipher::takeContext(bool encrypt) const {
  {
    std::lock_guard lock(pool_mutex_);
    auto& idle = idle_[encrypt ? 1 : 0];
    if (!idle.empty()) {
      auto* ctx = idle.back();
      idle.pop_back();
      return ctx;
    }
  }
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) throw std::bad_alloc();
  // The key schedule is set up once here; each operation only sets its nonce.
  const int ok = encrypt ? EVP_EncryptInit_ex2(ctx, cipher_, key_.data(), nullptr, nullptr)
                         : EVP_DecryptInit_ex2(ctx, cipher_, key_.data(), nullptr, nullptr);
  if (ok != 1) {
    EVP_CIPHER_CTX_free(ctx);
    throw std::runtime_error("AES-256-GCM set-up failed");
  }
  return ctx;
}

void TokenCipher::returnContext(bool encrypt, EVP_CIPHER_CTX* ctx) const {
  std::lock_guard lock(pool_mutex_);
  idle_[encrypt ? 1 : 0].push_back(ctx);
}

TokenCipher::TokenCipher(const Key& key) : key_(key) {
  cipher_ = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher_ == nullptr) throw std::runtime_error("AES-256-GCM is not available in libcrypto");
  static constexpr std::string_view kLabel = "greenfleet secrets key id";
  std::string input(kLabel);
  input.append(reinterpret_cast<const char*>(key_.data()), key_.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  OPENSSL_cleanse(input.data(), input.size());
  key_id_ = fmt::format("{:02x}{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2], digest[3]);
}

TokenCipher::~TokenCipher() {
  // Freeing a context wipes the key schedule it holds.
  for (auto& idle : idle_) {
    for (auto* ctx : idle) EVP_CIPHER_CTX_free(ctx);
  }
  EVP_CIPHER_free(cipher_);
  OPENSSL_cleanse(key_.data(), key_.size());
}

TokenCipher::Key TokenCipher::generateKey() {
  Key key;
  randomBytes(key.data(), key.size());
  return key;
}

std::optional<TokenCipher::Key> TokenCipher::parseKey(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  if (text.size() != 2 * kKeyBytes) return std::nullopt;
  Key key;
  for (std::size_t k = 0; k < kKeyBytes; ++k) {
    const int hi = hexValue(text[2 * k]);
    const int lo = hexValue(text[2 * k + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[k] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return key;
}

std::string TokenCipher::formatKey(const Key& key) {
  std::string out;
  out.reserve(2 * kKeyBytes);
  for (const unsigned char b : key) out += fmt::format("{:02x}", b);
  return out;
}

namespace {
// Sets the nonce on a pooled context (key and direction kept) and runs the associated data and
// `n` bytes of `in` into `out`; GCM's final step and tag are the caller's.
bool runGcm(EVP_CIPHER_CTX* ctx, const unsigned char* nonce, const AdditionalData& aad,
            const unsigned char* in, std::size_t n, unsigned char* out) {
  int len = 0;
  return EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce, -1, nullptr) == 1 &&
         EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), aad.size()) == 1 &&
         EVP_CipherUpdate(ctx, out, &len, in, static_cast<int>(n)) == 1;
}
}  // namespace

std::string TokenCipher::seal(std::string_view token, std::int64_t id, TokenOwner owner) const {
  std::vector<unsigned char> out(kNonceBytes + token.size() + kTagBytes);
  unsigned char* nonce = out.data();
  unsigned char* body = nonce + kNonceBytes;
  unsigned char* tag = body + token.size();
  randomBytes(nonce, kNonceBytes);
  const PooledContext ctx(*this, true);
  int len = 0;
  const bool ok =
      runGcm(ctx.get(), nonce, AdditionalData(id, owner),
             reinterpret_cast<const unsigned char*>(token.data()), token.size(), body) &&
      EVP_EncryptFinal_ex(ctx.get(), tag, &len) == 1 &&  // GCM: writes no bytes
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag) == 1;
  if (!ok) throw std::runtime_error("AES-256-GCM encryption failed");
  return base64(out.data(), out.size());
}

std::optional<std::string> TokenCipher::open(std::string_view sealed, std::int64_t id,
                                             TokenOwner owner) const {
  std::string token;
  if (!openInto(sealed, id, owner, token)) return std::nullopt;
  return token;
}

bool TokenCipher::openInto(std::string_view sealed, std::int64_t id, TokenOwner owner,
                           std::string& out) const {
  // nonce ‖ body ‖ tag, decoded before `out` (perhaps `sealed` itself) is written; no secret.
  thread_local std::vector<unsigned char> bytes;
  if (!unbase64Into(sealed, bytes) || bytes.size() < kNonceBytes + kTagBytes) return false;
  const std::size_t body_size = bytes.size() - kNonceBytes - kTagBytes;
  unsigned char* nonce = bytes.data();
  unsigned char* body = nonce + kNonceBytes;
  unsigned char* tag = body + body_size;
  out.resize(body_size);
  auto* plain = reinterpret_cast<unsigned char*>(out.data());
  const PooledContext ctx(*this, false);
  int len = 0;
  const bool ok =
      runGcm(ctx.get(), nonce, AdditionalData(id, owner), body, body_size, plain) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), plain + body_size, &len) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    out.clear();
  }
  return ok;
}

void TokenCipher::throwUnopened(std::int64_t id, TokenOwner owner) const {
  throw SecretsError(
      fmt::format("secrets: the token of {} {} does not decrypt with key id {} (altered row?)",
                  owner == TokenOwner::instance ? "instance" : "partner", id, key_id_));
}

std::string TokenCipher::openOrThrow(std::string_view sealed, std::int64_t id,
                                     TokenOwner owner) const {
  std::string token;
  if (!openInto(sealed, id, owner, token)) throwUnopened(id, owner);
  return token;
}

void TokenCipher::openInPlace(std::string& token, std::int64_t id, TokenOwner owner) const {
  if (!openInto(token, id, owner, token)) throwUnopened(id, owner);
}

}  // namespace greenfleet::store
