// proclab compare's logic: the significance test on synthetic distributions, and the comparison of
// two suite JSONs built here (runner/compare.hpp); the fleet view and the results corpus
// (runner/fleet.hpp), on suite JSONs built here and on runs recorded under taskset -c 0.
#include "compare.hpp"
#include "fleet.hpp"
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
    return Json{
        {"name", name},
        {"value", median},
        {"unit", "ns"},
        {"description", ""},
        {"headline", headline},
        {"summary",
         {{"count", 5000}, {"median", median}, {"distribution", {{"kind", "percentiles"}, {"values", values}}}}}};
}

Json suite_file(const std::string& cpus, double round_trip, const std::string& t2) {
    Json claims = Json::array();
    for (const char* id : {"P1", "T2"})
        claims.push_back({{"id", id},
                          {"verdict", std::string(id) == "T2" ? t2 : "confirmed"},
                          {"evidence", std::string("evidence for ") + id}});
    Json result{{"schema_version", kSchemaVersion},
                {"demo", "context_switch"},
                {"claims", Json::array()},
                {"environment", Json::object()},
                {"metrics", Json::array({metric("round_trip", round_trip, 200, true), metric("quiet", 1000, 100),
                                         Json{{"name", "single"}, {"value", round_trip / 2}, {"unit", "ns"}}})}};
    return Json{{"schema_version", kSchemaVersion},
                {"kind", "suite"},
                {"proclab_version", "0.1.0"},
                {"environment",
                 {{"affinity_cpus",
                   {{
                        "label",
                        "CPUs allowed (affinity)",
                    },
                    {"value", cpus}}},
                  {"kernel_release", {{"label", "kernel"}, {"value", "6.1"}}}}},
                {"claims", claims},
                {"demos", Json::array({Json{{"name", "context_switch"}, {"status", "ok"}, {"result", result}}})}};
}
}  // namespace

