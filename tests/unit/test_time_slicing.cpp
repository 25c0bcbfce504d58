// The verdict rules of demos/time_slicing.cpp, on hand-made steps.
#define PROCLAB_NO_MAIN
#include "../../demos/time_slicing.cpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::time_slicing;

namespace {

// K workers on `cpus` CPUs, each with the given share and `slices` run intervals of 4 ms.
StepResult make_step(int k, int cpus, double share, bool threads = false, int slices = 5) {
    StepResult s;
    s.k = k;
    s.cpus = cpus;
    s.threads = threads;
    s.work_ns = 100'000'000;
    s.expected_share = std::min(1.0, double(cpus) / k);
    s.mean_share = s.min_share = s.max_share = share;
    s.wall_ns = static_cast<Nanos>(double(s.work_ns) / share);
    s.jain = 1;
    for (int i = 0; i < k; ++i) {
        WorkerResult w;
        w.tid = 1000 + i;
        w.pid = threads ? 999 : 1000 + i;
        w.share = share;
        w.run_kernel_ns = 100'000'000;
        w.involuntary = k > cpus ? 10 : 0;
        w.migrations = 0;
        for (int j = 0; j < slices; ++j) w.intervals.push_back({j * 8'000'000, j * 8'000'000 + 4'000'000, i % cpus, 0});
        w.cpus.insert(i % cpus);
        if (slices > 2)
            for (int j = 1; j + 1 < slices; ++j) s.slices_ns.push_back(4e6);
        s.workers.push_back(w);
    }
    return s;
}

}  // namespace

TEST_CASE("P4 is confirmed when shares follow min(1, CPUs/K)", "[time_slicing]") {
    const std::vector<StepResult> steps{make_step(1, 2, 0.99), make_step(2, 2, 0.98), make_step(4, 2, 0.5), make_step(8, 2, 0.25)};
    const auto v = decide_p4(steps);
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason, Catch::Contains("K=8: share 0.25 (expected 0.25)"));
}

TEST_CASE("P4 is not measured without more workers than CPUs", "[time_slicing]") {
    CHECK(decide_p4({make_step(1, 2, 1.0), make_step(2, 2, 1.0)}).verdict == Verdict::not_measured);
}

TEST_CASE("P4 is refuted when more workers ran at once than there are CPUs", "[time_slicing]") {
    CHECK(decide_p4({make_step(4, 2, 0.95)}).verdict == Verdict::refuted);
}

TEST_CASE("P4 is nuanced when other load takes a part of the shares", "[time_slicing]") {
    CHECK(decide_p4({make_step(2, 2, 0.6), make_step(4, 2, 0.3)}).verdict == Verdict::nuanced);
}

TEST_CASE("P2 is confirmed by slices handed out in turn, and nuanced against a different configured slice", "[time_slicing]") {
    const std::vector<StepResult> steps{make_step(4, 2, 0.5)};
    KernelSliceFacts unknown{std::nullopt, "debugfs not mounted", 4e6};
    const auto v = decide_p2(steps, unknown);
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason, Catch::Contains("slice median 4.00 ms"));
    CHECK(decide_p2(steps, KernelSliceFacts{3e6, "", 4e6}).verdict == Verdict::confirmed);
    const auto tick_bound = decide_p2(steps, KernelSliceFacts{0.75e6, "", 4e6});
    CHECK(tick_bound.verdict == Verdict::nuanced);
    CHECK_THAT(tick_bound.reason, Catch::Contains("timer ticks"));
}

TEST_CASE("P2 is refuted when over-subscribed workers ran one after another", "[time_slicing]") {
    CHECK(decide_p2({make_step(4, 2, 0.5, false, 1)}, {}).verdict == Verdict::refuted);
}

TEST_CASE("P2 is not measured when nobody had to take turns", "[time_slicing]") {
    CHECK(decide_p2({make_step(2, 2, 1.0)}, {}).verdict == Verdict::not_measured);
}

TEST_CASE("P2 is nuanced by unfair shares", "[time_slicing]") {
    auto s = make_step(4, 2, 0.5);
    s.jain = 0.7;
    CHECK(decide_p2({s}, {}).verdict == Verdict::nuanced);
}

TEST_CASE("T1 needs threads with their own tids and stats, and a migration to be confirmed", "[time_slicing]") {
    auto t = make_step(4, 2, 0.5, true);
    CHECK(decide_t1({t}, false).verdict == Verdict::nuanced);  // no migration seen
    t.workers[1].migrations = 2;
    CHECK(decide_t1({t}, false).verdict == Verdict::confirmed);
    CHECK(decide_t1({t}, true).verdict == Verdict::nuanced);  // pinned: migration impossible
    t.workers[2].tid = t.workers[1].tid;
    CHECK(decide_t1({t}, false).verdict == Verdict::refuted);
    CHECK(decide_t1({make_step(4, 2, 0.5)}, false).verdict == Verdict::not_measured);
}
