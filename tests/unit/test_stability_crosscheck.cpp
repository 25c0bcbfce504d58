// The runner's stability summary and crosscheck logic: runner/stability.cpp, runner/crosscheck.cpp.
#include "crosscheck.hpp"
#include "stability.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::suite;

// The outcome cells' wording, read on one line each: wide enough that no cell wraps.
const TextStyle kUnwrapped{.width = 1000};

TEST_CASE("perf bench's usecs/op is read as nanoseconds", "[crosscheck]") {
    const char* out =
        "# Running 'sched/pipe' benchmark:\n# Executed 300000 pipe operations between two processes\n\n"
        "     Total time: 0.806 [sec]\n\n       2.688217 usecs/op\n         371995 ops/sec\n";
    REQUIRE(parse_perf_usecs_per_op(out));
    CHECK(*parse_perf_usecs_per_op(out) == Approx(2688.217));
    CHECK_FALSE(parse_perf_usecs_per_op("no figure here\n"));
}

TEST_CASE("stress-ng's YAML metrics are read for the named stressor only", "[crosscheck]") {
    const char* yaml =
        "---\nsystem-info:\n      cpus: 2\n\nmetrics:\n"
        "    - stressor: vfork\n      bogo-ops-per-second-real-time: 17455.344497\n"
        "    - stressor: fork\n      bogo-ops: 2000\n      bogo-ops-per-second-real-time: 3514.534951\n"
        "      nanosecs-per-context-switch-pipe-method: 1.5\n...\n";
    CHECK(parse_stress_ng_yaml(yaml, "fork", "bogo-ops-per-second-real-time") == Approx(3514.534951));
    CHECK(parse_stress_ng_yaml(yaml, "vfork", "bogo-ops-per-second-real-time") == Approx(17455.344497));
    CHECK_FALSE(parse_stress_ng_yaml(yaml, "switch", "bogo-ops-per-second-real-time"));
    CHECK_FALSE(parse_stress_ng_yaml(yaml, "vfork", "bogo-ops"));
}

namespace {
CrosscheckPair in_turns(std::vector<double> ours, std::vector<double> theirs) {
    CrosscheckPair p;
    p.proclab_turns = std::move(ours);
    p.reference_turns = std::move(theirs);
    settle(p);
    return p;
}
}  // namespace

TEST_CASE("Crosscheck pairs agree within 15% only where the method is the same", "[crosscheck]") {
    auto p = in_turns({2650, 2680, 2700}, {2690, 2600, 2750});
    CHECK(*p.proclab_ns == 2680);
    CHECK(*p.reference_ns == 2690);
    CHECK(judge(p) == Agreement::agree);
    CHECK(*ratio(p) == Approx(2680.0 / 2690.0));
    p = in_turns({1070, 1060, 1080}, {2530, 2500, 2560});
    CHECK(judge(p) == Agreement::disagree);  // shown, not hidden
    CHECK_THAT(render_text(view_of(std::vector<CrosscheckPair>{p}), kUnwrapped),
               Catch::Contains("each side's turns within ±1%"));
    p.same_method = false;
    CHECK(judge(p) == Agreement::not_judged);
    p.reference_turns.clear();
    settle(p);
    p.missing = "stress-ng is not installed";
    CHECK(judge(p) == Agreement::missing);
    const auto text = render_text(view_of(std::vector<CrosscheckPair>{p}), kUnwrapped);
    CHECK_THAT(text, Catch::Contains("missing: stress-ng is not installed"));
    CHECK(crosscheck_json({p})[0]["outcome"] == "missing");
}

