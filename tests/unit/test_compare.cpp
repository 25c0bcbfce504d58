// proclab compare's logic: the significance test on synthetic distributions, and the comparison of
// two suite JSONs built here (runner/compare.hpp).
#include "compare.hpp"
#include "proclab/serialize.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace proclab;
using namespace proclab::suite;

TEST_CASE("Mann-Whitney U: separated samples are significant, the same ones are not, few are untested", "[compare]") {
    const std::vector<double> low{1, 2, 3, 4, 5}, high{6, 7, 8, 9, 10};
    // U = 0 for 5 against 5: the normal approximation with continuity correction gives p = 0.0122
    // (scipy.stats.mannwhitneyu(..., method="asymptotic") prints 0.01219).
    CHECK(*mann_whitney_p(low, high) == Approx(0.01219).epsilon(0.01));
    CHECK(*mann_whitney_p(low, low) == Approx(1.0));
    CHECK(*mann_whitney_p(std::vector<double>{2, 2, 2}, std::vector<double>{2, 2, 2}) == 1.0);
    CHECK_FALSE(mann_whitney_p(std::vector<double>{1, 2}, high));
    // Overlapping distributions, one shifted by half a spread: significant with 101 points each.
    std::vector<double> a, b, c;
    for (int i = 0; i <= 100; ++i) {
        a.push_back(100 + i);
        b.push_back(150 + i);
        c.push_back(100.5 + i);
    }
    CHECK(*mann_whitney_p(a, b) < 1e-6);
    CHECK(*mann_whitney_p(a, c) > 0.5);
}

namespace {
Json metric(const std::string& name, double median, double spread, bool headline = false) {
    std::vector<double> values;
    for (int i = 0; i <= 100; ++i) values.push_back(median - spread / 2 + spread * i / 100.0);
    return Json{{"name", name}, {"value", median}, {"unit", "ns"}, {"description", ""}, {"headline", headline},
                {"summary", {{"count", 5000}, {"median", median}, {"distribution", {{"kind", "percentiles"}, {"values", values}}}}}};
}

Json suite_file(const std::string& cpus, double round_trip, const std::string& t2) {
    Json claims = Json::array();
    for (const char* id : {"P1", "T2"})
        claims.push_back({{"id", id}, {"verdict", std::string(id) == "T2" ? t2 : "confirmed"}, {"evidence", std::string("evidence for ") + id}});
    Json result{{"schema_version", kSchemaVersion},
                {"demo", "context_switch"},
                {"claims", Json::array()},
                {"environment", Json::object()},
                {"metrics", Json::array({metric("round_trip", round_trip, 200, true), metric("quiet", 1000, 100),
                                         Json{{"name", "single"}, {"value", round_trip / 2}, {"unit", "ns"}}})}};
    return Json{{"schema_version", kSchemaVersion},
                {"kind", "suite"},
                {"proclab_version", "0.1.0"},
                {"environment", {{"affinity_cpus", {{"label", "CPUs allowed (affinity)", }, {"value", cpus}}}, {"kernel_release", {{"label", "kernel"}, {"value", "6.1"}}}}},
                {"claims", claims},
                {"demos", Json::array({Json{{"name", "context_switch"}, {"status", "ok"}, {"result", result}}})}};
}
}  // namespace

TEST_CASE("compare: what differs between two runs, and whether it is beyond noise", "[compare]") {
    LoadedRun a{"A", "a.json", suite_from_json(suite_file("0-1 (2 CPUs)", 2000, "confirmed"))};
    LoadedRun b{"B", "b.json", suite_from_json(suite_file("0 (1 CPUs)", 2600, "not-measured"))};
    const auto c = compare_runs({a, b});
    REQUIRE(c.facts.size() == 2);
    CHECK(c.facts[0].label == "CPUs allowed (affinity)");
    CHECK(c.facts[0].differs);
    CHECK_FALSE(c.facts[1].differs);
    REQUIRE(c.metrics.size() == 1);
    REQUIRE(c.metrics[0].size() == 3);
    const auto& rt = c.metrics[0][0];
    CHECK(*rt.ratio == Approx(1.3));
    CHECK(rt.beyond_noise());
    CHECK_FALSE(c.metrics[0][1].beyond_noise());  // the same distribution
    CHECK_FALSE(c.metrics[0][2].p);                // a single value: its ratio only
    int changed_claims = 0;
    for (const auto& v : c.verdicts) changed_claims += changed(v);
    CHECK(changed_claims == 1);
    const auto text = render_comparison(c, false, false);
    CHECK_THAT(text, Catch::Contains("differs") && Catch::Contains("Verdicts that differ: 1") && Catch::Contains("T2"));
    CHECK_THAT(comparison_markdown(c, true), Catch::Contains("| context_switch | quiet |"));
    CHECK(comparison_json(c).at("metrics").size() == 3);
    // A significant but small shift is not called a change: the runs' own drift is a few percent.
    LoadedRun close{"C", "c.json", suite_from_json(suite_file("0-1 (2 CPUs)", 2040, "confirmed"))};
    CHECK_FALSE(compare_runs({a, close}).metrics[0][0].beyond_noise());
}

TEST_CASE("compare reads schema 1 without testing it, and refuses what it cannot read", "[compare]") {
    const auto dir = test::scratch_dir("proclab-compare-");
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return dir / name;
    };
    auto old = suite_file("0-1 (2 CPUs)", 2000, "confirmed");
    old["schema_version"] = 1;
    const auto loaded = load_run(write("old.json", old.dump()), "A");
    CHECK(loaded.suite.schema_version == 1);
    CHECK_THROWS_WITH(load_run(write("bad.json", "{not json"), "A"), Catch::Contains("not JSON"));
    CHECK_THROWS_WITH(load_run(write("demo.json", R"({"kind":"crosscheck","schema_version":2})"), "A"), Catch::Contains("not a suite JSON"));
    auto newer = old;
    newer["schema_version"] = kSchemaVersion + 1;
    CHECK_THROWS_WITH(load_run(write("new.json", newer.dump()), "A"), Catch::Contains("this proclab reads"));
    CHECK_THROWS_WITH(load_run(dir / "missing.json", "A"), Catch::Contains("cannot be read"));
    // A report folder is read through its suite.json.
    std::filesystem::create_directories(dir / "report");
    write("report/suite.json", suite_file("0", 1, "confirmed").dump());
    CHECK(load_run(dir / "report", "B").path == (dir / "report" / "suite.json").string());
    std::filesystem::remove_all(dir);
}
