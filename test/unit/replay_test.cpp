// replay_test.cpp: visibility, replay order, corrections and retractions,
// transaction-time ranges and valid-time timelines (SPEC §3).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error.hpp"
#include "json.hpp"
#include "replay.hpp"

namespace chronicle::core {
namespace {

// event builds an ordinary committed event valid over [from, to).
EventRef event(std::int64_t position, Micros recorded_at, Micros from, Micros to = kInfinity) {
  EventRef e;
  e.position = position;
  e.recorded_at = recorded_at;
  e.valid = Period{from, to};
  return e;
}

// correction builds a committed event that supersedes target.
EventRef correction(std::int64_t position, std::int64_t target, Micros recorded_at, Micros from,
                    Micros to = kInfinity) {
  EventRef e = event(position, recorded_at, from, to);
  e.supersedes = target;
  return e;
}

// retraction builds a committed retraction of target.
EventRef retraction(std::int64_t position, std::int64_t target, Micros recorded_at) {
  EventRef e = event(position, recorded_at, recorded_at);
  e.supersedes = target;
  e.kind = EventKind::Retraction;
  return e;
}

// positions returns the positions of the replayed events, in replay order.
std::vector<std::int64_t> positions(const std::vector<EventRef>& events, const Horizon& horizon,
                                    std::optional<Micros> valid_at = std::nullopt) {
  std::vector<std::int64_t> out;
  for (const ReplayItem& item : replay_order(events, horizon, valid_at)) out.push_back(events[item.index].position);
  return out;
}

// known_at returns a horizon at T that includes the reader's own events.
Horizon known_at(Micros t) { return Horizon{t, true}; }

// J parses JSON text.
Json J(const std::string& text) { return parse_json(text); }

using Positions = std::vector<std::int64_t>;

TEST(ReplayOrder, EmptyInput) { EXPECT_TRUE(replay_order({}, Horizon{}).empty()); }

TEST(ReplayOrder, ByValidFromThenPosition) {
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 50), event(3, 300, 100), event(4, 400, 10)};
  EXPECT_EQ(positions(events, Horizon{}), (Positions{4, 2, 1, 3}));
  auto items = replay_order(events, Horizon{});
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].index, 3u);
  EXPECT_EQ(items[0].replay_position, 4);
  EXPECT_EQ(items[2].index, 0u);
  EXPECT_EQ(items[2].replay_position, 1);
}

TEST(ReplayOrder, IndexesReferToInputOrder) {
  std::vector<EventRef> events = {event(3, 300, 300), event(1, 100, 100), event(2, 200, 200)};
  auto items = replay_order(events, Horizon{});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].index, 1u);
  EXPECT_EQ(items[1].index, 2u);
  EXPECT_EQ(items[2].index, 0u);
}

TEST(ReplayOrder, InfiniteValidFromComesFirst) {
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, kMinusInfinity), event(3, 300, kMinusInfinity)};
  EXPECT_EQ(positions(events, Horizon{}), (Positions{2, 3, 1}));
}

TEST(ReplayOrder, KnownAtHidesLaterEvents) {
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 200), event(3, 300, 50)};
  EXPECT_EQ(positions(events, known_at(99)), Positions{});
  EXPECT_EQ(positions(events, known_at(100)), (Positions{1}));
  EXPECT_EQ(positions(events, known_at(299)), (Positions{1, 2}));
  EXPECT_EQ(positions(events, known_at(300)), (Positions{3, 1, 2}));
  EXPECT_EQ(positions(events, known_at(kMinusInfinity)), Positions{});
}

TEST(ReplayOrder, CorrectionTakesThePlaceOfTheEventItReplaces) {
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 100), correction(3, 1, 300, 100)};
  auto items = replay_order(events, Horizon{});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(events[items[0].index].position, 3);
  EXPECT_EQ(items[0].replay_position, 1);
  EXPECT_EQ(events[items[1].index].position, 2);
  EXPECT_EQ(items[1].replay_position, 2);
  // Before the correction was recorded, the original stands.
  EXPECT_EQ(positions(events, known_at(299)), (Positions{1, 2}));
}

TEST(ReplayOrder, CorrectionMayMoveInValidTime) {
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 200), correction(3, 1, 300, 250)};
  EXPECT_EQ(positions(events, Horizon{}), (Positions{2, 3}));
}

