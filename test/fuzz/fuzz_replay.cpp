// fuzz_replay.cpp: replay_order and superseded_at (replay.hpp) on random
// event sets. Each input line is one event,
//     position supersedes recorded_at valid_from valid_to flags
// with "." for "supersedes nothing", points as integers or "inf"/"-inf", and
// flags made of r (retraction), m (marker), o (own, uncommitted); missing
// fields default to ". 0 -inf inf". A line "@ known_at include_own valid_at"
// sets the horizon (valid_at "." for none). Both functions are checked
// against a naive reading of their header comments: which events are
// visible, the root of each correction chain, the sort order, and the
// earliest known superseding recorded_at; replay_order at a valid time must
// be the unrestricted order filtered; over committed events, visibility at
// known_at T must be recorded_at <= T < superseded_at. Cyclic chains (corrupt input) need not
// order any particular way but must not crash or hang.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.hpp"
#include "replay.hpp"

using chronicle::core::EventKind;
using chronicle::core::EventRef;
using chronicle::core::Horizon;
using chronicle::core::kInfinity;
using chronicle::core::Micros;
using chronicle::core::ReplayItem;
namespace core = chronicle::core;
namespace fuzz = chronicle::fuzz;

namespace {

// Input is the decoded event set and reading.
struct Input {
  std::vector<EventRef> events;
  Horizon horizon;
  std::optional<Micros> valid_at;
};

// decode reads the event lines and the horizon line.
Input decode(std::string_view text) {
  Input in;
  for (std::string_view line : fuzz::lines(text)) {
    auto tok = fuzz::tokens(line);
    if (tok.empty()) continue;
    if (tok[0] == "@") {
      if (tok.size() > 1)
        if (auto t = fuzz::to_micros(tok[1])) in.horizon.known_at = *t;
      if (tok.size() > 2) in.horizon.include_own = tok[2] != "0";
      if (tok.size() > 3) in.valid_at = fuzz::to_micros(tok[3]);
      continue;
    }
    auto pos = fuzz::to_int(tok[0]);
    if (!pos || in.events.size() == 48) continue;
    EventRef e;
    e.position = *pos;
    if (tok.size() > 1) e.supersedes = fuzz::to_int(tok[1]);
    if (tok.size() > 2) e.recorded_at = fuzz::to_micros(tok[2]).value_or(0);
    if (tok.size() > 3) e.valid.from = fuzz::to_micros(tok[3]).value_or(core::kMinusInfinity);
    if (tok.size() > 4) e.valid.to = fuzz::to_micros(tok[4]).value_or(kInfinity);
    if (tok.size() > 5) {
      std::string_view flags = tok[5];
      if (flags.find('r') != std::string_view::npos) e.kind = EventKind::Retraction;
      if (flags.find('m') != std::string_view::npos) e.kind = EventKind::Marker;
      e.own = flags.find('o') != std::string_view::npos;
    }
    in.events.push_back(e);
  }
  return in;
}

// first_with returns the index of the first event at position, if any.
std::optional<std::size_t> first_with(const std::vector<EventRef>& events, std::int64_t position) {
  for (std::size_t i = 0; i < events.size(); ++i)
    if (events[i].position == position) return i;
  return std::nullopt;
}

// naive_root walks i's correction chain to its original event; nullopt on a cycle.
std::optional<std::int64_t> naive_root(const std::vector<EventRef>& events, std::size_t i) {
  std::set<std::size_t> seen;
  for (std::size_t cur = i;;) {
    if (!seen.insert(cur).second) return std::nullopt;
    const EventRef& e = events[cur];
    if (!e.supersedes) return e.position;
    auto target = first_with(events, *e.supersedes);
    if (!target) return *e.supersedes;
    cur = *target;
  }
}

// describe renders the events for a failure message.
std::string describe(const Input& in) {
  std::string out = "@ " + fuzz::show(in.horizon.known_at) + " " + (in.horizon.include_own ? "1" : "0") + " " +
                    (in.valid_at ? fuzz::show(*in.valid_at) : ".") + "\n";
  for (const EventRef& e : in.events)
    out += std::to_string(e.position) + " " + (e.supersedes ? std::to_string(*e.supersedes) : ".") + " " +
           fuzz::show(e.recorded_at) + " " + fuzz::show(e.valid.from) + " " + fuzz::show(e.valid.to) + " " +
           (e.kind == EventKind::Retraction ? "r"
            : e.kind == EventKind::Marker   ? "m"
                                            : "-") +
           (e.own ? "o" : "") + "\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in = decode(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto& events = in.events;
  const Horizon& h = in.horizon;

  // superseded_at: the earliest recorded_at of a known event superseding
  // each event (the first event at a position is the one superseded).
  std::vector<Micros> sup = core::superseded_at(events, h);
  FUZZ_CHECK(sup.size() == events.size(), "superseded_at is not parallel to the events\n" + describe(in));
  std::vector<Micros> want_sup(events.size(), kInfinity);
  std::vector<bool> superseded(events.size(), false);
  for (const EventRef& e : events)
    if (h.knows(e) && e.supersedes)
      if (auto t = first_with(events, *e.supersedes)) {
        want_sup[*t] = std::min(want_sup[*t], e.recorded_at);
        superseded[*t] = true;
      }
  FUZZ_CHECK(sup == want_sup, "superseded_at differs from the naive reading\n" + describe(in));

  // replay_order: visible events, ordered by (valid.from, root, position).
  std::vector<ReplayItem> all = core::replay_order(events, h);
  std::vector<ReplayItem> at = core::replay_order(events, h, in.valid_at);
  bool acyclic = true;
  std::vector<std::int64_t> roots(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto r = naive_root(events, i);
    if (r)
      roots[i] = *r;
    else
      acyclic = false;
  }
  std::vector<std::size_t> want;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const EventRef& e = events[i];
    if (h.knows(e) && !superseded[i] && e.kind == EventKind::Ordinary) want.push_back(i);
  }
  std::vector<std::size_t> got;
  for (const ReplayItem& item : all) got.push_back(item.index);
  std::vector<std::size_t> got_sorted = got;
  std::sort(got_sorted.begin(), got_sorted.end());
  FUZZ_CHECK(got_sorted == want, "replay_order shows the wrong events\n" + describe(in));
  for (std::size_t i : got) FUZZ_CHECK(sup[i] == kInfinity, "a replayed event is superseded\n" + describe(in));
  if (acyclic) {
    std::stable_sort(want.begin(), want.end(), [&](std::size_t a, std::size_t b) {
      const EventRef& ea = events[a];
      const EventRef& eb = events[b];
      if (ea.valid.from != eb.valid.from) return ea.valid.from < eb.valid.from;
      if (roots[a] != roots[b]) return roots[a] < roots[b];
      return ea.position < eb.position;
    });
    FUZZ_CHECK(got == want, "replay_order is out of order\n" + describe(in));
    for (const ReplayItem& item : all)
      FUZZ_CHECK(item.replay_position == roots[item.index],
                 "wrong replay_position for event " + std::to_string(item.index) + "\n" + describe(in));
  }

