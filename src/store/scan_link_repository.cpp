#include "store/scan_link_repository.hpp"

#include <sys/random.h>

#include <array>
#include <sstream>
#include <stdexcept>

#include <Poco/Base64Encoder.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>
#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

using namespace Poco::Data::Keywords;
using Poco::Data::RecordSet;
using Poco::Data::Statement;

namespace greenfleet::store {

namespace {
constexpr std::size_t kTokenBytes = 32;  // 256 bits

std::string randomToken() {
  std::array<unsigned char, kTokenBytes> buf{};
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::getrandom(buf.data() + got, buf.size() - got, 0);
    if (n < 0) throw std::runtime_error("getrandom failed");
    got += static_cast<std::size_t>(n);
  }
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(reinterpret_cast<const char*>(buf.data()),
                static_cast<std::streamsize>(buf.size()));
  encoder.close();
  return out.str();
}

std::optional<std::int64_t> optMillis(const Poco::Dynamic::Var& v) {
  if (v.isEmpty()) return std::nullopt;
  return v.convert<Poco::Int64>();
}

constexpr const char* kSelect =
    "SELECT id, instance_id, hint, created_at, created_by, expires_at, opened_at, ended_at, "
    "end_reason FROM scan_links";

std::vector<ScanLink> readLinks(Statement& stmt) {
  stmt.execute();
  RecordSet rs(stmt);
  std::vector<ScanLink> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    ScanLink l;
    l.id = rs.value(0).convert<Poco::Int64>();
    l.instance_id = rs.value(1).convert<Poco::Int64>();
    l.hint = rs.value(2).convert<std::string>();
    l.created_at_ms = rs.value(3).convert<Poco::Int64>();
    l.created_by = rs.value(4).convert<std::string>();
    l.expires_at_ms = rs.value(5).convert<Poco::Int64>();
    l.opened_at_ms = optMillis(rs.value(6));
    l.ended_at_ms = optMillis(rs.value(7));
    if (!rs.value(8).isEmpty()) l.end_reason = rs.value(8).convert<std::string>();
    out.push_back(std::move(l));
  }
  return out;
}
}  // namespace

std::string ScanLinkRepository::hashToken(const std::string& token) {
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  sha.update(token);
  return Poco::DigestEngine::digestToHex(sha.digest());
}

CreatedScanLink ScanLinkRepository::create(std::int64_t instance_id, const std::string& created_by,
                                           std::int64_t now_ms, std::int64_t expires_at_ms) {
  CreatedScanLink out;
  out.token = randomToken();
  ScanLink& l = out.link;
  l.instance_id = instance_id;
  l.hint = out.token.substr(out.token.size() - 4);
  l.created_at_ms = now_ms;
  l.created_by = created_by;
  l.expires_at_ms = expires_at_ms;
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Statement stmt(*session);
  stmt << "INSERT INTO scan_links(instance_id, token_hash, hint, created_at, created_by, "
          "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      bind(static_cast<Poco::Int64>(instance_id)), bind(hashToken(out.token)), bind(l.hint),
      bind(static_cast<Poco::Int64>(now_ms)), bind(created_by),
      bind(static_cast<Poco::Int64>(expires_at_ms));
  stmt.execute();
  Poco::Int64 id = 0;
  *session << "SELECT last_insert_rowid()", into(id), now;
  tx.commit();
  l.id = id;
  return out;
}

std::optional<ScanLink> ScanLinkRepository::findByToken(const std::string& token) {
  auto session = db_.acquire();
  Statement stmt(*session);
  stmt << std::string(kSelect) + " WHERE token_hash = ?", bind(hashToken(token));
  auto rows = readLinks(stmt);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::optional<ScanLink> ScanLinkRepository::get(std::int64_t link_id) {
  auto session = db_.acquire();
  Statement stmt(*session);
  stmt << std::string(kSelect) + " WHERE id = ?", bind(static_cast<Poco::Int64>(link_id));
  auto rows = readLinks(stmt);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<ScanLink> ScanLinkRepository::live(std::int64_t instance_id, std::int64_t now_ms) {
  auto session = db_.acquire();
  Statement stmt(*session);
  stmt << std::string(kSelect) +
              " WHERE instance_id = ? AND ended_at IS NULL AND expires_at > ? ORDER BY id",
      bind(static_cast<Poco::Int64>(instance_id)), bind(static_cast<Poco::Int64>(now_ms));
  return readLinks(stmt);
}

bool ScanLinkRepository::end(std::int64_t instance_id, std::int64_t link_id,
                             const std::string& reason, std::int64_t now_ms) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Statement stmt(*session);
  stmt << "UPDATE scan_links SET ended_at = ?, end_reason = ? "
          "WHERE id = ? AND instance_id = ? AND ended_at IS NULL AND expires_at > ?",
      bind(static_cast<Poco::Int64>(now_ms)), bind(reason), bind(static_cast<Poco::Int64>(link_id)),
      bind(static_cast<Poco::Int64>(instance_id)), bind(static_cast<Poco::Int64>(now_ms));
  const auto n = stmt.execute();
  tx.commit();
  return n > 0;
}

std::vector<ScanLink> ScanLinkRepository::endAll(std::int64_t instance_id,
                                                 const std::string& reason, std::int64_t now_ms) {
  auto ended = live(instance_id, now_ms);
  std::vector<ScanLink> out;
  for (auto& l : ended) {
    if (!end(instance_id, l.id, reason, now_ms)) continue;
    l.ended_at_ms = now_ms;
    l.end_reason = reason;
    out.push_back(std::move(l));
  }
  return out;
}

bool ScanLinkRepository::markOpened(std::int64_t link_id, std::int64_t now_ms) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Statement stmt(*session);
  stmt << "UPDATE scan_links SET opened_at = ? WHERE id = ? AND opened_at IS NULL",
      bind(static_cast<Poco::Int64>(now_ms)), bind(static_cast<Poco::Int64>(link_id));
  const auto n = stmt.execute();
  tx.commit();
  return n > 0;
}

std::size_t ScanLinkRepository::pruneOlderThan(std::int64_t cutoff_ms) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Statement stmt(*session);
  stmt << "DELETE FROM scan_links WHERE COALESCE(ended_at, expires_at) < ?",
      bind(static_cast<Poco::Int64>(cutoff_ms));
  const auto n = stmt.execute();
  tx.commit();
  return n;
}

bool ScanLinkRepository::authorizedSince(std::int64_t instance_id, std::int64_t since_ms) {
  auto session = db_.acquire();
  Poco::Int64 found = 0;
  Poco::Int64 id = instance_id;
  Poco::Int64 since = since_ms;
  *session << "SELECT COUNT(*) FROM (SELECT 1 FROM state_events WHERE id = ? AND at >= ? "
              "AND type = 'state_changed' AND to_state = 'authorized' LIMIT 1)",
      use(id), use(since), into(found), now;
  return found > 0;
}

}  // namespace greenfleet::store