TEST(ReplayOrder, ChainOfCorrections) {
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 150, 100), correction(3, 1, 200, 100),
                                  correction(4, 3, 300, 100), correction(5, 4, 400, 100)};
  auto items = replay_order(events, Horizon{});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(events[items[0].index].position, 5);
  EXPECT_EQ(items[0].replay_position, 1);
  EXPECT_EQ(events[items[1].index].position, 2);
  EXPECT_EQ(positions(events, known_at(100)), (Positions{1}));
  EXPECT_EQ(positions(events, known_at(150)), (Positions{1, 2}));
  EXPECT_EQ(positions(events, known_at(200)), (Positions{3, 2}));
  EXPECT_EQ(positions(events, known_at(300)), (Positions{4, 2}));
}

TEST(ReplayOrder, ChainRootOutsideTheInput) {
  // Position 2 is not in the input (another stream, or not loaded): the
  // correction replays at position 2, before position 3.
  std::vector<EventRef> events = {event(3, 100, 100), correction(5, 2, 200, 100)};
  auto items = replay_order(events, Horizon{});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(events[items[0].index].position, 5);
  EXPECT_EQ(items[0].replay_position, 2);
  EXPECT_EQ(events[items[1].index].position, 3);
  // A chain whose root is missing ends at the last known link.
  std::vector<EventRef> chain = {event(3, 100, 100), correction(6, 5, 300, 100), correction(5, 2, 200, 100)};
  auto chained = replay_order(chain, Horizon{});
  ASSERT_EQ(chained.size(), 2u);
  EXPECT_EQ(chain[chained[0].index].position, 6);
  EXPECT_EQ(chained[0].replay_position, 2);
}

TEST(ReplayOrder, RetractionRemovesBoth) {
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 200), retraction(3, 1, 300)};
  EXPECT_EQ(positions(events, Horizon{}), (Positions{2}));
  EXPECT_EQ(positions(events, known_at(299)), (Positions{1, 2}));
}

TEST(ReplayOrder, RetractionOfACorrection) {
  std::vector<EventRef> events = {event(1, 100, 100), correction(2, 1, 200, 100), retraction(3, 2, 300),
                                  event(4, 400, 400)};
  EXPECT_EQ(positions(events, Horizon{}), (Positions{4}));
  EXPECT_EQ(positions(events, known_at(250)), (Positions{2}));
  EXPECT_EQ(positions(events, known_at(150)), (Positions{1}));
}

TEST(ReplayOrder, UnmatchedRetractionIsNeverReturned) {
  std::vector<EventRef> events = {event(1, 100, 100), retraction(2, 99, 200)};
  EXPECT_EQ(positions(events, Horizon{}), (Positions{1}));
}

TEST(ReplayOrder, MarkersAreNeverReturned) {
  EventRef marker = event(2, 200, 150);
  marker.kind = EventKind::Marker;
  std::vector<EventRef> events = {event(1, 100, 100), marker, event(3, 300, 300)};
  EXPECT_EQ(positions(events, Horizon{}), (Positions{1, 3}));
}

TEST(ReplayOrder, OwnEventsFollowIncludeOwn) {
  EventRef own = event(3, 500, 100);  // recorded_at is provisional for own events
  own.own = true;
  EventRef own_correction = correction(4, 1, 500, 100);
  own_correction.own = true;
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 200), own, own_correction};
  // Own events are known whatever known_at says, when included.
  EXPECT_EQ(positions(events, Horizon{kInfinity, true}), (Positions{4, 3, 2}));
  EXPECT_EQ(positions(events, Horizon{150, true}), (Positions{4, 3}));
  // Without them, the committed story stands, and the own correction does
  // not hide event 1.
  EXPECT_EQ(positions(events, Horizon{kInfinity, false}), (Positions{1, 2}));
  EXPECT_EQ(positions(events, Horizon{150, false}), (Positions{1}));
}

TEST(ReplayOrder, OwnRetraction) {
  EventRef own_retraction = retraction(3, 2, 0);
  own_retraction.own = true;
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 200), own_retraction};
  EXPECT_EQ(positions(events, Horizon{kInfinity, true}), (Positions{1}));
  EXPECT_EQ(positions(events, Horizon{kInfinity, false}), (Positions{1, 2}));
}

TEST(ReplayOrder, ValidAtFilter) {
  std::vector<EventRef> events = {event(1, 100, 0, 10), event(2, 200, 10, 20), event(3, 300, kMinusInfinity),
                                  event(4, 400, 5, kInfinity)};
  EXPECT_EQ(positions(events, Horizon{}, Micros{-1}), (Positions{3}));
  EXPECT_EQ(positions(events, Horizon{}, Micros{0}), (Positions{3, 1}));
  EXPECT_EQ(positions(events, Horizon{}, Micros{5}), (Positions{3, 1, 4}));
  EXPECT_EQ(positions(events, Horizon{}, Micros{10}), (Positions{3, 4, 2}));  // 1 ends at 10
  EXPECT_EQ(positions(events, Horizon{}, Micros{20}), (Positions{3, 4}));
  EXPECT_EQ(positions(events, Horizon{}, kMinusInfinity), (Positions{3}));
  EXPECT_EQ(positions(events, Horizon{}, kInfinity), Positions{});
  EXPECT_EQ(positions(events, Horizon{}), (Positions{3, 1, 4, 2}));
}

