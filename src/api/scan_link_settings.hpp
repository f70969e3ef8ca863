#pragma once
// ScanLinkSettings: how public scan links are issued and served (config keys scan_links.*,
// public.base_url), handed to the API by the composition root.

#include <chrono>
#include <functional>
#include <string>

namespace greenfleet::api {

struct ScanLinkSettings {
  std::chrono::seconds ttl{900};  // scan_links.ttl_s
  // public.base_url: what a link starts with ("https://fleet.example.com"); empty = built from
  // the listener that serves /s/ (the public one when enabled, else the admin one).
  std::string base_url;
  // "http://host:port" of that listener once it listens; set by the composition root.
  std::function<std::string()> listener_base_url;
  double link_rps = 2.0;    // scan_links.link_rps: requests per second per link (burst 10 s)
  double client_rps = 5.0;  // scan_links.client_rps: per client address, all links (burst 10 s)
};

}  // namespace greenfleet::api