TEST_CASE("compare: what differs between two runs, and whether it is beyond noise", "[compare]") {
    LoadedRun a{"A", "a.json", suite_from_json(suite_file("0-1 (2 CPUs)", 2000, "confirmed"))};
    LoadedRun b{"B", "b.json", suite_from_json(suite_file("0 (1 CPU)", 2600, "not-measured"))};
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
    CHECK_FALSE(c.metrics[0][2].p);               // a single value: its ratio only
    int changed_claims = 0;
    for (const auto& v : c.verdicts) changed_claims += changed(v);
    CHECK(changed_claims == 1);
    const auto text = render_text(view_of(c, false));
    CHECK_THAT(text, Catch::Contains("differs") && Catch::Contains("Verdicts that differ: 1") && Catch::Contains("T2"));
    CHECK_THAT(render_markdown(view_of(c, true)), Catch::Contains("| context_switch | quiet |"));
    CHECK(comparison_json(c).at("metrics").size() == 3);
    // The plot: the moved headline in the "beyond noise" colour, the ratio 1 marked; the same
    // headline unmoved is grey, and a metric neither headline nor moved is not drawn.
    const auto cp = comparison_plot(c);
    REQUIRE(cp.panels.size() == 1);
    const auto& bars = cp.panels[0].series;
    REQUIRE(bars.size() == 2);
    CHECK(bars[0].colour == 3);
    REQUIRE(bars[0].x.size() == 1);
    CHECK(bars[0].x[0] == Approx(1.3));
    CHECK(bars[1].mark == plot::Mark::vline);
    LoadedRun again = a;
    again.label = "B";
    const auto same = comparison_plot(compare_runs({a, again}));
    REQUIRE(same.panels.size() == 1);
    CHECK(same.panels[0].series[0].grey);
    CHECK(same.panels[0].y.tick_labels == std::vector<std::string>{"B: context_switch round_trip"});
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
    CHECK_THROWS_WITH(load_run(write("demo.json", R"({"kind":"crosscheck","schema_version":2})"), "A"),
                      Catch::Contains("not a suite JSON"));
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

TEST_CASE("fleet: the flag needs both a significant test and an effect beyond 5% of the median", "[compare][fleet]") {
    CHECK(beyond_noise(0.01, 0.5));
    CHECK(beyond_noise(0.01, 1.06));
    CHECK_FALSE(beyond_noise(0.01, 1.04));         // significant, but within the drift between runs
    CHECK_FALSE(beyond_noise(0.2, 0.5));           // a large ratio the samples do not support
    CHECK_FALSE(beyond_noise(std::nullopt, 0.5));  // no distribution: never flagged
    CHECK_FALSE(beyond_noise(0.01, std::nullopt));
}

TEST_CASE("fleet: one odd machine among three is flagged, and the normal ones are not", "[compare][fleet]") {
    // The pooled rest of a normal machine holds the odd one's samples, so its test alone would
    // call it different; the effect against the fleet median keeps it unflagged.
    LoadedRun a{"a", "a.json", suite_from_json(suite_file("0-1 (2 CPUs)", 2000, "confirmed"))};
    LoadedRun b{"b", "b.json", suite_from_json(suite_file("0-1 (2 CPUs)", 2040, "confirmed"))};
    LoadedRun odd{"odd", "odd.json", suite_from_json(suite_file("0 (1 CPU)", 2600, "not-measured"))};
    const auto v = fleet_view({a, b, odd});
    REQUIRE(v.metrics.size() == 3);
    const auto& rt = v.metrics[0];
    CHECK(rt.name == "round_trip");
    CHECK(rt.median == 2040);
    CHECK(*rt.cells[0].p < 0.05);      // a against the pool {b, odd}: significant ...
    CHECK_FALSE(rt.cells[0].flagged);  // ... but 0.98 of the median
    CHECK_FALSE(rt.cells[1].flagged);
    CHECK(rt.cells[2].flagged);
    CHECK(*rt.cells[2].ratio == Approx(2600.0 / 2040));
    CHECK_FALSE(v.metrics[1].any_flagged());  // quiet: the same everywhere
    CHECK_FALSE(v.metrics[2].cells[0].p);     // a single value: never tested
    CHECK(v.flags_per_machine() == std::vector<int>{0, 0, 1});
    REQUIRE(v.facts.size() == 3);
    CHECK(v.facts[0].label == "suite");  // how each suite ran, from its demos' configs
    CHECK(v.facts[0].values == std::vector<std::string>{"full", "full", "full"});
    CHECK(v.facts[1].differs);
    CHECK_FALSE(v.facts[2].differs);
    const auto t2 =
        std::find_if(v.verdicts.begin(), v.verdicts.end(), [](const FleetVerdict& r) { return r.id == "T2"; });
    REQUIRE(t2 != v.verdicts.end());
    CHECK(t2->differs());
    CHECK(t2->usual == Verdict::confirmed);
    CHECK(t2->verdicts[2] == Verdict::not_measured);
    const auto text = render_text(view_of(v, false));
    CHECK_THAT(text, Catch::Contains("a fleet of 3 machines") && Catch::Contains("Facts that differ: 1") &&
                         Catch::Contains("Verdicts that differ between machines: 1") &&
                         Catch::Contains("not-measured *") && Catch::Contains("flags per machine: a 0, b 0, odd 1"));
    CHECK_THAT(text, !Catch::Contains("quiet"));  // neither headline nor flagged: shown with --all only
    CHECK_THAT(render_text(view_of(v, true)), Catch::Contains("quiet"));
    CHECK_THAT(render_markdown(view_of(v, false)),
               Catch::Contains("| T2 | confirmed | confirmed | **not-measured** |"));
    const auto j = fleet_json(v, false);
    CHECK(j.at("kind") == "fleet");
    CHECK(j.at("machines")[2].at("flagged_metrics") == 1);
    CHECK(j.at("metrics")[0].at("machines")[2].at("flagged") == true);
    // The plot: the round trip first (the largest deviation) at the top, each machine once in the
    // legend, the flagged machine's point filled, the ratio 1 marked.
    const auto fp = fleet_plot(v, false);
    REQUIRE(fp.panels.size() == 1);
    const auto& panel = fp.panels[0];
    CHECK(panel.y.tick_labels.back() == "context_switch: round_trip");
    int labelled = 0, filled_points = 0;
    for (const auto& s : panel.series) {
        labelled += !s.label.empty();
        if (s.mark == plot::Mark::scatter && !s.hollow) filled_points += int(s.x.size());
    }
    CHECK(labelled == 3);
    CHECK(filled_points == 1);
    CHECK(panel.series.back().mark == plot::Mark::vline);
}

TEST_CASE("fleet: with two machines both differ, and the view says a third tells which is odd", "[compare][fleet]") {
    LoadedRun a{"a", "a.json", suite_from_json(suite_file("0-1 (2 CPUs)", 2000, "confirmed"))};
    LoadedRun odd{"odd", "odd.json", suite_from_json(suite_file("0 (1 CPU)", 2600, "not-measured"))};
    const auto v = fleet_view({a, odd});
    CHECK(v.metrics[0].cells[0].flagged);
    CHECK(v.metrics[0].cells[1].flagged);
    REQUIRE_FALSE(v.notes.empty());
    CHECK_THAT(v.notes.front(), Catch::Contains("not which one is odd"));
}

TEST_CASE("fleet on recorded runs: the run under taskset -c 0 is the one flagged", "[compare][fleet]") {
    // tests/data/fleet: `proclab run -q threads_parallel time_slicing context_switch creation_cost
    // --json` twice on the 2-CPU development VM (vm-a, vm-b), then under `taskset -c 0` (vm-onecpu).
    const auto in = load_compare_inputs({(test::source_dir() / "tests/data/fleet").string()});
    CHECK(in.folder_of_runs);
    REQUIRE(in.runs.size() == 3);
    CHECK(in.runs[2].label == "vm-onecpu");
    const auto v = fleet_view(in.runs);
    std::vector<std::string> differing;
    for (const auto& f : v.facts)
        if (f.differs) differing.push_back(f.label);
    CHECK(differing == std::vector<std::string>{"CPUs allowed (affinity)"});
    const auto flags = v.flags_per_machine();
    CHECK(flags[0] == 0);
    CHECK(flags[1] == 0);
    CHECK(flags[2] >= 3);
    for (const char* name : {"trial_cpp_speedup_n2", "trial_mean_share_k2_processes"}) {
        INFO(name);
        const auto m =
            std::find_if(v.metrics.begin(), v.metrics.end(), [&](const FleetMetric& x) { return x.name == name; });
        REQUIRE(m != v.metrics.end());
        CHECK(m->cells[2].flagged);
        CHECK(*m->cells[2].ratio < 0.6);  // one CPU: half the speedup, half the share
    }
    std::vector<std::string> odd_verdicts;
    for (const auto& r : v.verdicts)
        if (r.differs() && r.verdicts[2] != r.usual) odd_verdicts.push_back(r.id);
    CHECK(odd_verdicts == std::vector<std::string>{"T1", "T2", "T9"});
}

TEST_CASE("compare's inputs: files, report folders and folders of runs, each named once", "[compare][fleet]") {
    const auto dir = test::scratch_dir("proclab-fleet-");
    const std::string file = (test::source_dir() / "tests/data/fleet/vm-a.json").string();
    std::filesystem::create_directories(dir / "results" / "node-1");
    std::filesystem::copy_file(file, dir / "results" / "node-1" / "suite.json");
    const auto in = load_compare_inputs({file, file, (dir / "results" / "node-1/").string()});
    REQUIRE(in.runs.size() == 3);
    CHECK_FALSE(in.folder_of_runs);
    CHECK(in.runs[0].label == "vm-a");
    CHECK(in.runs[1].label == "vm-a#2");
    CHECK(in.runs[2].label == "node-1");
    CHECK(load_compare_inputs({(dir / "results").string()}).runs.at(0).label == "node-1");
    // The playbook's note for a host that failed is not a run: it is named, with why.
    std::ofstream(dir / "results" / "ghost.failed") << "unreachable: No route to host\n";
    const auto with_failure = load_compare_inputs({(dir / "results").string()});
    CHECK(with_failure.runs.size() == 1);
    CHECK(with_failure.failed_hosts ==
          std::vector<std::string>{"ghost: no run, the fleet playbook says: unreachable: No route to host"});
    CHECK(load_compare_inputs({file, (dir / "results" / "ghost.failed").string()}).failed_hosts.size() == 1);
    std::filesystem::create_directories(dir / "empty");
    CHECK_THROWS_WITH(load_compare_inputs({(dir / "empty").string()}), Catch::Contains("no runs in this folder"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("the results corpus: each file is named by its own facts, and the nearest runs are the same CPU's",
          "[compare][fleet]") {
    CHECK(cpu_vendor("Intel(R) Xeon(R) Processor") == "Intel");
    CHECK(cpu_vendor("AMD EPYC 7B13 64-Core Processor") == "AMD");
    CHECK(cpu_vendor("Neoverse-N1") == "Arm");
    CHECK(cpu_vendor("Frobnicator 9000") == "Frobnicator");
    const std::filesystem::path corpus = test::source_dir() / "docs/results";
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(corpus)) {
        if (e.path().extension() != ".json") continue;
        ++files;
        const auto run = load_run(e.path(), "x");
        const std::string stem = e.path().stem().string();
        INFO(stem);
        CHECK((stem == corpus_stem(run.suite.environment) + "_full" ||
               stem == corpus_stem(run.suite.environment) + "_quick"));
    }
    CHECK(files >= 2);  // this machine's full and quick runs at least
    std::vector<std::string> how;
    const auto mine = load_run((test::source_dir() / "tests/data/fleet/vm-onecpu.json").string(), "mine");
    // A --quick run goes beside the corpus's --quick runs of its CPU, not its full ones.
    const auto near = nearest_in_corpus({mine}, corpus, how);
    REQUIRE_FALSE(near.empty());
    for (const auto& r : near) CHECK(suite_mode(r.suite) == "--quick");
    REQUIRE(how.size() == 1);
    CHECK_THAT(how[0], Catch::Contains("CPU model") && Catch::Contains("run as it was (--quick)"));
    auto other = mine;
    for (auto& f : other.suite.environment.facts)
        if (f.key == "cpu_model") f.value = "Frobnicator 9000";
    how.clear();
    CHECK(nearest_in_corpus({other}, corpus, how).empty());
    CHECK_THAT(how.at(0),
               Catch::Contains("no corpus run has its CPU model (Frobnicator 9000) or vendor (Frobnicator)"));
}

TEST_CASE("an emulated machine's timings are never judged: compare tests nothing against it, the fleet flags none",
          "[compare][fleet]") {
    auto emulated_file = suite_file("0 (1 CPU)", 2600, "confirmed");
    emulated_file["environment"]["emulated"] = {{"label", "emulated machine"},
                                                {"value", "yes: QEMU TCG guest of proclab-vm: 1 CPU"}};
    LoadedRun a{"a", "a.json", suite_from_json(suite_file("0-1 (2 CPUs)", 2000, "confirmed"))};
    LoadedRun b{"b", "b.json", suite_from_json(suite_file("0-1 (2 CPUs)", 2040, "confirmed"))};
    LoadedRun guest{"guest", "guest.json", suite_from_json(emulated_file)};
    // The same 1.3x that is beyond noise between two real runs (the test above) is not judged here.
    const auto c = compare_runs({a, guest});
    REQUIRE(c.metrics[0].size() == 3);
    CHECK(*c.metrics[0][0].ratio == Approx(1.3));
    CHECK_FALSE(c.metrics[0][0].p);
    CHECK_FALSE(c.metrics[0][0].beyond_noise());
    CHECK_THAT(render_text(view_of(c, false)), Catch::Contains("ran on an emulated machine"));
    // In a fleet it is shown, but neither flagged nor pooled, and the median is the real machines'.
    const auto v = fleet_view({a, b, guest});
    const auto& rt = v.metrics[0];
    CHECK(rt.median == Approx(2020));
    CHECK_FALSE(rt.cells[2].flagged);
    CHECK_FALSE(rt.cells[2].p);
    CHECK(v.flags_per_machine() == std::vector<int>{0, 0, 0});
}
