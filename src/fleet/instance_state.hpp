#pragma once
// InstanceState: an upstream `stateInstance` value kept verbatim, plus our classification of it.
// Unknown strings are never dropped: they classify as StateKind::other and keep their text, so a
// new Green API state (suspended arrived in 2026-07) shows up as itself. Value type.

#include <optional>
#include <string>
#include <string_view>

namespace greenfleet::fleet {

enum class StateKind {
  unknown,       // never read (no probe answered yet); stored as NULL / ""
  initializing,  // `null` body or 401 right after creation (Green API issue #306)
  notAuthorized,
  authorized,
  blocked,
  starting,
  sleepMode,
  yellowCard,
  suspended,
  other,  // a value we do not know; raw text kept
};

std::string_view stateKindName(StateKind kind);
StateKind classifyState(std::string_view raw);

class InstanceState {
 public:
  InstanceState() = default;  // unknown
  // The raw `stateInstance` text as upstream sent it (or as stored).
  static InstanceState fromRaw(std::string raw);
  // A getStateInstance answer: nullopt = `null` body = initializing.
  static InstanceState fromUpstream(std::optional<std::string> raw);
  static InstanceState initializing();

  StateKind kind() const { return kind_; }
  // Verbatim text; "" for unknown, "initializing" for a null body.
  const std::string& raw() const { return raw_; }
  // What JSON shows: the raw text, or "unknown" when never read.
  std::string_view name() const;

  friend bool operator==(const InstanceState& a, const InstanceState& b) {
    return a.raw_ == b.raw_;
  }

 private:
  std::string raw_;
  StateKind kind_ = StateKind::unknown;
};

}  // namespace greenfleet::fleet
