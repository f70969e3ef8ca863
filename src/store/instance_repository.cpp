#include "store/instance_repository.hpp"

#include <sstream>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Statement.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include "fleet/time_format.hpp"

using namespace Poco::Data::Keywords;
using Poco::Data::RecordSet;
using Poco::Data::Statement;

namespace greenfleet::store {

namespace {

constexpr const char* kSelectColumns =
    "SELECT i.id, i.api_url, i.token, i.name, i.tags, i.created_at, i.updated_at, i.enabled, "
    "s.state, s.state_since, s.attention, s.last_checked_at, s.last_ok_at, "
    "s.consecutive_failures, s.last_error_code, s.last_error, s.phone, s.next_check_at "
    "FROM instances i LEFT JOIN instance_status s ON s.id = i.id";

std::string encodeTags(const std::vector<std::string>& tags) {
  Poco::JSON::Array arr;
  for (const auto& t : tags) arr.add(t);
  std::ostringstream out;
  arr.stringify(out);
  return out.str();
}

std::vector<std::string> decodeTags(const std::string& json) {
  std::vector<std::string> out;
  Poco::JSON::Parser parser;
  const auto arr = parser.parse(json).extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < arr->size(); ++i) out.push_back(arr->getElement<std::string>(i));
  return out;
}

std::optional<std::int64_t> optInt(RecordSet& rs, std::size_t col) {
  const auto& v = rs.value(col);
  if (v.isEmpty()) return std::nullopt;
  return v.convert<Poco::Int64>();
}

std::optional<std::string> optText(RecordSet& rs, std::size_t col) {
  const auto& v = rs.value(col);
  if (v.isEmpty()) return std::nullopt;
  return v.convert<std::string>();
}

InstanceRow readRow(RecordSet& rs) {
  InstanceRow row;
  auto& in = row.instance;
  in.id = rs.value(0).convert<Poco::Int64>();
  in.api_url = rs.value(1).convert<std::string>();
  in.token = rs.value(2).convert<std::string>();
  in.name = rs.value(3).convert<std::string>();
  in.tags = decodeTags(rs.value(4).convert<std::string>());
  in.created_at = fleet::fromUnixMillis(rs.value(5).convert<Poco::Int64>());
  in.updated_at = fleet::fromUnixMillis(rs.value(6).convert<Poco::Int64>());
  in.enabled = rs.value(7).convert<int>() != 0;
  auto& st = row.status;
  st.state = optText(rs, 8);
  st.state_since_ms = optInt(rs, 9);
  st.attention = optText(rs, 10).value_or("none");
  st.last_checked_at_ms = optInt(rs, 11);
  st.last_ok_at_ms = optInt(rs, 12);
  st.consecutive_failures = static_cast<int>(optInt(rs, 13).value_or(0));
  st.last_error_code = optText(rs, 14);
  st.last_error = optText(rs, 15);
  st.phone = optText(rs, 16);
  st.next_check_at_ms = optInt(rs, 17);
  return row;
}

std::vector<InstanceRow> readRows(Statement& stmt) {
  stmt.execute();
  RecordSet rs(stmt);
  std::vector<InstanceRow> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) out.push_back(readRow(rs));
  return out;
}

// WHERE clause and bindings shared by the page query and its count.
struct FilterSql {
  std::string where;
  std::vector<std::string> text_args;
};

FilterSql filterSql(const InstanceFilter& f) {
  FilterSql out;
  std::vector<std::string> conditions;
  if (f.state) {
    if (*f.state == "unknown") {
      conditions.push_back("s.state IS NULL");
    } else {
      conditions.push_back("s.state = ?");
      out.text_args.push_back(*f.state);
    }
  }
  if (f.attention) {
    conditions.push_back("COALESCE(s.attention, 'none') = ?");
    out.text_args.push_back(*f.attention);
  }
  if (f.tag) {
    conditions.push_back("EXISTS (SELECT 1 FROM json_each(i.tags) WHERE json_each.value = ?)");
    out.text_args.push_back(*f.tag);
  }
  if (f.name_contains) {
    conditions.push_back("instr(lower(i.name), lower(?)) > 0");
    out.text_args.push_back(*f.name_contains);
  }
  for (std::size_t k = 0; k < conditions.size(); ++k) {
    out.where += (k == 0 ? " WHERE " : " AND ") + conditions[k];
  }
  return out;
}

void bindFilter(Statement& stmt, const FilterSql& f) {
  for (const auto& a : f.text_args) stmt, bind(a);
}

}  // namespace

InstanceRepository::InstanceRepository(Database& db, const fleet::Clock& clock)
    : db_(db), clock_(clock) {}