TEST(ReplayOrder, ValidAtUsesTheCorrectionsPeriod) {
  std::vector<EventRef> events = {event(1, 100, 0, 10), correction(2, 1, 200, 0, 5)};
  EXPECT_EQ(positions(events, Horizon{}, Micros{7}), Positions{});
  EXPECT_EQ(positions(events, Horizon{}, Micros{3}), (Positions{2}));
  EXPECT_EQ(positions(events, known_at(100), Micros{7}), (Positions{1}));
}

TEST(SupersededAt, TransactionTimeRanges) {
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 200), correction(3, 1, 300, 100),
                                  retraction(4, 2, 400), correction(5, 3, 500, 100)};
  EXPECT_EQ(superseded_at(events, Horizon{}), (std::vector<Micros>{300, 400, 500, kInfinity, kInfinity}));
  EXPECT_EQ(superseded_at(events, known_at(450)), (std::vector<Micros>{300, 400, kInfinity, kInfinity, kInfinity}));
  EXPECT_EQ(superseded_at(events, known_at(100)),
            (std::vector<Micros>{kInfinity, kInfinity, kInfinity, kInfinity, kInfinity}));
  EXPECT_TRUE(superseded_at({}, Horizon{}).empty());
}

TEST(SupersededAt, EarliestSupersederWins) {
  // Two corrections of one event (possible across concurrent writers).
  std::vector<EventRef> events = {event(1, 100, 100), correction(3, 1, 700, 100), correction(2, 1, 600, 100)};
  EXPECT_EQ(superseded_at(events, Horizon{}), (std::vector<Micros>{600, kInfinity, kInfinity}));
  EXPECT_EQ(superseded_at(events, known_at(650)), (std::vector<Micros>{600, kInfinity, kInfinity}));
  EXPECT_EQ(superseded_at(events, known_at(599))[0], kInfinity);
}

TEST(SupersededAt, OwnSupersederCountsWithItsStamp) {
  EventRef own = correction(2, 1, 900, 100);
  own.own = true;
  std::vector<EventRef> events = {event(1, 100, 100), own};
  EXPECT_EQ(superseded_at(events, Horizon{150, true}), (std::vector<Micros>{900, kInfinity}));
  EXPECT_EQ(superseded_at(events, Horizon{kInfinity, false}), (std::vector<Micros>{kInfinity, kInfinity}));
}

TEST(Timeline, Empty) { EXPECT_TRUE(timeline({}, {}).empty()); }

TEST(Timeline, ShoppingCart) {
  std::vector<Period> valid = {Period{100, kInfinity}, Period{200, kInfinity}, Period{300, kInfinity}};
  std::vector<Json> payloads = {J(R"({"trousers": 3})"), J(R"({"trousers": 1})"), J(R"({"status": "paid"})")};
  auto periods = timeline(valid, payloads);
  ASSERT_EQ(periods.size(), 3u);
  EXPECT_EQ(periods[0].period, (Period{100, 200}));
  EXPECT_EQ(to_json_text(periods[0].value), R"({"trousers":3})");
  EXPECT_EQ(periods[1].period, (Period{200, 300}));
  EXPECT_EQ(to_json_text(periods[1].value), R"({"trousers":1})");
  EXPECT_EQ(periods[2].period, (Period{300, kInfinity}));
  EXPECT_EQ(to_json_text(periods[2].value), R"({"trousers":1,"status":"paid"})");
}

TEST(Timeline, GapsAreDropped) {
  auto periods = timeline({Period{0, 10}, Period{20, 30}}, {J(R"({"a":1})"), J(R"({"b":1})")});
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(periods[0].period, (Period{0, 10}));
  EXPECT_EQ(periods[0].value, J(R"({"a":1})"));
  EXPECT_EQ(periods[1].period, (Period{20, 30}));
  EXPECT_EQ(periods[1].value, J(R"({"b":1})"));
}

TEST(Timeline, EqualNeighboursCoalesce) {
  // The second event changes nothing: one period, whatever the number text.
  auto periods = timeline({Period{kMinusInfinity, kInfinity}, Period{10, 20}}, {J(R"({"a":1})"), J(R"({"a":1.0})")});
  ASSERT_EQ(periods.size(), 1u);
  EXPECT_EQ(periods[0].period, (Period{kMinusInfinity, kInfinity}));
  EXPECT_EQ(periods[0].value, J(R"({"a":1})"));
}

