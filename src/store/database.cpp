#include "store/database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SessionImpl.h>
#include <fmt/format.h>

#include "base/log.hpp"

using namespace Poco::Data::Keywords;

namespace greenfleet::store {

namespace {
const base::Log kLog{"store"};

void prepareFile(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path file(path);
  if (file.has_parent_path() && !fs::exists(file.parent_path())) {
    fs::create_directories(file.parent_path());
    fs::permissions(file.parent_path(), fs::perms::owner_all, fs::perm_options::replace);
  }
  // Created 0600 before SQLite sees it: tokens live in this file.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "cannot create database " + path);
  }
  ::close(fd);
}
}  // namespace

Database::Lease::Lease(Database& db, std::unique_ptr<Poco::Data::Session> session)
    : db_(&db), session_(std::move(session)) {}

Database::Lease::~Lease() {
  if (session_) db_->release(std::move(session_));
}

Database::Database(DatabaseOptions options) : options_(std::move(options)) {
  Poco::Data::SQLite::Connector::registerConnector();
  if (options_.path == ":memory:") {
    options_.max_connections = 1;
  } else if (!options_.read_only) {
    prepareFile(options_.path);
  }
  idle_.push_back(open(options_.synchronous_full));  // fail fast on a bad path
  open_count_ = 1;
}

Database::~Database() = default;

std::unique_ptr<Poco::Data::Session> Database::openDedicated(bool synchronous_full) {
  if (sharesOneConnection()) {
    throw std::logic_error("a dedicated connection to :memory: would open another database");
  }
  return open(synchronous_full);
}

std::unique_ptr<Poco::Data::Session> Database::open(bool synchronous_full) {
  std::string uri = options_.path;
  if (options_.read_only) uri = "file:" + options_.path + "?mode=ro";
  auto session = std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY, uri);
  // Poco's own default connection timeout is 60 s; SQLite's busy handler is what waits.
  const int busy = options_.busy_timeout_ms;
  *session << fmt::format("PRAGMA busy_timeout = {}", busy), now;
  *session << "PRAGMA foreign_keys = ON", now;
  if (!options_.read_only && options_.path != ":memory:") {
    *session << "PRAGMA journal_mode = WAL", now;
    *session << (synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"),
        now;
  }
  return session;
}

Database::Lease Database::acquire() {
  std::unique_lock lock(mutex_);
  while (idle_.empty() && open_count_ >= options_.max_connections) available_.wait(lock);
  if (!idle_.empty()) {
    auto s = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(s));
  }
  ++open_count_;
  lock.unlock();
  try {
    return Lease(*this, open(options_.synchronous_full));
  } catch (...) {
    std::lock_guard relock(mutex_);
    --open_count_;
    available_.notify_one();
    throw;
  }
}

void Database::release(std::unique_ptr<Poco::Data::Session> session) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(session));
  available_.notify_one();
}

WriteTransaction::WriteTransaction(Poco::Data::Session& session) : session_(session) {
  session_ << "BEGIN IMMEDIATE", now;
}

WriteTransaction::~WriteTransaction() {
  if (done_) return;
  try {
    session_ << "ROLLBACK", now;
  } catch (const std::exception& e) {
    kLog.error("event=rollback_failed error=\"{}\"", e.what());
  }
}

void WriteTransaction::commit() {
  session_ << "COMMIT", now;
  done_ = true;
}

}  // namespace greenfleet::store
