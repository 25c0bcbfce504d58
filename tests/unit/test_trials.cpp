// Verdicts from repeated trials, and interference from /proc/stat: common/result.cpp and
// common/interference.cpp.
#include "proclab/aggregate.hpp"
#include "proclab/interference.hpp"
#include "proclab/evidence.hpp"
#include "proclab/result.hpp"
#include "proclab/trials.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

using namespace proclab;

namespace {

const RuleInfo kRule{"P4", "", "the trial's figures", "a trial's counter-evidence", false, {}};

// Each trial's decision quotes its own number as a fact: "trial {trial} <verdict>".
std::vector<Decision> trials(std::initializer_list<Verdict> verdicts) {
    std::vector<Decision> out;
    int i = 0;
    for (Verdict v : verdicts) {
        Rule rule(kRule);
        rule.use(count_fact("trial", ++i, "this trial"));
        out.push_back(rule.decide(v, "trial {trial} " + std::string(to_string(v))));
    }
    return out;
}

}  // namespace

TEST_CASE("Trials that all agree give their verdict, with the count", "[trials]") {
    const auto v = decide_from_trials(trials({Verdict::confirmed, Verdict::confirmed, Verdict::confirmed}));
    CHECK(v.claim == "P4");
    CHECK(v.verdict == Verdict::confirmed);
    CHECK(v.agreeing_trials() == 3);
    CHECK(v.trial_verdicts.size() == 3);
    CHECK(v.reason_text() == "trial 1 confirmed (all 3 trials agree; shown: trial 1)");
    CHECK(v.summary_text() == "trial 1 confirmed (all 3 trials agree; shown: trial 1) [3 of 3 trials]");
    CHECK(check_sentence(v).empty());
}

TEST_CASE("A strict majority of trials decides, and the dissent is named", "[trials]") {
    const auto v = decide_from_trials(trials({Verdict::nuanced, Verdict::confirmed, Verdict::confirmed}));
    CHECK(v.verdict == Verdict::confirmed);
    CHECK(v.agreeing_trials() == 2);
    CHECK(v.reason_text() == "trial 2 confirmed (2 of 3 trials; 2 confirmed, 1 nuanced; shown: trial 2)");
}

TEST_CASE("Refuted needs every trial: one lucky sample refutes nothing", "[trials]") {
    // Recorded: P4 refuted in 3 of 10 quick runs; as trials of one run, the majority holds.
    CHECK(decide_from_trials(trials({Verdict::refuted, Verdict::confirmed, Verdict::confirmed})).verdict ==
          Verdict::confirmed);
    const auto split = decide_from_trials(trials({Verdict::refuted, Verdict::refuted, Verdict::confirmed}));
    CHECK(split.verdict == Verdict::not_measured);
    CHECK_THAT(split.reason_text(), Catch::Contains("the 3 trials disagreed (1 confirmed, 2 refuted)"));
    CHECK_THAT(split.reason_text(), Catch::Contains("trial 1 said: trial 1 refuted"));
    CHECK(decide_from_trials(trials({Verdict::refuted, Verdict::refuted, Verdict::refuted})).verdict ==
          Verdict::refuted);
}

TEST_CASE("Trials without a majority are not-measured", "[trials]") {
    const auto v = decide_from_trials(
        trials({Verdict::confirmed, Verdict::nuanced, Verdict::not_measured, Verdict::confirmed, Verdict::nuanced}));
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason_text(), Catch::Contains("2 confirmed, 2 nuanced, 1 not-measured"));
    CHECK(decide_from_trials({}).verdict == Verdict::not_measured);
}

TEST_CASE("/proc/stat is parsed per CPU: busy, idle with iowait, steal, runnable tasks", "[interference]") {
    const auto s = parse_proc_stat(
        "cpu  27733 0 4044 56016 399 0 67 48 0 0\n"
        "cpu0 12375 1 1671 30080 24 2 4 19 0 0\n"
        "cpu1 15357 0 2372 25935 374 0 62 29 0 0\n"
        "intr 386696 0 0\n"
        "procs_running 3\n"
        "procs_blocked 0\n");
    REQUIRE(s.cpus.size() == 2);
    CHECK(s.cpus[0].cpu == 0);
    CHECK(s.cpus[0].busy == 12375 + 1 + 1671 + 2 + 4);
    CHECK(s.cpus[0].idle == 30080 + 24);
    CHECK(s.cpus[0].steal == 19);
    CHECK(s.cpus[1].cpu == 1);
    CHECK(s.procs_running == 3);
    CHECK(parse_proc_stat("nothing\n").cpus.empty());
}

