#include <charconv>
#include <iostream>

#include <fmt/format.h>

#include "app/command_table.hpp"
#include "app/service_config.hpp"
#include "base/time_format.hpp"
#include "store/api_key_repository.hpp"

namespace greenfleet::app {

int runKeys(const CommandArgs& args) {
  Flags flags("keys",
              "Manage admin API keys: 'keys create --name N --role read|admin', 'keys list', "
              "'keys revoke <id>'. A created key is printed once and only its hash is stored.");
  addConfigFlags(flags);
  flags.option("name", "NAME", "name of the new key (create)")
      .option("role", "ROLE", "read or admin (create)", "read")
      .positional("action", "create, list or revoke")
      .positional("id", "key id (revoke)", false);
  if (!flags.parse(args)) return 0;
  const std::string action = flags.positionals().at(0);
  if (action != "create" && action != "list" && action != "revoke") {
    throw UsageError(fmt::format("unknown action '{}'; use create, list or revoke", action));
  }
  const auto config = loadConfig(flags);
  setupLogging(config);
  const auto db = openMigratedDatabase(config);
  base::SystemClock clock;
  store::ApiKeyRepository keys(*db, clock);

  if (action == "create") {
    const auto name = flags.get("name");
    if (!name || name->empty()) throw UsageError("keys create needs --name");
    const auto role = store::parseRole(flags.getOr("role", "read"));
    if (!role) throw UsageError("--role must be read or admin");
    const auto created = keys.create(*name, *role);
    std::cerr << fmt::format("created key {} '{}' ({}); it is shown only now:\n", created.key.id,
                             created.key.name, store::roleName(created.key.role));
    std::cout << created.secret << "\n";
    return 0;
  }
  if (action == "list") {
    std::cout << fmt::format("{:<6} {:<8} {:<24} {:<26} {:<26} {}\n", "ID", "ROLE", "NAME",
                             "CREATED", "LAST USED", "REVOKED");
    for (const auto& k : keys.list()) {
      const auto opt = [](const std::optional<base::WallTime>& t) {
        return t ? base::formatRfc3339(*t) : std::string("-");
      };
      std::cout << fmt::format("{:<6} {:<8} {:<24} {:<26} {:<26} {}\n", k.id,
                               store::roleName(k.role), k.name, base::formatRfc3339(k.created_at),
                               opt(k.last_used_at), opt(k.revoked_at));
    }
    return 0;
  }
  if (flags.positionals().size() < 2) throw UsageError("keys revoke needs the key id");
  const std::string& text = flags.positionals()[1];
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    throw UsageError(fmt::format("key id must be an integer, got '{}'", text));
  }
  if (!keys.revoke(id)) {
    std::cerr << fmt::format("no active key with id {}\n", id);
    return 1;
  }
  std::cout << fmt::format("revoked key {}\n", id);
  return 0;
}

}  // namespace greenfleet::app
