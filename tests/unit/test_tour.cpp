// `proclab tour`'s own logic (runner/tour.cpp): the stops cover every claim, and a guess is judged
// by the verdict it implies.
#include "suite.hpp"
#include "tour.hpp"

#include "proclab/claims.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>

using namespace proclab;
using namespace proclab::suite;

TEST_CASE("the tour's stops cover every claim, each with a demo of the suite and two answers", "[tour]") {
    std::set<std::string> asked;
    for (const auto& stop : tour_stops()) {
        INFO(stop.id);
        CHECK(std::find(demo_names().begin(), demo_names().end(), std::string(stop.demo)) != demo_names().end());
        CHECK(find_claim(stop.asked_claim) != nullptr);
        REQUIRE(stop.choices.size() == 2);
        // One answer agrees with the notes, the other does not.
        CHECK(stop.choices[0].implies != stop.choices[1].implies);
        CHECK_FALSE(stop.try_this.empty());
        CHECK(find_stop(stop.id) == &stop);
        asked.insert(std::string(stop.asked_claim));
    }
    CHECK(asked.size() == tour_stops().size());
    CHECK(find_stop("nowhere") == nullptr);
}

TEST_CASE("a guess holds, misses, meets a qualification or meets no verdict, by the measured verdict", "[tour]") {
    const TourStop& gil = *find_stop("gil");
    const auto agrees = std::optional<std::size_t>(0), disagrees = std::optional<std::size_t>(1);
    CHECK(judge_guess(agrees, gil, Verdict::confirmed) == GuessOutcome::held);
    CHECK(judge_guess(disagrees, gil, Verdict::confirmed) == GuessOutcome::missed);
    CHECK(judge_guess(disagrees, gil, Verdict::refuted) == GuessOutcome::held);
    CHECK(judge_guess(agrees, gil, Verdict::refuted) == GuessOutcome::missed);
    CHECK(judge_guess(agrees, gil, Verdict::nuanced) == GuessOutcome::partly);
    // Nuanced still holds the claim: a guess that it fails missed (the threads stop: "can another
    // thread write to my local?" answered "no", where one did).
    CHECK(judge_guess(disagrees, gil, Verdict::nuanced) == GuessOutcome::missed);
    CHECK(judge_guess(disagrees, gil, Verdict::not_measured) == GuessOutcome::undecided);
    CHECK(judge_guess(std::nullopt, gil, Verdict::confirmed) == GuessOutcome::not_asked);
    CHECK(judge_guess(7, gil, Verdict::confirmed) == GuessOutcome::not_asked);
}

TEST_CASE("a typed answer is one letter of the choices, or nothing", "[tour]") {
    CHECK(parse_choice("a", 2) == std::optional<std::size_t>(0));
    CHECK(parse_choice(" B \n", 2) == std::optional<std::size_t>(1));
    CHECK_FALSE(parse_choice("c", 2));
    CHECK_FALSE(parse_choice("", 2));
    CHECK_FALSE(parse_choice("ab", 2));
}