TEST_CASE("Interference is what was neither idle, nor stolen, nor ours", "[interference]") {
    ProcStat before, after;
    before.cpus = {{0, 0, 1000, 0}, {1, 0, 1000, 0}};
    // 1 s window, 10 ms ticks: CPU 0 idle 50 ticks, CPU 1 idle 0 ticks and 10 stolen.
    after.cpus = {{0, 50, 1050, 0}, {1, 90, 1000, 10}};
    after.procs_running = 4;
    // We used 0.5 s of CPU: of the 2 s capacity, 0.5 idle, 0.1 stolen, 0.5 ours, 0.9 someone else's.
    const auto i = interference_between(before, after, {0, 1}, 1e9, 0.5e9, 10e6);
    REQUIRE(i.known);
    CHECK(i.other_ns == Approx(0.9e9));
    CHECK(i.steal_ns == Approx(0.1e9));
    CHECK(i.fraction() == Approx(0.5));
    CHECK(i.steal_fraction() == Approx(0.05));
    CHECK(i.other_cpus() == Approx(1.0));
    CHECK(i.procs_running_max == 4);
    CHECK(i.exceeds(0.15));
    CHECK_FALSE(i.exceeds(0.6));
    CHECK_THAT(i.describe(), Catch::Contains("took 50.0% of 2 CPUs over 1000 ms (steal 5.0%"));
    // Only the watched CPUs count; a CPU missing from /proc/stat makes it unknown.
    CHECK(interference_between(before, after, {0}, 1e9, 0.5e9, 10e6).fraction() == Approx(0.0));
    const auto missing = interference_between(before, after, {0, 7}, 1e9, 0, 10e6);
    CHECK_FALSE(missing.known);
    CHECK(missing.exceeds(0.99));
}

TEST_CASE("A real probe over a short window is known and within bounds", "[interference]") {
    const InterferenceProbe probe({0});
    const auto i = probe.stop();
    if (i.known) {
        CHECK(i.fraction() >= 0);
        CHECK(i.cpus == 1);
    } else {
        CHECK_FALSE(i.unknown_reason.empty());
    }
}

TEST_CASE("The interference over all trials sums the trials' windows, known when each was", "[interference][trials]") {
    Trials<int> t;
    t.interference = {test::interference(0.10), test::interference(0.30)};
    const Interference all = t.total_interference();
    CHECK(all.known);
    CHECK(all.window_ns == Approx(2e9));
    CHECK(all.fraction() == Approx(0.20));
    CHECK_THAT(all.describe(), Catch::StartsWith("other tasks and steal took 20.0% of 2 CPUs over 2000 ms"));
    t.interference.push_back(Interference{.unknown_reason = "cannot read /proc/stat"});
    CHECK_THAT(t.total_interference().describe(), Catch::Contains("interference unknown (cannot read /proc/stat)"));
    CHECK_THAT(Trials<int>{}.total_interference().describe(), Catch::Contains("interference unknown (no trial ran)"));
}

TEST_CASE("Every rule quotes the trial the tables show, where that trial agrees with its verdict", "[trials]") {
    // The first rule's verdict picks the trial shown (the demo's tables are that trial's); a later
    // rule is asked to prefer it, and names it in its sentence.
    const auto agreeing = decide_from_trials(trials({Verdict::confirmed, Verdict::confirmed, Verdict::confirmed}), 1);
    CHECK_THAT(agreeing.reason_text(), Catch::StartsWith("trial 2 confirmed") && Catch::EndsWith("shown: trial 2)"));
    // Where that trial said otherwise, the first trial with the winning verdict is quoted, by number.
    const auto dissent = decide_from_trials(trials({Verdict::confirmed, Verdict::nuanced, Verdict::confirmed}), 1);
    CHECK_THAT(dissent.reason_text(), Catch::StartsWith("trial 1 confirmed") && Catch::EndsWith("shown: trial 1)"));
}