  // At a valid time: the same order, filtered.
  std::vector<std::size_t> filtered, got_at;
  for (const ReplayItem& item : all)
    if (!in.valid_at || events[item.index].valid.contains(*in.valid_at)) filtered.push_back(item.index);
  for (const ReplayItem& item : at) got_at.push_back(item.index);
  FUZZ_CHECK(got_at == filtered, "replay_order at a valid time is not the filtered order\n" + describe(in));

  // Transaction-time ranges: knowing everything committed, superseded_at
  // tells which committed events are visible at any known_at T: those
  // recorded by T and superseded after T (kInfinity: never). A stamp is
  // never infinite (next_stamp), so infinite recorded_at skips this check.
  const Micros T = h.known_at;
  bool finite =
      std::none_of(events.begin(), events.end(), [](const EventRef& e) { return e.recorded_at == kInfinity; });
  std::vector<Micros> ends = core::superseded_at(events, Horizon{kInfinity, false});
  std::vector<bool> shown(events.size(), false);
  for (const ReplayItem& item : core::replay_order(events, Horizon{T, false})) shown[item.index] = true;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const EventRef& e = events[i];
    bool want_shown =
        !e.own && e.kind == EventKind::Ordinary && e.recorded_at <= T && (ends[i] == kInfinity || ends[i] > T);
    FUZZ_CHECK(!finite || shown[i] == want_shown, "event " + std::to_string(i) + " at known_at " + fuzz::show(T) +
                                                      " disagrees with its range [recorded_at, superseded_at)\n" +
                                                      describe(in));
  }
  std::vector<Micros> widest = core::superseded_at(events, Horizon{kInfinity, true});
  for (std::size_t i = 0; i < events.size(); ++i)
    FUZZ_CHECK(widest[i] <= sup[i] && widest[i] <= ends[i], "superseded_at grew with a wider horizon\n" + describe(in));
  return 0;
}
