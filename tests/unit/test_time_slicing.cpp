// The verdict rules of demos/time_slicing/verdicts.hpp, on hand-made steps shaped like recorded ones.
#include "time_slicing/steps.hpp"
#include "time_slicing/verdicts.hpp"

#include "sound.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::time_slicing;
using proclab::test::sound;

namespace {

constexpr Nanos kMs = 1'000'000;

// Every decision a test reaches passes the sentence check.
Decision checked_p4(const std::vector<StepResult>& steps, const Interference& i) { return sound(decide_p4(steps, i)); }
Decision checked_p2(const std::vector<StepResult>& steps, const KernelSliceFacts& f, const Interference& i) {
    return sound(decide_p2(steps, f, i));
}
Decision checked_t1(const std::vector<StepResult>& steps, bool pinned, const Interference& i) {
    return sound(decide_t1(steps, pinned, i));
}

Interference quiet() { return test::interference(0.01); }
Interference loaded() { return test::interference(0.48); }  // a busy loop beside the demo took one of two CPUs

// A worker with run intervals given in ms since the go, all on `cpu`.
WorkerResult worker(int tid, std::vector<std::pair<double, double>> runs_ms, int cpu, bool thread = false) {
    WorkerResult w;
    w.tid = tid;
    w.pid = thread ? 999 : tid;
    Nanos run = 0;
    for (auto [a, b] : runs_ms) {
        w.intervals.push_back({Nanos(a * kMs), Nanos(b * kMs), cpu, 0});
        run += Nanos((b - a) * kMs);
    }
    w.run_ns = run;
    w.wall_ns = w.intervals.back().end;
    w.share = double(run) / double(w.wall_ns);
    w.gaps = runs_ms.size() - 1;
    w.run_kernel_ns = run;
    w.involuntary = w.gaps;
    w.cpus.insert(cpu);
    w.first_cpu = cpu;
    return w;
}

StepResult step_of(int cpus, std::vector<WorkerResult> workers, bool threads = false) {
    StepResult s;
    s.k = static_cast<int>(workers.size());
    s.cpus = cpus;
    s.threads = threads;
    s.work_ns = workers.front().run_ns;
    s.go_at = 0;
    s.workers = std::move(workers);
    std::vector<double> shares;
    for (const auto& w : s.workers) {
        s.wall_ns = std::max(s.wall_ns, w.wall_ns);
        shares.push_back(w.share);
        for (std::size_t j = 1; j + 1 < w.intervals.size(); ++j)
            s.slices_ns.push_back(double(w.intervals[j].end - w.intervals[j].start));
    }
    s.min_share = *std::min_element(shares.begin(), shares.end());
    s.max_share = *std::max_element(shares.begin(), shares.end());
    s.mean_share = std::accumulate(shares.begin(), shares.end(), 0.0) / double(shares.size());
    s.jain = jain_fairness(shares);
    s.expected_share = std::min(1.0, double(cpus) / double(s.k));
    s.gap_threshold_ns = 200'000;
    s.kernel_run_ns = 0;
    for (const auto& w : s.workers) s.kernel_run_ns += w.run_kernel_ns;
    derive_from_intervals(s);
    return s;
}

// K workers of `work` ms each, taking 4 ms turns round-robin on `cpus` CPUs (K >= CPUs).
StepResult round_robin(int k, int cpus, double work_ms, bool threads = false) {
    std::vector<std::vector<std::pair<double, double>>> runs(static_cast<std::size_t>(k));
    std::vector<double> left(static_cast<std::size_t>(k), work_ms);
    for (int c = 0; c < cpus; ++c) {
        double t = 0;
        for (bool any = true; any;) {
            any = false;
            for (int i = c; i < k; i += cpus) {
                auto& l = left[static_cast<std::size_t>(i)];
                if (l <= 0) continue;
                const double d = std::min(4.0, l);
                runs[static_cast<std::size_t>(i)].push_back({t, t + d});
                t += d;
                l -= d;
                any = true;
            }
        }
    }
    std::vector<WorkerResult> ws;
    for (int i = 0; i < k; ++i) ws.push_back(worker(1000 + i, runs[static_cast<std::size_t>(i)], i % cpus, threads));
    return step_of(cpus, std::move(ws), threads);
}

StepResult alone(int k, double work_ms) {  // K <= CPUs: each on its own CPU from start to end
    std::vector<WorkerResult> ws;
    for (int i = 0; i < k; ++i) ws.push_back(worker(1000 + i, {{0, work_ms}}, i));
    return step_of(2, std::move(ws));
}

}  // namespace