TEST_CASE("A crosscheck row noisier than its margin is judged neither agree nor disagree", "[crosscheck]") {
    // Recorded on the idle EPYC VM: idle timer lateness against cyclictest came out 0.99, then
    // 0.76, in two crosschecks of one turn each. In turns, a side that moves that much is noise.
    auto p = in_turns({61000, 80000, 52000}, {62000, 63000, 61000});
    REQUIRE(spread(p));
    CHECK(*spread(p) == Approx((80000.0 - 52000.0) / 2 / 61000.0));
    CHECK(judge(p) == Agreement::too_noisy);
    CHECK_THAT(render_text(view_of(std::vector<CrosscheckPair>{p}), kUnwrapped),
               Catch::Contains("too noisy to judge here: a side's turns spread ±23%"));
    // Beyond the margin by the medians, yet noisy: still not a disagreement.
    p = in_turns({100000, 60000, 80000}, {50000, 51000, 50500});
    CHECK(judge(p) == Agreement::too_noisy);
    // One turn on a side: its spread is unknown, so nothing is judged.
    p = in_turns({2680}, {2690, 2700, 2650});
    CHECK_FALSE(spread(p));
    CHECK(judge(p) == Agreement::too_noisy);
    CHECK_THAT(render_text(view_of(std::vector<CrosscheckPair>{p}), kUnwrapped),
               Catch::Contains("fewer than 2 turns on a side (1 + 3 turns)"));
    CHECK(crosscheck_json({p})[0]["outcome"] == "too noisy");
}

namespace {
SuiteRun run_with(Verdict p4, double fork_ns) {
    SuiteRun r;
    ClaimRow row;
    row.id = "P4";
    row.verdict = p4;
    r.rows.push_back(row);
    DemoRun d;
    d.name = "creation_cost";
    Result result;
    result.metrics.push_back({"fork", fork_ns, "ns", "fork", std::nullopt, true});
    result.metrics.push_back({"not_headline", 1, "ns", "", std::nullopt, false});
    d.result = result;
    r.runs.push_back(d);
    r.wall_s = 5;
    return r;
}
}  // namespace

TEST_CASE("Stability counts verdicts per claim and the spread of headline metrics", "[stability]") {
    std::vector<SuiteRun> runs;
    for (int i = 0; i < 19; ++i) runs.push_back(run_with(Verdict::confirmed, 100 + i));
    runs.push_back(run_with(Verdict::refuted, 200));
    const auto report = summarize_stability(runs, true);
    REQUIRE(report.claims.size() == 1);
    const auto& p4 = report.claims.front();
    CHECK(p4.most_common == Verdict::confirmed);
    CHECK(p4.held() == Approx(0.95));
    CHECK(p4.meets_target());  // 19 of 20
    CHECK(report.target_met());
    REQUIRE(report.metrics.size() == 1);  // headline only
    CHECK(report.metrics.front().across_runs.count == 20);
    CHECK(report.metrics.front().across_runs.max == 200);

    runs.push_back(run_with(Verdict::refuted, 200));  // 19 of 21: below 95%
    const auto missed = summarize_stability(runs, true);
    CHECK_FALSE(missed.target_met());
    CHECK_THAT(render_text(view_of(missed)), Catch::Contains("MISSED"));
    CHECK(stability_json(missed)["claims"][0]["counts"]["refuted"] == 2);
}

TEST_CASE("cyclictest's histogram median and the messaging tools' totals are read as nanoseconds", "[crosscheck]") {
    // 1 + 3 + 2 wake-ups and 1 overflow: the 4th of 7 is in the 88 µs bucket.
    const std::string histogram =
        "# /dev/cpu_dma_latency set to 0us\n000087 000001\n000088 000003\n000089 000002\n# Total: 000000007\n"
        "# Min Latencies: 00087\n# Histogram Overflows: 00001\n";
    CHECK(*parse_cyclictest_median(histogram) == Approx(88000));
    CHECK_FALSE(parse_cyclictest_median("cyclictest: no such option"));
    CHECK_FALSE(
        parse_cyclictest_median("000001 000000\n# Histogram Overflows: 00005\n"));  // the median beyond the last bucket
    CHECK(*parse_messaging_seconds("Running in process mode with 1 groups using 40 file descriptors each (== 40 "
                                   "tasks)\nEach sender will pass 100 "
                                   "messages of 100 bytes\nTime: 0.016\n") == Approx(16e6));
    CHECK(*parse_messaging_seconds("# 1 groups == 40 processes run\n\n     Total time: 0.023 [sec]\n") == Approx(23e6));
    CHECK_FALSE(parse_messaging_seconds("Segmentation fault"));
}
