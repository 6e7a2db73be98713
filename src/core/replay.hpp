// replay.hpp: the chronological reduce of SPEC §3: which events are visible
// at a transaction time, their replay order, their transaction-time ranges,
// and the valid-time timeline of folded states.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "json.hpp"
#include "period.hpp"

namespace chronicle::core {

// EventKind distinguishes an ordinary event (or a correction, which has
// supersedes set) from chronicle's own markers.
enum class EventKind { Ordinary, Retraction, Marker };

// EventRef is what the reduce needs to know about one stored event.
struct EventRef {
  std::int64_t position = 0;
  std::optional<std::int64_t> supersedes;  // set on corrections and retractions
  Micros recorded_at = 0;
  Period valid;
  EventKind kind = EventKind::Ordinary;
  bool own = false;  // written by the reading transaction, not yet committed
};

// Horizon says which events are known: those with recorded_at <= known_at,
// plus the reader's own uncommitted events when include_own is set.
struct Horizon {
  Micros known_at = kInfinity;
  bool include_own = true;
  bool knows(const EventRef& e) const noexcept {
    return e.own ? include_own : e.recorded_at <= known_at;
  }
};

// ReplayItem is one visible event in replay order.
struct ReplayItem {
  std::size_t index;          // index into the input vector
  std::int64_t replay_position;  // position of the chain's original event
};

// replay_order returns the visible events in replay order: known events that
// are neither superseded by a known event nor retractions nor markers, sorted
// by (valid.from, replay_position), where replay_position is the position of
// the original event at the root of a correction chain. When valid_at is
// given, only events whose valid period contains it are returned.
std::vector<ReplayItem> replay_order(const std::vector<EventRef>& events, const Horizon& horizon,
                                     std::optional<Micros> valid_at = std::nullopt);

// superseded_at returns, for each input event, the recorded_at of the known
// event that supersedes it, or kInfinity; the result is parallel to events.
std::vector<Micros> superseded_at(const std::vector<EventRef>& events, const Horizon& horizon);

// TimelinePeriod is a valid-time period with the state folded over it.
struct TimelinePeriod {
  Period period;
  Json value;
};

// timeline folds the visible events (already in replay order, with their
// payloads) over every valid-time period delimited by their bounds, drops
// periods where no event applies, and coalesces adjacent periods with equal
// values.
std::vector<TimelinePeriod> timeline(const std::vector<Period>& valid, const std::vector<Json>& payloads);

}  // namespace chronicle::core