TEST_CASE("Concurrency and busy CPUs come from the run intervals", "[time_slicing]") {
    const auto s = round_robin(4, 2, 50);
    CHECK(s.max_running == 2);
    CHECK(s.overcommitted_ns == 0);
    CHECK(s.busy_cpus_fraction == Approx(1.0));
    // Three at once on two CPUs for 10 ms.
    auto w = s.workers;
    w.push_back(worker(2000, {{0, 10}}, 1));
    const auto over = step_of(2, w);
    CHECK(over.max_running == 3);
    CHECK(over.overcommitted_ns == 10 * kMs);
}

TEST_CASE("P4 is confirmed when all run at once up to the CPU count and take turns above it", "[time_slicing]") {
    const std::vector<StepResult> steps{alone(1, 50), alone(2, 50), round_robin(4, 2, 50), round_robin(8, 2, 50)};
    const auto v = checked_p4(steps, quiet());
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason_text(), Catch::Contains("K=8: at most 2 at once, capacity used 1"));
}

TEST_CASE("P4: a worker alone on one CPU while three share the other is not a refutation", "[time_slicing]") {
    // Recorded shape: at K=4 one worker ran 51.6 ms in one stretch (share 0.97) while the other
    // three shared the other CPU (0.42-0.57); the mean share 0.60 passed 0.5 x 1.2, which the old
    // rule called "more ran at once than CPUs". The intervals show at most 2 at once.
    std::vector<WorkerResult> ws{worker(1, {{0, 51.6}}, 0)};
    std::vector<std::vector<std::pair<double, double>>> shared(3);
    double t = 0;
    std::vector<double> left{50, 50, 50};
    while (left[0] > 0 || left[1] > 0 || left[2] > 0)
        for (std::size_t i = 0; i < 3; ++i)
            if (left[i] > 0) {
                const double d = std::min(4.0, left[i]);
                shared[i].push_back({t, t + d});
                t += d;
                left[i] -= d;
            }
    for (int i = 0; i < 3; ++i) ws.push_back(worker(2 + i, shared[std::size_t(i)], 1));
    const auto imbalanced = step_of(2, ws);
    CHECK(imbalanced.max_share > 0.95);
    CHECK(imbalanced.max_running == 2);
    const auto v = checked_p4({alone(1, 50), alone(2, 50), imbalanced}, quiet());
    CHECK(v.verdict == Verdict::confirmed);
    CHECK(imbalanced.longest_run_ns == Nanos(51.6 * kMs));
}

TEST_CASE("P4 is refuted only by the kernel counting more CPU time than the CPUs could give", "[time_slicing]") {
    // Four workers of 50 ms on 2 CPUs in 100 ms, and the kernel counts 2 more of 40 ms each in the
    // same 100 ms: 280 ms of CPU time where 2 CPUs could give 200 (beyond 5% and 6 ticks of 10 ms).
    auto s = round_robin(4, 2, 50);
    auto w = s.workers;
    for (int i = 0; i < 2; ++i) w.push_back(worker(3000 + i, {{0, 40}}, i));
    const auto over = step_of(2, w);
    REQUIRE(over.kernel_run_ns == 280 * kMs);
    const auto v = checked_p4({over}, quiet());
    CHECK(v.verdict == Verdict::refuted);
    CHECK_THAT(v.reason_text(), Catch::Contains("the kernel counted 280 ms of CPU time") && Catch::Contains("200 ms"));
    // The same excess under load still refutes: what the kernel counted is not a matter of load.
    CHECK(checked_p4({over}, loaded()).verdict == Verdict::refuted);
    // Within the count's resolution (a tick per worker) it does not.
    auto near = over;
    near.kernel_run_ns = 200 * kMs + 60 * kMs;
    CHECK(checked_p4({near}, quiet()).verdict != Verdict::refuted);
}

