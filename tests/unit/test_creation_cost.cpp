// The verdict rule of demos/creation_cost/verdicts.hpp.
#include "creation_cost/verdicts.hpp"

#include "sound.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::creation_cost;
using proclab::test::sound;

namespace {
Summary median(double ns) { return summarize(std::vector<double>{ns, ns, ns}); }

// A thread of `thread_ns` against a hand-off of `pool_ns` between CPUs 0 and 1 whose cache line
// travels one way in 55 ns (the development machine), every task run by the worker.
Costs costs(double thread_ns, double pool_ns, double load = 0.01) {
    Costs c;
    c.thread = median(thread_ns);
    c.pool.round_trip = median(pool_ns);
    c.pool.samples = 100;
    c.pool.on_worker = 100;
    c.pool.caller_cpu = 0;
    c.pool.worker_cpu = 1;
    c.pool.line_one_way_ns = 55;
    c.fork_ns = 80000;
    c.interference = test::interference(load);
    return c;
}
}  // namespace

TEST_CASE("T8 follows the ratio of thread creation to a pool hand-off", "[creation_cost]") {
    const auto v = sound(decide_t8(costs(7200, 600)));
    CHECK(v.verdict == Verdict::confirmed);  // 12x
    CHECK_THAT(v.reason_text(), Catch::Contains("7.2 µs against 600 ns") && Catch::Contains("12x, at least 3x") &&
                                    Catch::Contains("fork + exit + wait) 80 µs"));
    CHECK_THAT(v.summary_text(), Catch::Contains("pool hand-off 600 ns (12x)"));
    CHECK(sound(decide_t8(costs(1200, 600))).verdict == Verdict::nuanced);  // 2x
    CHECK(sound(decide_t8(costs(500, 600))).verdict == Verdict::refuted);
    Costs none = costs(500, 600);
    none.pool.samples = 0;
    CHECK(sound(decide_t8(none)).verdict == Verdict::not_measured);
}

TEST_CASE("T8: load decides nothing, in either direction", "[creation_cost]") {
    // A pool worker held off its CPU by other load makes the hand-off as slow as a thread.
    const auto v = sound(decide_t8(costs(9000, 10000, 0.5)));
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason_text(),
               Catch::Contains("not surely below the margin") && Catch::Contains("took 50% of 2 CPUs"));
    // Its one line names the load too: the tour and the verdicts at the top quote it alone.
    CHECK_THAT(v.summary_text(), Catch::Contains("other load 50% of 2 CPUs"));
    // Recorded: nice 19 beside a busy loop, 3433x "confirmed" with 98.6% interference: a new
    // thread waited for its first slice. Load pushes toward confirmed too.
    CHECK(sound(decide_t8(costs(3433 * 600.0, 600, 0.986))).verdict == Verdict::not_measured);
    CHECK(sound(decide_t8(costs(60000, 10000, 0.5))).verdict == Verdict::not_measured);
    Costs unknown = costs(9000, 10000);
    unknown.interference = Interference{};
    CHECK(sound(decide_t8(unknown)).verdict == Verdict::not_measured);
    // A trial window too short to count the load within the margin (45 ms: +-44%) is not clear of it.
    Costs short_window = costs(7200, 600);
    short_window.interference.window_ns = 45e6;
    short_window.interference.other_ns = 0;
    CHECK(sound(decide_t8(short_window)).verdict == Verdict::not_measured);
    short_window.interference.window_ns = 400e6;  // +-5%: clear of 15%
    CHECK(sound(decide_t8(short_window)).verdict == Verdict::confirmed);
    // A cgroup CPU quota below the CPUs throttles both sides, unseen by /proc/stat: no verdict.
    Costs quota = costs(500, 600);
    quota.quota_cpus = 1.0;
    const auto q = sound(decide_t8(quota));
    CHECK(q.verdict == Verdict::not_measured);
    CHECK_THAT(q.reason_text(), Catch::Contains("a CPU quota of 1.00 CPU (cgroup)"));
}

TEST_CASE("T8 stands on no figure that is not a hand-off", "[creation_cost]") {
    // Recorded: TaskHandle::get() let the caller run its own task, 30 ns "round trips" beside a
    // cache line that takes 28 ns each way between the two CPUs: 642x, confirmed on a non-hand-off.
    Costs helped = costs(19300, 30);
    helped.pool.line_one_way_ns = 28;
    helped.pool.on_worker = 3;
    const auto v = sound(decide_t8(helped));
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason_text(), Catch::Contains("implausible"));
    // Every task on the worker but faster than the line's round trip: still no verdict.
    Costs too_fast = costs(19300, 30);
    too_fast.pool.line_one_way_ns = 28;
    const auto fast = sound(decide_t8(too_fast));
    CHECK(fast.verdict == Verdict::not_measured);
    CHECK_THAT(fast.reason_text(), Catch::Contains("30 ns, below its floor of 56 ns"));
    // On one CPU there is no line to travel: the floor does not apply, the worker check does.
    Costs one_cpu = costs(7200, 1500);
    one_cpu.pool.line_one_way_ns.reset();
    one_cpu.pool.worker_cpu = 0;
    CHECK(sound(decide_t8(one_cpu)).verdict == Verdict::confirmed);
}
