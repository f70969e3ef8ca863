// `greenfleet instances import FILE` and `greenfleet instances export`: bulk registration from
// (and listing to) JSON, NDJSON or CSV files, through a running server's API or offline on the
// database file (--db).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "app/command_table.hpp"
#include "app/instance_file.hpp"
#include "app/service_config.hpp"
#include "app/token_key.hpp"
#include "base/clock.hpp"
#include "store/instance_repository.hpp"
#include "store/readonly_status_reader.hpp"
#include "sweep_cli/progress_bar.hpp"
#include "sweep_cli/sweep_client.hpp"

namespace greenfleet::app {

namespace {

constexpr std::size_t kMaxErrorLines = 50;
constexpr std::size_t kMaxBatchBytes = 512 * 1024;

std::string readInput(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<InstanceFileFormat> formatFlag(const Flags& flags) {
  const auto name = flags.get("format");
  if (!name) return std::nullopt;
  const auto format = instanceFileFormat(*name);
  if (!format)
    throw UsageError(fmt::format("--format must be json, ndjson or csv, got '{}'", *name));
  return format;
}

void printErrors(const std::string& source, const std::vector<InstanceFileError>& errors) {
  for (std::size_t k = 0; k < errors.size() && k < kMaxErrorLines; ++k) {
    const auto& e = errors[k];
    std::cerr << (e.line > 0 ? fmt::format("{}:{}: {}\n", source, e.line, e.message)
                             : fmt::format("{}: {}\n", source, e.message));
  }
  if (errors.size() > kMaxErrorLines) {
    std::cerr << fmt::format("{}: … and {} more errors\n", source, errors.size() - kMaxErrorLines);
  }
}

// Offline: one transaction for the whole file (or, with --continue-on-error, for the rows whose
// ids are not registered yet).
int importOffline(const config::Config& config, std::vector<InstanceFileRow> rows,
                  bool continue_on_error, std::vector<InstanceFileError>& errors) {
  const auto db = openMigratedDatabase(config);
  const base::SystemClock clock;
  const auto cipher = openTokenCipher(config, *db);  // tokens are sealed as the server seals them
  store::InstanceRepository repo(*db, clock, *cipher);
  if (continue_on_error) {
    std::vector<InstanceFileRow> fresh;
    for (auto& r : rows) {
      if (repo.get(r.instance.id)) {
        errors.push_back({r.line, fmt::format("instance {} is already registered", r.instance.id)});
      } else {
        fresh.push_back(std::move(r));
      }
    }
    rows = std::move(fresh);
  }
  std::vector<fleet::RegisteredInstance> instances;
  instances.reserve(rows.size());
  for (const auto& r : rows) instances.push_back(r.instance);
  auto created = repo.create(std::move(instances));
  if (!created) {
    const auto& dup = created.error();
    errors.push_back({rows[dup.index].line,
                      fmt::format("instance {} is already registered; nothing written", dup.id)});
    return 0;
  }
  return static_cast<int>(created.value().size());
}

// Deletes what this run created, after a refused batch: the registry ends as the run found it.
void rollBack(const sweep_cli::SweepClient& client, const std::vector<std::int64_t>& created,
              std::chrono::seconds timeout, std::vector<InstanceFileError>& errors) {
  std::size_t undone = 0;
  for (const auto id : created) {
    const auto del = client.send("DELETE", fmt::format("/api/v1/instances/{}", id), "",
                                 std::chrono::steady_clock::now() + timeout);
    if (del.status == 204) ++undone;
  }
  if (undone != created.size()) {
    errors.push_back({0, fmt::format("rolled back {} of the {} instances this run created; the "
                                     "others are still registered",
                                     undone, created.size())});
  } else if (!created.empty()) {
    errors.push_back(
        {0, fmt::format("rolled back the {} instances this run had created", created.size())});
  }
}

// Fills batch with the rows from begin on that go in one request; returns the end of the batch.
// At most batch_size rows and kMaxBatchBytes of JSON: well inside the server's body limit
// (http.max_body_bytes, 1 MiB by default) however long the names, tags and URLs are.
std::size_t nextBatch(const std::vector<InstanceFileRow>& rows, std::size_t begin,
                      std::size_t batch_size, std::vector<std::size_t>& batch) {
  std::size_t bytes = 0;
  std::size_t end = begin;
  for (; end < rows.size() && batch.size() < batch_size; ++end) {
    const auto& in = rows[end].instance;
    std::size_t row_bytes = 96 + in.api_url.size() + in.token.size() + 3 * in.name.size();
    for (const auto& tag : in.tags) row_bytes += 4 + 3 * tag.size();  // escapes: ≤ 3×
    if (!batch.empty() && bytes + row_bytes > kMaxBatchBytes) break;
    bytes += row_bytes;
    batch.push_back(end);
  }
  return end;
}

sweep_cli::SweepClient::Answer postBatch(const sweep_cli::SweepClient& client,
                                         const std::vector<InstanceFileRow>& rows,
                                         const std::vector<std::size_t>& batch,
                                         std::chrono::seconds timeout) {
  std::vector<fleet::RegisteredInstance> instances;
  for (const auto k : batch) instances.push_back(rows[k].instance);
  return client.send("POST", "/api/v1/instances",
                     formatInstanceFile(instances, InstanceFileFormat::json, true),
                     std::chrono::steady_clock::now() + timeout);
}

// The batch position an API error names ("[i].id": a conflict), if any.
std::optional<std::size_t> failedIndex(const std::string& body) {
  try {
    const auto error =
        Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>()->getObject("error");
    const auto field = error->optValue<std::string>("field", "");
    if (field.size() > 1 && field[0] == '[') return std::stoul(field.substr(1));
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Through the API: batches, each all or nothing on the server. Without --continue-on-error a
// failed batch rolls the run back: the instances its earlier batches created are deleted again.
int importOnline(const sweep_cli::SweepClient& client, const std::vector<InstanceFileRow>& rows,
                 std::size_t batch_size, std::chrono::seconds timeout, bool continue_on_error,
                 std::vector<InstanceFileError>& errors) {
  std::optional<sweep_cli::ProgressBar> bar;
  if (::isatty(STDERR_FILENO) == 1) bar.emplace(std::cerr);
  std::vector<std::int64_t> created;
  for (std::size_t begin = 0, end = 0; begin < rows.size(); begin = end) {
    std::vector<std::size_t> batch;
    end = nextBatch(rows, begin, batch_size, batch);
    while (!batch.empty()) {
      const auto answer = postBatch(client, rows, batch, timeout);
      if (answer.status == 201) {
        for (const auto k : batch) created.push_back(rows[k].instance.id);
        break;
      }
      const auto index = failedIndex(answer.body);
      const std::size_t failed = index && *index < batch.size() ? batch[*index] : batch.front();
      const std::string why = fmt::format("HTTP {} ({})", answer.status,
                                          sweep_cli::SweepClient::errorText(answer.body));
      if (!continue_on_error) {
        errors.push_back({rows[failed].line, why});
        if (bar) bar->finish();
        rollBack(client, created, timeout, errors);
        return 0;
      }
      if (!index) {
        // Not one row's fault (413, 5xx, …): the whole batch failed.
        for (const auto k : batch) errors.push_back({rows[k].line, why});
        break;
      }
      // The row the server named is left out; the rest of the batch goes again.
      errors.push_back({rows[failed].line, why});
      batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(*index));
    }
    if (bar)
      bar->update("import", static_cast<std::int64_t>(end), static_cast<std::int64_t>(rows.size()),
                  std::nullopt);
  }
  if (bar) bar->finish();
  return static_cast<int>(created.size());
}

int runImport(const CommandArgs& args) {
  Flags flags("instances import",
              "Register the instances of a JSON array, NDJSON or CSV file (header naming columns "
              "among id,token,apiUrl,name,tags; tags separated by ';'). Every row is validated "
              "first; any bad row is reported with its line and nothing is written. Then rows go "
              "in through the server's API in batches (a failed batch rolls the run back), or "
              "with --db straight into the database file in one transaction. Exit 0 when every "
              "row was registered, 1 otherwise.");
  addConfigFlags(flags);
  flags.positional("FILE", "the file to import; - reads stdin")
      .option("format", "FMT", "json, ndjson or csv (default: from the extension or the content)")
      .option("url", "URL", "server base URL (default: http://<http.host>:<http.port> from config)")
      .option("key-file", "FILE", "file holding an admin API key (default: <data.dir>/admin.key)")
      .option("batch-size", "N", "instances per request through the API", "1000")
      .option("timeout", "S", "bound on each request, in seconds", "120")
      .toggle("continue-on-error",
              "register the good rows even when others are bad or already registered");
  if (!flags.parse(args)) return 0;
  const std::string source = flags.positionals().at(0);
  const bool continue_on_error = flags.isSet("continue-on-error");
  const auto batch_size = static_cast<std::size_t>(*flags.getInt("batch-size", 1, 10000));
  const auto timeout = std::chrono::seconds(*flags.getInt("timeout", 1, 86400));
  const auto config = loadConfig(flags);
  const std::string text = readInput(source);
  const auto format = formatFlag(flags).value_or(detectInstanceFileFormat(source, text));
  auto parsed = parseInstanceFile(text, format, defaultApiUrl(config), allowedHosts(config));
  auto errors = std::move(parsed.errors);
  if (!errors.empty() && !continue_on_error) {
    printErrors(source, errors);
    std::cerr << fmt::format("{}: {} bad rows; nothing written\n", source, errors.size());
    return 1;
  }
  int imported = 0;
  if (!parsed.rows.empty()) {
    if (flags.isSet("db")) {
      imported = importOffline(config, std::move(parsed.rows), continue_on_error, errors);
    } else {
      const sweep_cli::SweepClient client(
          flags.isSet("url") ? *flags.get("url") : defaultServerUrl(config),
          readApiKeyFile(flags.isSet("key-file") ? *flags.get("key-file") : adminKeyFile(config)));
      imported = importOnline(client, parsed.rows, batch_size, timeout, continue_on_error, errors);
    }
  }
  printErrors(source, errors);
  std::cout << fmt::format("imported {} instances{}\n", imported,
                           errors.empty() ? "" : fmt::format(", {} rows failed", errors.size()));
  return errors.empty() ? 0 : 1;
}

std::vector<fleet::RegisteredInstance> exportOnline(const sweep_cli::SweepClient& client,
                                                    const std::optional<std::string>& tag,
                                                    std::chrono::seconds timeout) {
  std::vector<fleet::RegisteredInstance> out;
  std::string cursor;
  do {
    std::string path = "/api/v1/instances?limit=1000";
    if (tag)
      path += "&tag=" + [&] {
        std::string encoded;
        Poco::URI::encode(*tag, "&=+?#", encoded);
        return encoded;
      }();
    if (!cursor.empty()) path += "&cursor=" + cursor;
    const auto answer = client.send("GET", path, "", std::chrono::steady_clock::now() + timeout);
    if (answer.status != 200) {
      throw std::runtime_error(fmt::format("listing instances: HTTP {} ({})", answer.status,
                                           sweep_cli::SweepClient::errorText(answer.body)));
    }
    const auto page = Poco::JSON::Parser().parse(answer.body).extract<Poco::JSON::Object::Ptr>();
    const auto items = page->getArray("items");
    for (std::size_t k = 0; k < items->size(); ++k) {
      const auto o = items->getObject(static_cast<unsigned>(k));
      fleet::RegisteredInstance in;
      in.id = o->getValue<Poco::Int64>("id");
      in.api_url = o->getValue<std::string>("apiUrl");
      in.name = o->getValue<std::string>("name");
      const auto tags = o->getArray("tags");
      for (std::size_t t = 0; t < tags->size(); ++t) {
        in.tags.push_back(tags->getElement<std::string>(static_cast<unsigned>(t)));
      }
      out.push_back(std::move(in));
    }
    cursor = page->isNull("nextCursor") ? "" : page->getValue<std::string>("nextCursor");
  } while (!cursor.empty());
  return out;
}

// Read-only, whatever the schema version: nothing is migrated or sealed, no key file is made.
std::vector<fleet::RegisteredInstance> exportOffline(const config::Config& config,
                                                     const std::optional<std::string>& tag,
                                                     bool with_tokens) {
  const store::ReadOnlyStatusReader reader(databasePath(config));
  // Without tokens, no token is even read.
  auto rows =
      with_tokens ? reader.rowsWithTokens(tag, loadTokenCipher(config).get()) : reader.rows(tag);
  std::vector<fleet::RegisteredInstance> out;
  out.reserve(rows.size());
  for (auto& row : rows) out.push_back(std::move(row.instance));
  return out;
}

int runExport(const CommandArgs& args) {
  Flags flags("instances export",
              "Write the registered instances as a JSON array, NDJSON or CSV (the import "
              "formats), without tokens. --with-tokens adds them; it needs --db (the API never "
              "hands a token out) and warns on stderr.");
  addConfigFlags(flags);
  flags.option("format", "FMT", "json, ndjson or csv", "json")
      .option("output", "FILE", "write here (created 0600) instead of stdout")
      .option("tag", "TAG", "only instances carrying this tag")
      .option("url", "URL", "server base URL (default: http://<http.host>:<http.port> from config)")
      .option("key-file", "FILE", "file holding an API key (default: <data.dir>/admin.key)")
      .option("timeout", "S", "bound on each request, in seconds", "120")
      .toggle("with-tokens", "include each apiTokenInstance (needs --db)");
  if (!flags.parse(args)) return 0;
  const auto format = *formatFlag(flags);
  const bool with_tokens = flags.isSet("with-tokens");
  const bool offline = flags.isSet("db");
  if (with_tokens && !offline) {
    throw UsageError("--with-tokens needs --db: the API never returns a token");
  }
  const auto tag = flags.get("tag");
  const auto config = loadConfig(flags);
  std::vector<fleet::RegisteredInstance> instances;
  if (offline) {
    instances = exportOffline(config, tag, with_tokens);
  } else {
    const sweep_cli::SweepClient client(
        flags.isSet("url") ? *flags.get("url") : defaultServerUrl(config),
        readApiKeyFile(flags.isSet("key-file") ? *flags.get("key-file") : adminKeyFile(config)));
    instances = exportOnline(client, tag, std::chrono::seconds(*flags.getInt("timeout", 1, 86400)));
  }
  if (with_tokens) {
    std::cerr << "greenfleet instances export: warning: the output holds every instance's "
                 "apiTokenInstance; keep it private and delete it when done\n";
  }
  const std::string text = formatInstanceFile(instances, format, with_tokens);
  if (const auto output = flags.get("output")) {
    const std::string tmp = *output + ".tmp";
    {
      const mode_t old_mask = ::umask(077);
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      ::umask(old_mask);
      out << text;
      if (!out.flush()) throw std::runtime_error(fmt::format("cannot write {}", tmp));
    }
    std::filesystem::rename(tmp, *output);
  } else {
    std::cout << text << std::flush;
  }
  std::cerr << fmt::format("exported {} instances\n", instances.size());
  return 0;
}

}  // namespace

int runInstances(const CommandArgs& args) {
  const std::string usage =
      "usage: greenfleet instances import FILE [flags] | greenfleet instances export [flags]\n"
      "Run 'greenfleet instances import --help' or 'greenfleet instances export --help'.\n";
  if (args.empty()) throw UsageError("name a subcommand: import or export");
  const CommandArgs rest(args.begin() + 1, args.end());
  if (args[0] == "import") return runImport(rest);
  if (args[0] == "export") return runExport(rest);
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << usage;
    return 0;
  }
  throw UsageError(fmt::format("unknown subcommand '{}': use import or export", args[0]));
}

}  // namespace greenfleet::app
