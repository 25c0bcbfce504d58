// The sentence check over recorded results of every demo: suites this machine wrote (the quick
// run in tests/data/recorded, the full one behind docs/sample-report), read back through the one
// serializer. Every verdict's every number is one of its facts, every quantifier comes from a fact,
// every outcome word is backed, and the stored text is what the template renders.
#include "proclab/evidence.hpp"
#include "proclab/serialize.hpp"
#include "paths.hpp"
#include "suite.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace proclab;

namespace {

suite::SuiteDocument load(const std::filesystem::path& path) {
    std::ifstream in(path);
    REQUIRE(in);
    return suite::suite_from_json(Json::parse(in));
}

void check_suite(const std::filesystem::path& path) {
    INFO(path.string());
    const auto doc = load(path);
    REQUIRE(doc.schema_version >= 3);
    int decisions = 0;
    for (const auto& run : doc.runs) {
        REQUIRE(run.result);
        for (const auto& d : run.result->verdicts) {
            INFO(run.name << " " << d.claim << ": " << d.reason_text());
            const auto problems = check_sentence(d);
            for (const auto& p : problems) INFO(p);
            CHECK(problems.empty());
            CHECK_FALSE(d.refuted_by.empty());
            CHECK_FALSE(d.facts.empty());
            ++decisions;
        }
    }
    CHECK(decisions == 16);  // every claim once; P1 and P3 twice (process_isolation, isolation_matrix), P2 twice
                             // (time_slicing, sched_latency)
    for (const auto& row : doc.rows) CHECK(row.verdict != Verdict::refuted);  // this machine refutes nothing
}

}  // namespace

TEST_CASE("every verdict of a recorded quick suite is made of its facts", "[recorded]") {
    check_suite(test::source_dir() / "tests" / "data" / "recorded" / "suite-quick.json");
}

TEST_CASE("every verdict of the sample report's full suite is made of its facts", "[recorded]") {
    check_suite(test::source_dir() / "docs" / "sample-report" / "suite.json");
}

TEST_CASE("the check fails on the sentences schema 2 carried as text", "[recorded]") {
    // The recorded schema-2 runs (tests/data/compare): their isolation_matrix P1 sentence said "4 of 4
    // runaways stopped by their limit, siblings working throughout" with no fact behind a word.
    std::ifstream in(test::source_dir() / "tests" / "data" / "compare" / "two_cpus.json");
    const auto doc = suite::suite_from_json(Json::parse(in));
    REQUIRE(doc.schema_version == 2);
    int unsound = 0;
    for (const auto& run : doc.runs)
        if (run.result)
            for (const auto& d : run.result->verdicts) unsound += check_sentence(d).empty() ? 0 : 1;
    CHECK(unsound > 0);
}
