#include "app/database_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace greenfleet::app {

DatabaseLock::DatabaseLock(const std::string& database_path, Mode mode) {
  const std::string path = database_path + ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  const int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  if (::flock(fd_, op) == 0) return;
  const int error = errno;
  ::close(fd_);
  fd_ = -1;
  if (error != EWOULDBLOCK) {
    throw std::system_error(error, std::generic_category(), "cannot lock " + path);
  }
  throw std::runtime_error(
      mode == Mode::shared
          ? fmt::format("database {} is being re-keyed by 'greenfleet secrets rotate' (it holds "
                        "{}); start again once it has finished",
                        database_path, path)
          : fmt::format("a greenfleet server (or migrate) is using database {} (it holds {}); "
                        "stop it before rotating the key",
                        database_path, path));
}

DatabaseLock::~DatabaseLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace greenfleet::app
