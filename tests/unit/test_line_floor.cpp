// One cache-line floor per CPU pair per suite (common/handoff.hpp): the runner's floors travel to
// the demos in one variable, and a demo judges against the suite's floor for its pair unless its
// own measurement shows the suite's was no floor.
#include "proclab/handoff.hpp"
#include "proclab/sizes.hpp"

#include <catch2/catch.hpp>

using namespace proclab;

namespace {
CacheLineHandoff own(int a, int b, double min_ns) {
    return CacheLineHandoff{a, b, min_ns * 1.2, min_ns * 1.5, min_ns, 0};
}
}  // namespace

TEST_CASE("The suite's floors: the first allowed CPU with each other one, encoded and read back", "[handoff][floor]") {
    CHECK(suite_floor_pairs({3}).empty());
    CHECK(suite_floor_pairs({}).empty());
    CHECK(suite_floor_pairs({2, 5, 7}) == std::vector<std::pair<int, int>>{{2, 5}, {2, 7}});
    CHECK(suite_floor_pairs({0, 1, 2, 3}, 2).size() == 2);

    const std::string text =
        encode_line_floors({own(0, 1, 55.24), own(0, 2, 61), own(0, 3, 0)});  // 0: no figure, left out
    CHECK(text == "0-1:55.2,0-2:61.0");
    const auto back = decode_line_floors(text);
    REQUIRE(back.size() == 2);
    CHECK(back[1].a == 0);
    CHECK(back[1].b == 2);
    CHECK(back[1].one_way_min_ns == Approx(61.0));
    // What does not parse is skipped, not guessed: a demo then measures its own.
    CHECK(decode_line_floors("0-1:abc,x-2:5,1-1:5,0-1:-3,0-1:,0:5,2-3:40").size() == 1);
    CHECK(decode_line_floors("").empty());
}

TEST_CASE("A demo judges against the suite's floor for its pair, and says how far its own drifted",
          "[handoff][floor]") {
    // The pair in either order is the same pair.
    const LineFloor shared = line_floor_from(own(1, 0, 57), "0-1:55,0-2:80");
    REQUIRE(shared.suite_min_ns);
    CHECK(shared.uses_suite());
    CHECK(shared.floor_ns() == Approx(55));
    CHECK(*shared.drift() == Approx(57.0 / 55 - 1));
    CHECK_THAT(shared.describe(), Catch::Contains("55 ns, the suite's") && Catch::Contains("57 ns, +4%"));

    // Slightly below the suite's (noise): still the suite's floor, so the pair keeps one floor.
    CHECK(line_floor_from(own(0, 1, 51), "0-1:55").floor_ns() == Approx(55));

    // Far below: the suite's was no floor (the runner's measurement was slowed); the demo's own.
    const LineFloor below = line_floor_from(own(0, 1, 40), "0-1:55");
    CHECK_FALSE(below.uses_suite());
    CHECK(below.floor_ns() == Approx(40));
    CHECK_THAT(below.describe(),
               Catch::Contains("own fastest batch") && Catch::Contains("38% above") && Catch::Contains("no floor"));
    CHECK_THAT(line_floor_from(own(0, 1, 40), "0-1:1000000").describe(), Catch::Contains("x it"));

    // No suite floor for the pair, or none at all: this run's own, no drift.
    for (const char* text : {"", "0-2:55", "garbage"}) {
        const LineFloor alone = line_floor_from(own(0, 1, 48), text);
        CHECK_FALSE(alone.uses_suite());
        CHECK_FALSE(alone.drift());
        CHECK(alone.floor_ns() == Approx(48));
        CHECK_THAT(alone.describe(), Catch::Contains("this run's fastest batch"));
    }
}

TEST_CASE("A number is read whole or not at all", "[sizes]") {
    CHECK(whole_number("42") == 42);
    CHECK(whole_number("-3") == -3);
    for (const char* bad : {"", "4x", " 4", "4 ", "1e3", "99999999999999999999", "+"}) {
        INFO(bad);
        CHECK_FALSE(whole_number(bad).has_value());
    }
    CHECK(real_number("0.25") == Approx(0.25));
    CHECK(real_number("1e3") == Approx(1000));
    for (const char* bad : {"", "0.2s", "inf", "nan", "abc", "1,5"}) {
        INFO(bad);
        CHECK_FALSE(real_number(bad).has_value());
    }
}
