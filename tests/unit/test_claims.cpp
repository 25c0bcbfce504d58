#include "proclab/aggregate.hpp"
#include "proclab/claims.hpp"
#include "proclab/stats.hpp"
#include "suite.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

using namespace proclab;

TEST_CASE("the catalogue holds the thirteen claims of the notes, in order", "[claims]") {
    const auto claims = all_claims();
    REQUIRE(claims.size() == 13);
    CHECK(claims.front().id == "P1");
    CHECK(claims[3].id == "P4");
    CHECK(claims[4].id == "T1");
    CHECK(claims.back().id == "T9");
    CHECK(find_claim("T5") != nullptr);
    CHECK(find_claim("X1") == nullptr);
}

TEST_CASE("verdicts of several demos combine by the documented rule", "[claims]") {
    using V = Verdict;
    CHECK(combine_verdicts(std::vector<V>{}) == V::not_measured);
    CHECK(combine_verdicts(std::vector<V>{V::not_measured}) == V::not_measured);
    CHECK(combine_verdicts(std::vector<V>{V::confirmed, V::not_measured}) == V::confirmed);
    CHECK(combine_verdicts(std::vector<V>{V::confirmed, V::nuanced}) == V::nuanced);
    CHECK(combine_verdicts(std::vector<V>{V::nuanced, V::refuted, V::confirmed}) == V::refuted);
}

TEST_CASE("a result gives every declared claim a verdict, in declared order", "[result]") {
    Result r;
    r.claims = {"P1", "P3"};
    r.set_verdict("P3", Verdict::confirmed, "measured");
    r.complete_verdicts();
    REQUIRE(r.verdicts.size() == 2);
    CHECK(r.verdicts[0].claim == "P1");
    CHECK(r.verdicts[0].verdict == Verdict::not_measured);
    CHECK_FALSE(r.verdicts[0].reason.empty());
    CHECK(r.verdicts[1].claim == "P3");
    CHECK_FALSE(r.any_refuted());
    r.set_verdict("P1", Verdict::refuted, "counter-evidence");
    CHECK(r.verdicts.size() == 2);
    CHECK(r.any_refuted());
}

TEST_CASE("verdict names round-trip", "[result]") {
    for (auto v : {Verdict::confirmed, Verdict::refuted, Verdict::nuanced, Verdict::not_measured})
        CHECK(verdict_from_string(to_string(v)) == v);
    CHECK(to_string(Verdict::not_measured) == "not-measured");
    CHECK_FALSE(verdict_from_string("maybe").has_value());
}

namespace {
suite::DemoRun ok_run(std::string name, std::vector<Decision> verdicts) {
    suite::DemoRun run;
    run.name = std::move(name);
    Result r;
    r.demo = run.name;
    for (auto& v : verdicts) {
        r.claims.push_back(v.claim);
        r.verdicts.push_back(v);
    }
    run.result = r;
    return run;
}
}  // namespace

TEST_CASE("the claims table combines demos, reports failures and names uncovered claims", "[suite]") {
    std::vector<suite::DemoRun> runs{
        ok_run("a", {{"P1", Verdict::confirmed, "pids differ"}, {"P3", Verdict::nuanced, "root reads across"}}),
        ok_run("b", {{"P3", Verdict::confirmed, "refused"}}),
    };
    suite::DemoRun broken;
    broken.name = "c";
    broken.status = suite::RunStatus::crashed;
    broken.detail = "killed by SIGSEGV";
    runs.push_back(broken);
    const std::vector<suite::DemoDescription> described{{"c", "crashes", {"T1"}, {}}};

    const auto rows = suite::claim_rows(runs, described);
    REQUIRE(rows.size() == 13);
    const auto row = [&](std::string_view id) {
        for (const auto& r : rows)
            if (r.id == id) return r;
        FAIL("no row " << id);
        return rows.front();
    };
    CHECK(row("P1").verdict == Verdict::confirmed);
    CHECK(row("P1").evidence == "pids differ");
    CHECK(row("P3").verdict == Verdict::nuanced);
    CHECK(row("P3").demos == std::vector<std::string>{"a", "b"});
    CHECK(row("P3").evidence ==
          "a: root reads across | b: refused (the demos disagree: a nuanced against b confirmed; the claim takes the "
          "first verdict of refuted, nuanced, confirmed that a demo gave)");
    CHECK(row("T1").verdict == Verdict::not_measured);
    CHECK(row("T1").evidence == "c crashed: killed by SIGSEGV");
    CHECK(row("T9").verdict == Verdict::not_measured);
    CHECK(row("T9").evidence == "no demo in this run covers this claim");
    CHECK(row("T9").demos.empty());

    const auto text = suite::render_claims(rows, false);
    CHECK(text.find("P3  nuanced") != std::string::npos);
    CHECK(text.find("[a, b]") != std::string::npos);
    CHECK(text.find('\033') == std::string::npos);
    // A subset run: the claims no demo covered are one line, not a row each.
    CHECK(text.find("no demo in this run covers this claim") == std::string::npos);
    CHECK_THAT(text, Catch::Contains("Not measured in this run, no demo of it covering them: P2, P4,"));
}

TEST_CASE("the suite JSON carries every claim and every demo", "[suite]") {
    std::vector<suite::DemoRun> runs{ok_run("a", {{"P1", Verdict::confirmed, "pids differ"}})};
    const auto rows = suite::claim_rows(runs, {});
    const auto j = suite::suite_json(Environment{}, runs, rows);
    CHECK(j.at("schema_version") == kSchemaVersion);
    CHECK(j.at("kind") == "suite");
    CHECK(j.at("claims").size() == 13);
    CHECK(j.at("claims")[0].at("verdict") == "confirmed");
    CHECK(j.at("demos")[0].at("status") == "ok");
    CHECK(j.at("demos")[0].at("result").at("demo") == "a");
}

TEST_CASE("the most common value, with the tie rule the caller names", "[claims][aggregate]") {
    const std::vector<Verdict> order{Verdict::confirmed, Verdict::nuanced, Verdict::not_measured, Verdict::refuted};
    CHECK(most_common(std::vector<Verdict>{Verdict::nuanced, Verdict::nuanced, Verdict::confirmed}, order) ==
          Verdict::nuanced);
    // A tie in stability goes to the verdict listed first, wherever it was seen.
    CHECK(most_common(std::vector<Verdict>{Verdict::refuted, Verdict::confirmed}, order) == Verdict::confirmed);
    // A tie in the fleet goes to the earliest machine's: the values are their own order.
    const std::vector<std::string> fleet{"nuanced", "confirmed", "confirmed", "nuanced"};
    CHECK(most_common(fleet, fleet) == "nuanced");
    CHECK_FALSE(most_common(std::vector<std::string>{}, {}).has_value());
    // A value the tie order lacks loses every tie.
    CHECK(most_common(std::vector<std::string>{"x", "y"}, {"y"}) == "y");
}

TEST_CASE("the median of unsorted values, and none of no values", "[stats]") {
    CHECK(median_of({3, 1, 2}) == 2);
    CHECK(median_of({4, 1, 3, 2}) == 2.5);
    CHECK_THROWS_AS(median_of({}), std::invalid_argument);
}
