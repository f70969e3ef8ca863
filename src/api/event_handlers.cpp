#include "api/event_handlers.hpp"

#include <charconv>
#include <memory>

#include <Poco/JSON/Array.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/event_hub.hpp"
#include "base/time_format.hpp"

namespace greenfleet::api {

namespace {
const std::set<std::string, std::less<>> kEventTypes = {"state_changed",
                                                        "attention_changed",
                                                        "scan_session_started",
                                                        "scan_session_ended",
                                                        "action",
                                                        "alert",
                                                        "scan_link",
                                                        "pairing_code",
                                                        "partner_instance_added",
                                                        "partner_token_rotated",
                                                        "partner_instance_expired",
                                                        "partner_instance_restored"};

Poco::Dynamic::Var opt(const std::optional<std::string>& s) {
  return s ? Poco::Dynamic::Var(*s) : Poco::Dynamic::Var();
}

Poco::JSON::Object::Ptr eventToJson(const store::StateEvent& e) {
  auto o = orderedObject();
  o->set("seq", static_cast<Poco::Int64>(e.seq));
  o->set("id", static_cast<Poco::Int64>(e.id));
  o->set("at", base::formatRfc3339(base::fromUnixMillis(e.at_ms)));
  o->set("type", e.type);
  o->set("fromState", opt(e.from_state));
  o->set("toState", opt(e.to_state));
  o->set("source", e.source);
  o->set("detail", opt(e.detail));
  o->set("actor", opt(e.actor));
  return o;
}

std::string sseFrame(const store::StateEvent& e) {
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.seq, e.type, toJsonText(*eventToJson(e)));
}

// The seq a reconnecting client saw last (Last-Event-ID), or -1 for a live-only stream.
std::int64_t lastEventId(const ApiRequest& request) {
  const std::string last_id = request.header("last-event-id");
  if (last_id.empty()) return -1;
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(last_id.data(), last_id.data() + last_id.size(), v);
  if (ec != std::errc() || ptr != last_id.data() + last_id.size() || v < 0) {
    throw ApiError::badRequest("invalid_last_event_id", "Last-Event-ID must be an event seq");
  }
  return v;
}

std::shared_ptr<EventHub::Subscription> subscribe(EventHub& events, const ApiRequest& request) {
  EventHub::Refusal refusal = EventHub::Refusal::none;
  auto sub = events.subscribe(request.caller ? request.caller->name : std::string(), &refusal);
  if (sub) return sub;
  ApiError e(ErrorKind::unavailable, "too_many_subscribers",
             refusal == EventHub::Refusal::owner_full
                 ? "this API key has too many event streams open; close one or try later"
                 : "too many event streams are open; try again later");
  e.headers.emplace_back("Retry-After", "5");
  throw e;
}

// The frames of the events after `last_sent` (none for a live-only stream, -1), advancing
// `last_sent` to the last one framed.
std::string backlogFrames(store::StateEventLog& log, std::int64_t& last_sent) {
  std::string frames;
  if (last_sent < 0) {
    // A live-only stream starts at the newest event committed now; anything later is queued
    // for this subscription already.
    last_sent = log.latestSeq();
    return frames;
  }
  while (true) {
    const auto backlog = log.after(last_sent, 500);
    for (const auto& e : backlog) {
      frames += sseFrame(e);
      last_sent = e.seq;
    }
    if (backlog.size() < 500) return frames;
  }
}

// The subscription's sink: frames the events the stream has not sent yet; false once the
// stream is gone or refuses more.
EventHub::Sink frameSink(std::weak_ptr<http::Stream> weak, std::int64_t last_sent) {
  return [weak, last_sent](const std::vector<store::StateEvent>& batch) mutable {
    const auto out = weak.lock();
    if (!out) return false;
    std::string frames;
    for (const auto& e : batch) {
      if (e.seq <= last_sent) continue;
      frames += sseFrame(e);
      last_sent = e.seq;
    }
    return frames.empty() || out->send(std::move(frames));
  };
}
}  // namespace

ApiResponse EventHandlers::list(ApiRequest& request) {
  request.allowQuery({"after", "limit", "id", "type"});
  const auto after = request.queryInt("after", 0, 0, std::numeric_limits<std::int64_t>::max());
  const auto limit = request.queryInt("limit", 100, 1, 1000);
  std::optional<std::int64_t> id;
  if (request.query.count("id"))
    id = request.queryInt("id", 0, 1, std::numeric_limits<std::int64_t>::max());
  std::optional<std::string> type;
  if (const auto it = request.query.find("type"); it != request.query.end()) {
    if (kEventTypes.count(it->second) == 0) {
      throw ApiError::unprocessable(
          "type must be one of state_changed, attention_changed, scan_session_started, "
          "scan_session_ended, action, alert, scan_link, pairing_code",
          "type");
    }
    type = it->second;
  }
  const auto events =
      context_.events.log().after(after, static_cast<std::size_t>(limit), id, std::nullopt, type);
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (const auto& e : events) items->add(eventToJson(e));
  auto root = orderedObject();
  root->set("items", items);
  root->set("nextAfter", static_cast<Poco::Int64>(events.empty() ? after : events.back().seq));
  return ApiResponse::json(200, *root);
}

ApiResponse EventHandlers::history(ApiRequest& request) {
  request.allowQuery({"limit"});
  const auto id = request.instanceId();
  if (!context_.instances.get(id)) throw ApiError::notFound(fmt::format("no instance {}", id));
  const auto limit = request.queryInt("limit", 100, 1, 1000);
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (const auto& e : context_.events.log().history(id, static_cast<std::size_t>(limit))) {
    items->add(eventToJson(e));
  }
  auto root = orderedObject();
  root->set("items", items);
  return ApiResponse::json(200, *root);
}

ApiResponse EventHandlers::stream(ApiRequest& request) {
  request.allowQuery({});
  std::int64_t last_sent = lastEventId(request);
  auto& events = context_.events;
  // Subscribe before reading the backlog so nothing committed in between is missed; seq
  // removes the overlap.
  auto sub = subscribe(events, request);
  std::string opening = "retry: 2000\n\n";
  try {
    opening += backlogFrames(events.log(), last_sent);
  } catch (...) {
    events.unsubscribe(sub);
    throw;
  }
  ApiResponse r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("X-Accel-Buffering", "no");
  r.stream_options.heartbeat = context_.sse_heartbeat;
  r.stream_options.heartbeat_data = ": heartbeat\n\n";
  r.stream = [&events, sub, last_sent,
              opening = std::move(opening)](const std::shared_ptr<http::Stream>& stream) mutable {
    // The slot is released when the client leaves, the front drops it, or the server stops.
    stream->onClose([&events, sub] { events.unsubscribe(sub); });
    stream->send(std::move(opening));
    std::weak_ptr<http::Stream> weak = stream;
    sub->attach(frameSink(weak, last_sent), [weak] {
      if (const auto out = weak.lock()) out->close();
    });
  };
  return r;
}

}  // namespace greenfleet::api