TEST_CASE("P4: clock gaps that show more at once than CPUs never refute; the picture is named as too coarse",
          "[time_slicing]") {
    // Recorded shape (one CPU beside a task that spins 50 us and sleeps 100 us): the workers were
    // preempted for less than the gap threshold, so both look as if they ran all along, while the
    // kernel counted what one CPU could give.
    std::vector<WorkerResult> ws{worker(1, {{0, 100}}, 0), worker(2, {{0, 100}}, 0)};
    for (auto& w : ws) w.run_kernel_ns = 33 * kMs;
    const auto step = step_of(1, ws);
    REQUIRE(step.max_running == 2);
    const auto quiet_v = checked_p4({step}, quiet());
    CHECK(quiet_v.verdict == Verdict::not_measured);
    CHECK_THAT(quiet_v.reason_text(), Catch::Contains("which cannot be") && Catch::Contains("gap threshold 200 µs"));
    CHECK(checked_p4({step}, loaded()).verdict == Verdict::not_measured);
}

TEST_CASE("P4 under load is not-measured, never refuted", "[time_slicing]") {
    // Recorded shape: a busy loop held one CPU; every step ran on the other: at most 1 at once.
    std::vector<WorkerResult> ws;
    for (int i = 0; i < 4; ++i) {
        std::vector<std::pair<double, double>> runs;
        for (int j = 0; j < 12; ++j) runs.push_back({(j * 4 + i) * 4.0, (j * 4 + i) * 4.0 + 4});
        ws.push_back(worker(1 + i, runs, 0));
    }
    const auto busy_one_cpu = step_of(2, ws);
    CHECK(busy_one_cpu.busy_cpus_fraction == Approx(0.5).margin(0.05));
    const auto v = checked_p4({alone(1, 50), busy_one_cpu}, loaded());
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason_text(), Catch::Contains("other tasks and steal took 48% of 2 CPUs"));
    // The same evidence with nothing else running: the CPUs idled while work waited.
    CHECK(checked_p4({alone(1, 50), busy_one_cpu}, quiet()).verdict == Verdict::nuanced);
    // Unknown interference excludes nothing.
    CHECK(checked_p4({alone(1, 50), busy_one_cpu}, Interference{}).verdict == Verdict::not_measured);
    // Load is read in both directions: CPUs that look busy under load confirm nothing either.
    const std::vector<StepResult> busy{alone(1, 50), alone(2, 50), round_robin(4, 2, 50)};
    CHECK(checked_p4(busy, quiet()).verdict == Verdict::confirmed);
    CHECK(checked_p4(busy, loaded()).verdict == Verdict::not_measured);
    // A window too short to count the load to within the margin is not clear of it either.
    Interference short_window = test::interference(0.05);
    short_window.window_ns = 0.1e9;  // +-20% counting resolution against a 15% margin
    short_window.other_ns = 0.05 * 2 * 0.1e9;
    CHECK(checked_p4(busy, short_window).verdict == Verdict::not_measured);
}

TEST_CASE("P4 under a CPU quota below the CPU count is nuanced, naming the quota", "[time_slicing]") {
    // Recorded under cpu.cfs_quota_us 100000 per 100000 on 2 CPUs: K=4 and K=8 kept the CPUs 0.5 busy.
    std::vector<WorkerResult> ws;
    for (int i = 0; i < 4; ++i) {
        std::vector<std::pair<double, double>> runs;
        for (int j = 0; j < 12; ++j) runs.push_back({(j * 4 + i) * 4.0, (j * 4 + i) * 4.0 + 4});
        ws.push_back(worker(1 + i, runs, 0));
    }
    const std::vector<StepResult> steps{alone(1, 50), step_of(2, ws)};
    const auto v = sound(decide_p4(steps, quiet(), 1.0));
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(), Catch::Contains("a CPU quota of 1.00 CPU (cgroup)"));
    // A quota at or above the CPU count bounds nothing.
    const std::vector<StepResult> busy{alone(1, 50), alone(2, 50), round_robin(4, 2, 50)};
    CHECK(sound(decide_p4(busy, quiet(), 2.0)).verdict == Verdict::confirmed);
    CHECK(sound(decide_p4(busy, quiet(), 1.0)).verdict == Verdict::nuanced);
}

TEST_CASE("P4 is not measured without more workers than CPUs", "[time_slicing]") {
    CHECK(checked_p4({alone(1, 50), alone(2, 50)}, quiet()).verdict == Verdict::not_measured);
}