fleet::Result<std::vector<InstanceRow>, DuplicateInstance> InstanceRepository::create(
    std::vector<fleet::RegisteredInstance> instances) {
  const Poco::Int64 now_ms = fleet::toUnixMillis(clock_.wallNow());
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  for (std::size_t k = 0; k < instances.size(); ++k) {
    auto& in = instances[k];
    in.created_at = in.updated_at = fleet::fromUnixMillis(now_ms);
    Poco::Int64 id = in.id;
    std::string tags = encodeTags(in.tags);
    int enabled = in.enabled ? 1 : 0;
    Poco::Int64 ts = now_ms;
    try {
      *session << "INSERT INTO instances(id, api_url, token, name, tags, created_at, updated_at, "
                  "enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          use(id), use(in.api_url), use(in.token), use(in.name), use(tags), use(ts), use(ts),
          use(enabled), now;
    } catch (const Poco::Data::SQLite::ConstraintViolationException&) {
      return fleet::Unexpected(DuplicateInstance{k, in.id});
    }
    *session << "INSERT INTO instance_status(id) VALUES (?)", use(id), now;
  }
  tx.commit();
  std::vector<InstanceRow> rows;
  rows.reserve(instances.size());
  for (auto& in : instances) rows.push_back({std::move(in), StoredStatus{}});
  return rows;
}

std::optional<InstanceRow> InstanceRepository::get(std::int64_t id) {
  auto session = db_.acquire();
  Statement stmt(*session);
  Poco::Int64 key = id;
  stmt << std::string(kSelectColumns) + " WHERE i.id = ?", use(key);
  auto rows = readRows(stmt);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

InstancePage InstanceRepository::list(const InstanceFilter& filter) {
  const FilterSql f = filterSql(filter);
  auto session = db_.acquire();
  InstancePage page;
  {
    Statement count(*session);
    count << "SELECT COUNT(*) FROM instances i LEFT JOIN instance_status s ON s.id = i.id" +
                 f.where;
    bindFilter(count, f);
    count.execute();
    RecordSet rs(count);
    page.total = rs.value(0, 0).convert<Poco::Int64>();
  }
  std::string sql = kSelectColumns + f.where;
  if (filter.after_id) sql += f.where.empty() ? " WHERE i.id > ?" : " AND i.id > ?";
  sql += " ORDER BY i.id LIMIT ?";
  Statement stmt(*session);
  stmt << sql;
  bindFilter(stmt, f);
  if (filter.after_id) stmt, bind(static_cast<Poco::Int64>(*filter.after_id));
  // One extra row tells whether another page follows.
  stmt, bind(static_cast<Poco::Int64>(filter.limit + 1));
  page.items = readRows(stmt);
  if (page.items.size() > filter.limit) {
    page.items.pop_back();
    page.next_after_id = page.items.back().instance.id;
  }
  return page;
}

std::optional<InstanceRow> InstanceRepository::update(std::int64_t id, const InstancePatch& p) {
  {
    auto session = db_.acquire();
    WriteTransaction tx(*session);
    std::string sets = "updated_at = ?";
    Statement stmt(*session);
    Poco::Int64 now_ms = fleet::toUnixMillis(clock_.wallNow());
    std::vector<std::string> texts;
    if (p.api_url) sets += ", api_url = ?";
    if (p.token) sets += ", token = ?";
    if (p.name) sets += ", name = ?";
    if (p.tags) sets += ", tags = ?";
    if (p.enabled) sets += ", enabled = ?";
    stmt << "UPDATE instances SET " + sets + " WHERE id = ?";
    stmt, bind(now_ms);
    if (p.api_url) stmt, bind(*p.api_url);
    if (p.token) stmt, bind(*p.token);
    if (p.name) stmt, bind(*p.name);
    if (p.tags) stmt, bind(encodeTags(*p.tags));
    if (p.enabled) stmt, bind(*p.enabled ? 1 : 0);
    stmt, bind(static_cast<Poco::Int64>(id));
    if (stmt.execute() == 0) return std::nullopt;
    tx.commit();
  }
  return get(id);
}

bool InstanceRepository::remove(std::int64_t id) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Poco::Int64 key = id;
  Statement stmt(*session);
  stmt << "DELETE FROM instances WHERE id = ?", use(key);
  const bool removed = stmt.execute() > 0;
  tx.commit();
  return removed;
}

std::int64_t InstanceRepository::count() {
  auto session = db_.acquire();
  Poco::Int64 n = 0;
  *session << "SELECT COUNT(*) FROM instances", into(n), now;
  return n;
}

void InstanceRepository::forEachRow(const std::function<void(const InstanceRow&)>& sink) {
  auto session = db_.acquire();
  Statement stmt(*session);
  stmt << kSelectColumns + std::string(" ORDER BY i.id");
  for (const auto& row : readRows(stmt)) sink(row);
}

}  // namespace greenfleet::store
