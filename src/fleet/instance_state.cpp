#include "fleet/instance_state.hpp"

#include <array>
#include <utility>

namespace greenfleet::fleet {

namespace {

struct KindName {
  StateKind kind;
  std::string_view name;
};

constexpr std::array<KindName, 10> kKindNames{{
    {StateKind::unknown, "unknown"},
    {StateKind::initializing, "initializing"},
    {StateKind::notAuthorized, "notAuthorized"},
    {StateKind::authorized, "authorized"},
    {StateKind::blocked, "blocked"},
    {StateKind::starting, "starting"},
    {StateKind::sleepMode, "sleepMode"},
    {StateKind::yellowCard, "yellowCard"},
    {StateKind::suspended, "suspended"},
    {StateKind::other, "other"},
}};

}  // namespace

std::string_view stateKindName(StateKind kind) {
  for (const auto& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "other";
}

StateKind classifyState(std::string_view raw) {
  // Exact, case-sensitive match: upstream spells these in camelCase and a different spelling is a
  // different value we must not silently merge. "other" is not an upstream value, so a literal
  // "other" stays StateKind::other with its text, which is the same thing.
  if (raw.empty()) return StateKind::unknown;
  for (const auto& k : kKindNames) {
    if (k.name == raw) return k.kind;
  }
  return StateKind::other;
}

InstanceState InstanceState::fromRaw(std::string raw) {
  InstanceState s;
  s.kind_ = classifyState(raw);
  s.raw_ = s.kind_ == StateKind::unknown ? std::string() : std::move(raw);
  return s;
}

InstanceState InstanceState::fromUpstream(std::optional<std::string> raw) {
  if (!raw) return initializing();
  return fromRaw(std::move(*raw));
}

InstanceState InstanceState::initializing() { return fromRaw("initializing"); }

std::string_view InstanceState::name() const {
  if (kind_ == StateKind::unknown) return "unknown";
  return raw_;
}

}  // namespace greenfleet::fleet