TEST_CASE("P2 is confirmed by slices handed out in turn, and nuanced against a different configured slice",
          "[time_slicing]") {
    const std::vector<StepResult> steps{round_robin(4, 2, 50)};
    KernelSliceFacts unknown{std::nullopt, "debugfs not mounted", 4e6, std::nullopt};
    const auto v = checked_p2(steps, unknown, quiet());
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason_text(), Catch::Contains("slice median 4 ms"));
    CHECK(checked_p2(steps, KernelSliceFacts{3e6, "", 4e6, 4e6}, quiet()).verdict == Verdict::confirmed);
    const auto tick_bound = checked_p2(steps, KernelSliceFacts{0.75e6, "", 3.75e6, std::nullopt}, quiet());
    CHECK(tick_bound.verdict == Verdict::nuanced);
    // Without the kernel's jiffies, the interrupt rate is named for what it is: every timer's.
    CHECK_THAT(tick_bound.reason_text(),
               Catch::Contains("timer ticks") && Catch::Contains("the tick is at least that"));
    // With them, the tick is the kernel's own count (recorded: interrupts every 3.75 ms, the tick 4 ms).
    const auto kernel_tick = checked_p2(steps, KernelSliceFacts{0.75e6, "", 3.75e6, 4e6}, quiet());
    CHECK_THAT(kernel_tick.reason_text(), Catch::Contains("timer tick 4 ms (the kernel's jiffies)"));
}

TEST_CASE("P2 is refuted when over-subscribed workers ran one after another", "[time_slicing]") {
    std::vector<WorkerResult> ws;
    for (int i = 0; i < 4; ++i) ws.push_back(worker(1 + i, {{(i / 2) * 50.0, (i / 2) * 50.0 + 50}}, i % 2));
    CHECK(checked_p2({step_of(2, ws)}, {}, quiet()).verdict == Verdict::refuted);
}

TEST_CASE("P2: preempted but not in turns is nuanced, not confirmed", "[time_slicing]") {
    // Four workers on 2 CPUs, each run in two stretches (one gap): taken off a CPU, yet none got
    // several slices in turn, where two of them had to wait.
    std::vector<WorkerResult> ws;
    for (int i = 0; i < 4; ++i)
        ws.push_back(
            worker(1 + i, {{(i / 2) * 25.0, (i / 2) * 25.0 + 25}, {(i / 2) * 25.0 + 50, (i / 2) * 25.0 + 75}}, i % 2));
    const auto v = checked_p2({step_of(2, ws)}, {}, quiet());
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(), Catch::Contains("fewer got several slices in turn than the 2 that had to wait"));
}

TEST_CASE("P2 is not measured when nobody had to take turns", "[time_slicing]") {
    CHECK(checked_p2({alone(2, 50)}, {}, quiet()).verdict == Verdict::not_measured);
}

TEST_CASE("P2 names uneven shares across CPUs without holding them against the claim", "[time_slicing]") {
    auto s = round_robin(8, 2, 50);
    s.jain = 0.68;  // recorded: one of eight workers had a CPU to itself for 50 ms
    const auto v = checked_p2({s}, {}, quiet());
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason_text(), Catch::Contains("per-CPU run queues"));
}

TEST_CASE("T1 needs threads with their own tids and stats, and the scheduler's own move to be confirmed",
          "[time_slicing]") {
    auto t = round_robin(4, 2, 24, true);
    t.started_on_one_cpu = true;
    CHECK(checked_t1({t}, false, quiet()).verdict == Verdict::nuanced);        // no move seen with a CPU free
    CHECK(checked_t1({t}, false, loaded()).verdict == Verdict::not_measured);  // no CPU was free to move to
    Interference short_window = quiet();                                       // +-20%: not surely free either
    short_window.window_ns = 0.1e9;
    short_window.other_ns = 0;
    CHECK(checked_t1({t}, false, short_window).verdict == Verdict::not_measured);
    t.workers[1].first_move_ns = 6 * kMs;
    t.first_move_ns = 6 * kMs;
    const auto v = checked_t1({t}, false, quiet());
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason_text(), Catch::Contains("the first after 6 ms"));
    CHECK(checked_t1({t}, true, quiet()).verdict == Verdict::nuanced);  // pinned: no move possible
    t.workers[2].tid = t.workers[1].tid;
    CHECK(checked_t1({t}, false, quiet()).verdict == Verdict::refuted);
    CHECK(checked_t1({round_robin(4, 2, 24)}, false, quiet()).verdict == Verdict::not_measured);
}
