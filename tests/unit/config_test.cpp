#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string_view>
#include <vector>

#include "base/comma_list.hpp"
#include "config/config.hpp"
#include "support/temp_dir.hpp"

using namespace greenfleet::config;

TEST_CASE("etc/greenfleet.properties lists every key with its default") {
  std::ifstream in(std::string(GREENFLEET_SOURCE_DIR) + "/etc/greenfleet.properties");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  for (const auto& k : configKeys()) {
    CAPTURE(k.key);
    const std::string line = std::string(k.key) + " =" +
                             (k.default_value.empty() ? "" : " " + std::string(k.default_value)) +
                             "\n";
    CHECK(text.find(line) != std::string::npos);
  }
  const auto c =
      Config::load(std::string(GREENFLEET_SOURCE_DIR) + "/etc/greenfleet.properties", {}, {});
  for (const auto& k : configKeys()) CHECK(c.getString(k.key) == k.default_value);
}

TEST_CASE("environment overrides the file and flags override both") {
  greenfleet::testing::TempDir dir;
  std::ofstream(dir.file("a.properties")) << "http.port = 1000\nlog.level = debug\n";
  const auto c = Config::load(dir.file("a.properties"), {{"GREENFLEET_HTTP_PORT", "2000"}},
                              {{"log.level", "trace"}});
  CHECK(c.getInt("http.port", 0, 65535) == 2000);
  CHECK(c.sourceOf("http.port") == "env");
  CHECK(c.getString("log.level") == "trace");
  CHECK(c.sourceOf("log.level") == "flag");
  CHECK(c.getString("http.host") == "127.0.0.1");
  CHECK(c.sourceOf("http.host") == "default");
}

TEST_CASE("an unknown key or a bad value is a clear error") {
  greenfleet::testing::TempDir dir;
  std::ofstream(dir.file("b.properties")) << "http.prot = 1000\n";
  CHECK_THROWS_WITH_AS(Config::load(dir.file("b.properties"), {}, {}),
                       doctest::Contains("unknown configuration key 'http.prot'"), ConfigError);
  const auto c = Config::load("", {{"GREENFLEET_HTTP_PORT", "eighty"}}, {});
  CHECK_THROWS_WITH_AS(c.getInt("http.port", 0, 65535), doctest::Contains("from env"), ConfigError);
  CHECK(envVarFor("http.keep_alive_timeout_s") == "GREENFLEET_HTTP_KEEP_ALIVE_TIMEOUT_S");
}

TEST_CASE("the retired upstream.workers is refused with a message naming its replacements") {
  greenfleet::testing::TempDir dir;
  std::ofstream(dir.file("old.properties")) << "upstream.workers = 32\n";
  for (const auto& load : std::vector<std::function<Config()>>{
           [&] { return Config::load(dir.file("old.properties"), {}, {}); },
           [] {
             return Config::load("", {{"GREENFLEET_UPSTREAM_WORKERS", "32"}}, {});
           },
           [] {
             return Config::load("", {}, {{"upstream.workers", "32"}});
           }}) {
    try {
      load();
      FAIL("upstream.workers was accepted");
    } catch (const ConfigError& e) {
      const std::string text = e.what();
      CHECK(text.find("upstream.workers") != std::string::npos);
      CHECK(text.find("upstream.max_in_flight") != std::string::npos);
      CHECK(text.find("upstream.io_threads") != std::string::npos);
    }
  }
  const auto c = Config::load("", {}, {});
  CHECK(c.getString("upstream.max_in_flight") == "4096");
  CHECK(c.getString("upstream.io_threads") == "1");
}

TEST_CASE("splitCommaList trims the given blanks and leaves out empty items") {
  using greenfleet::base::splitCommaList;
  using V = std::vector<std::string_view>;
  CHECK(splitCommaList("") == V{});
  CHECK(splitCommaList(" , ,") == V{});
  CHECK(splitCommaList(" a ,b,, c d ") == V{"a", "b", "c d"});
  CHECK(splitCommaList("\ta\t, b") == V{"\ta\t", "b"});  // only spaces by default
  CHECK(splitCommaList("\ta\t, b", " \t") == V{"a", "b"});
}