TEST(Timeline, EqualValuesAcrossAGapStayApart) {
  auto periods = timeline({Period{0, 10}, Period{20, 30}}, {J(R"({"x":1})"), J(R"({"x":1})")});
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(periods[0].period, (Period{0, 10}));
  EXPECT_EQ(periods[1].period, (Period{20, 30}));
}

TEST(Timeline, AdjacentSeparatePeriodsCoalesce) {
  auto periods = timeline({Period{0, 10}, Period{10, 30}, Period{30, 40}},
                          {J(R"({"x":1,"y":2})"), J(R"({"y":2,"x":1})"), J(R"({"x":2})")});
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(periods[0].period, (Period{0, 30}));
  EXPECT_EQ(periods[1].period, (Period{30, 40}));
  EXPECT_EQ(periods[1].value, J(R"({"x":2})"));
}

TEST(Timeline, BoundedChangeInTheMiddle) {
  auto periods = timeline({Period{0, kInfinity}, Period{10, 20}}, {J(R"({"a":1,"b":2})"), J(R"({"b":null})")});
  ASSERT_EQ(periods.size(), 3u);
  EXPECT_EQ(periods[0].period, (Period{0, 10}));
  EXPECT_EQ(periods[0].value, J(R"({"a":1,"b":2})"));
  EXPECT_EQ(periods[1].period, (Period{10, 20}));
  EXPECT_EQ(periods[1].value, J(R"({"a":1})"));
  EXPECT_EQ(periods[2].period, (Period{20, kInfinity}));
  EXPECT_EQ(periods[2].value, J(R"({"a":1,"b":2})"));
}

TEST(Timeline, FoldsInTheGivenOrder) {
  auto ab = timeline({Period{0, 10}, Period{0, 10}}, {J(R"({"s":"a"})"), J(R"({"s":"b"})")});
  auto ba = timeline({Period{0, 10}, Period{0, 10}}, {J(R"({"s":"b"})"), J(R"({"s":"a"})")});
  ASSERT_EQ(ab.size(), 1u);
  ASSERT_EQ(ba.size(), 1u);
  EXPECT_EQ(ab[0].value, J(R"({"s":"b"})"));
  EXPECT_EQ(ba[0].value, J(R"({"s":"a"})"));
}

TEST(Timeline, ScalarPayloadsAndNull) {
  auto periods = timeline({Period{0, 10}, Period{5, 10}}, {J("1"), J("null")});
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(periods[0].value, J("1"));
  EXPECT_EQ(periods[1].period, (Period{5, 10}));
  EXPECT_TRUE(periods[1].value.is_null());
}

TEST(Timeline, MismatchedInputsAreRefused) {
  try {
    timeline({Period{0, 1}}, {});
    ADD_FAILURE() << "timeline accepted mismatched inputs";
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "XX000");
  }
}

TEST(Timeline, FromReplayWithCorrection) {
  // A backdated correction of the first cart event, known since 400.
  std::vector<EventRef> events = {event(1, 100, 100), event(2, 200, 200), event(3, 300, 300),
                                  correction(4, 1, 400, 100)};
  std::vector<Json> payloads = {J(R"({"trousers":3})"), J(R"({"trousers":1})"), J(R"({"status":"paid"})"),
                                J(R"({"trousers":3,"shirts":2})")};
  auto fold = [&](const Horizon& horizon) {
    std::vector<Period> valid;
    std::vector<Json> ordered;
    for (const ReplayItem& item : replay_order(events, horizon)) {
      valid.push_back(events[item.index].valid);
      ordered.push_back(payloads[item.index]);
    }
    return timeline(valid, ordered);
  };
  auto now = fold(Horizon{});
  ASSERT_EQ(now.size(), 3u);
  EXPECT_EQ(to_json_text(now[0].value), R"({"trousers":3,"shirts":2})");
  EXPECT_EQ(to_json_text(now[2].value), R"({"trousers":1,"shirts":2,"status":"paid"})");
  EXPECT_EQ(now[2].period, (Period{300, kInfinity}));
  auto before = fold(known_at(399));
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(to_json_text(before[2].value), R"({"trousers":1,"status":"paid"})");
  auto early = fold(known_at(150));
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0].period, (Period{100, kInfinity}));
  EXPECT_EQ(to_json_text(early[0].value), R"({"trousers":3})");
}

}  // namespace
}  // namespace chronicle::core
