// replay.cpp: the chronological reduce (SPEC §3): visibility at a
// transaction time, replay order, transaction-time ranges and timelines.
#include "replay.hpp"

#include <algorithm>
#include <unordered_map>

#include "error.hpp"

namespace chronicle::core {

namespace {

using PositionIndex = std::unordered_map<std::int64_t, std::size_t>;

// index_positions maps each position to the index of its (first) event.
PositionIndex index_positions(const std::vector<EventRef>& events) {
  PositionIndex index;
  index.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) index.emplace(events[i].position, i);
  return index;
}

// target_of returns the index of the event e supersedes, or nullopt when e
// supersedes nothing or its target is not among the events.
std::optional<std::size_t> target_of(const EventRef& e, const PositionIndex& index) {
  if (!e.supersedes) return std::nullopt;
  auto found = index.find(*e.supersedes);
  if (found == index.end()) return std::nullopt;
  return found->second;
}

// replay_positions returns, for each event, the position of the original
// event at the root of its correction chain; a chain whose root is missing
// ends at the last supersedes value. A cycle (corrupt input) ends the walk.
std::vector<std::int64_t> replay_positions(const std::vector<EventRef>& events, const PositionIndex& index) {
  std::vector<std::optional<std::int64_t>> root(events.size());
  std::vector<std::size_t> path;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i % 4096 == 0) poll_cancel();
    path.clear();
    std::size_t cur = i;
    std::int64_t found_root;
    for (;;) {
      if (root[cur]) {
        found_root = *root[cur];
        break;
      }
      path.push_back(cur);
      const EventRef& e = events[cur];
      if (!e.supersedes) {
        found_root = e.position;
        break;
      }
      auto target = target_of(e, index);
      if (!target) {
        found_root = *e.supersedes;
        break;
      }
      if (path.size() > events.size()) {  // a cycle
        found_root = e.position;
        break;
      }
      cur = *target;
    }
    for (std::size_t p : path) root[p] = found_root;
  }
  std::vector<std::int64_t> out;
  out.reserve(events.size());
  for (const auto& r : root) out.push_back(*r);
  return out;
}

// superseded_flags marks each event superseded by a known event.
std::vector<bool> superseded_flags(const std::vector<EventRef>& events, const PositionIndex& index,
                                   const Horizon& horizon) {
  std::vector<bool> superseded(events.size(), false);
  for (const EventRef& e : events)
    if (horizon.knows(e))
      if (auto target = target_of(e, index)) superseded[*target] = true;
  return superseded;
}

}  // namespace

// replay_order returns the visible events sorted by (valid.from,
// replay_position, position).
std::vector<ReplayItem> replay_order(const std::vector<EventRef>& events, const Horizon& horizon,
                                     std::optional<Micros> valid_at) {
  PositionIndex index = index_positions(events);
  std::vector<bool> superseded = superseded_flags(events, index, horizon);
  std::vector<std::int64_t> roots = replay_positions(events, index);
  std::vector<ReplayItem> items;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const EventRef& e = events[i];
    if (!horizon.knows(e) || superseded[i] || e.kind != EventKind::Ordinary) continue;
    if (valid_at && !e.valid.contains(*valid_at)) continue;
    items.push_back(ReplayItem{i, roots[i]});
  }
  std::stable_sort(items.begin(), items.end(), [&](const ReplayItem& a, const ReplayItem& b) {
    const EventRef& ea = events[a.index];
    const EventRef& eb = events[b.index];
    if (ea.valid.from != eb.valid.from) return ea.valid.from < eb.valid.from;
    if (a.replay_position != b.replay_position) return a.replay_position < b.replay_position;
    return ea.position < eb.position;
  });
  return items;
}

// superseded_at returns, for each event, the earliest recorded_at among the
// known events superseding it, or kInfinity.
std::vector<Micros> superseded_at(const std::vector<EventRef>& events, const Horizon& horizon) {
  PositionIndex index = index_positions(events);
  std::vector<Micros> out(events.size(), kInfinity);
  for (const EventRef& e : events)
    if (horizon.knows(e))
      if (auto target = target_of(e, index)) out[*target] = std::min(out[*target], e.recorded_at);
  return out;
}

// timeline folds, over each elementary valid-time interval, the payloads of
// the events whose period covers it, and coalesces equal neighbours.
std::vector<TimelinePeriod> timeline(const std::vector<Period>& valid, const std::vector<Json>& payloads) {
  if (valid.size() != payloads.size())
    throw Error("XX000", "timeline needs one payload per valid period",
                std::to_string(valid.size()) + " periods and " + std::to_string(payloads.size()) +
                    " payloads were given.");
  std::vector<Micros> bounds = boundaries(valid);
  std::vector<TimelinePeriod> out;
  // The previous interval's events and fold: when this interval's events
  // extend them (the common case of events valid from their time on), the
  // fold continues from it instead of starting over (a left fold).
  std::vector<std::size_t> prev, cur;
  std::optional<Json> prev_value;
  std::vector<Json> applying;
  for (std::size_t b = 0; b + 1 < bounds.size(); ++b) {
    poll_cancel();
    Period interval{bounds[b], bounds[b + 1]};
    cur.clear();
    for (std::size_t i = 0; i < valid.size(); ++i)
      if (valid[i].contains(interval.from)) cur.push_back(i);
    applying.clear();
    bool extends = prev_value && !prev.empty() && prev.size() <= cur.size() &&
                   std::equal(prev.begin(), prev.end(), cur.begin());
    if (extends) applying.push_back(*prev_value);
    for (std::size_t k = extends ? prev.size() : 0; k < cur.size(); ++k) applying.push_back(payloads[cur[k]]);
    std::optional<Json> value = fold_merge_patch(applying);
    prev.swap(cur);
    prev_value = value;
    if (!value) continue;
    if (!out.empty() && out.back().period.to == interval.from && out.back().value == *value)
      out.back().period.to = interval.to;
    else
      out.push_back(TimelinePeriod{interval, std::move(*value)});
  }
  return out;
}

}  // namespace chronicle::core
