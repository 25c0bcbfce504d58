// The emulated GIL and the verdict rules of demos/threads_parallel/.
#include "threads_parallel/runs.hpp"
#include "threads_parallel/verdicts.hpp"

#include "sound.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::threads_parallel;
using proclab::test::sound;

TEST_CASE("speedup and efficiency arithmetic", "[threads_parallel]") {
    CHECK(speedup(400, 200) == 2);
    CHECK(speedup(400, 0) == 0);
    CHECK(efficiency(1.8, 2) == Approx(0.9));
    CHECK(efficiency(1, 0) == 0);
}

TEST_CASE("overlap counts only the time two or more intervals share", "[threads_parallel]") {
    CHECK(overlap_ns({}) == 0);
    CHECK(overlap_ns({{0, 0, 100}, {1, 100, 200}}) == 0);  // touching is not overlapping
    CHECK(overlap_ns({{0, 0, 100}, {1, 50, 200}}) == 50);
    CHECK(overlap_ns({{0, 0, 100}, {1, 10, 20}, {2, 15, 30}, {0, 300, 400}}) == 20);  // 10-30
}

TEST_CASE("the emulated GIL hands over within a bounded number of intervals", "[threads_parallel][gil]") {
    // Two threads that never give the lock up voluntarily: only drop requests hand it over.
    EmulatedGil gil(std::chrono::milliseconds(2));
    std::atomic<bool> stop{false};
    std::atomic<int> holder{-1};
    std::atomic<bool> overlapped{false};
    std::atomic<int> turns_of[2] = {0, 0};
    auto body = [&](int me) {
        gil.take();
        while (!stop.load()) {
            if (holder.exchange(me) != me) turns_of[me].fetch_add(1);
            for (int i = 0; i < 100; ++i) asm volatile("");
            if (holder.load() != me) overlapped = true;
            if (gil.check_drop_request()) holder.store(-1);
        }
        holder.store(-1);
        gil.release();
    };
    std::thread a(body, 0), b(body, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
    a.join();
    b.join();
    CHECK_FALSE(overlapped.load());  // never two holders
    // 200 ms at a 2 ms interval: generously, each thread got at least a few turns.
    CHECK(turns_of[0].load() >= 3);
    CHECK(turns_of[1].load() >= 3);
    CHECK(gil.switches() >= 6);
}

namespace {
using test::interference;

Decision t2_of(const Evidence& e) { return sound(decide_t2(e)); }
Decision t9_of(const Evidence& e) { return sound(decide_t9(e)); }

Evidence parallel_machine() {
    Evidence e;
    e.cpus = 2;
    e.n_at_cpus = 2;
    e.interference = interference(0.02);
    e.cpp_speedup = 1.9;
    e.cpp_overlap = 0.9;
    e.cpp_busy = 1.95;
    e.gil_speedup = 0.98;
    e.gil_overlap = 0;
    e.gil_switches = 80;
    e.python.ran = true;
    e.python.version = "3.11.7";
    e.python.n = 2;
    e.python.one = {1.0, 1.0};
    e.python.threads = {1.05, 1.0};
    e.python.processes = {0.52, 1.0};
    e.python.hash_one = {1.0, 1.0};
    e.python.hash_threads = {0.55, 1.0};
    return e;
}
}  // namespace

TEST_CASE("T2: parallel C++ threads confirm, serial ones refute, a busy machine or one CPU decides nothing",
          "[threads_parallel]") {
    CHECK(t2_of(parallel_machine()).verdict == Verdict::confirmed);
    auto slow = parallel_machine();
    slow.cpp_speedup = 1.2;
    CHECK(t2_of(slow).verdict == Verdict::nuanced);
    auto serial = parallel_machine();
    serial.cpp_overlap = 0;
    serial.cpp_speedup = 1.0;
    serial.cpp_busy = 1.0;
    CHECK(t2_of(serial).verdict == Verdict::refuted);
    // The clock-gap picture alone refutes nothing: the kernel counted two CPUs' worth.
    auto gaps_only = parallel_machine();
    gaps_only.cpp_overlap = 0;
    CHECK(t2_of(gaps_only).verdict == Verdict::confirmed);
    // Between one at a time and parallel by the kernel's count: neither shown.
    auto between = serial;
    between.cpp_busy = 1.2;
    CHECK(t2_of(between).verdict == Verdict::not_measured);
    // Recorded: a busy loop beside the suite (the suite at nice 19) took one CPU, and the old rule
    // said "C++ threads never ran at the same time". Load decides nothing.
    auto busy = serial;
    busy.interference = interference(0.48);
    const auto v = t2_of(busy);
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason_text(), Catch::Contains("other load was not surely below the margin"));
    // Nor toward confirmed: sleepers on every CPU took 40%, and a slowed one-thread baseline made
    // 1.65x look like parallel scaling.
    auto scaled_under_load = parallel_machine();
    scaled_under_load.cpp_speedup = 1.65;
    scaled_under_load.interference = interference(0.40);
    CHECK(t2_of(scaled_under_load).verdict == Verdict::not_measured);
    // A window too short to count the load within the margin is not clear of it.
    auto short_window = parallel_machine();
    short_window.interference.window_ns = 0.1e9;
    short_window.interference.other_ns = 0;
    CHECK(t2_of(short_window).verdict == Verdict::not_measured);
    auto unknown = serial;
    unknown.interference = Interference{};
    CHECK(t2_of(unknown).verdict == Verdict::not_measured);
    // They did run at once, but the speedup under load says nothing about the OS.
    auto slow_under_load = slow;
    slow_under_load.interference = interference(0.48);
    CHECK(t2_of(slow_under_load).verdict == Verdict::not_measured);
    auto one = parallel_machine();
    one.cpus = 1;
    CHECK(t2_of(one).verdict == Verdict::not_measured);
}

TEST_CASE("T2 and T9 under a CPU quota below the CPU count decide nothing, and name the quota", "[threads_parallel]") {
    // Recorded in the hostile test: a 1-CPU quota on 2 CPUs, one trial "refuted" (the kernel
    // counted 1.0 CPUs busy, the CPUs free of other load) and two an implausible 2.23x.
    auto throttled = parallel_machine();
    throttled.quota_cpus = 1.0;
    throttled.cpp_busy = 1.0;
    throttled.cpp_speedup = 2.23;
    const auto t2 = t2_of(throttled);
    CHECK(t2.verdict == Verdict::not_measured);
    CHECK_THAT(t2.reason_text(), Catch::Contains("a CPU quota of 1.00 CPU (cgroup) on 2 CPUs"));
    const auto t9 = t9_of(throttled);
    CHECK(t9.verdict == Verdict::not_measured);
    CHECK_THAT(t9.reason_text(), Catch::Contains("CPU quota"));
    // A quota at or above the CPU count bounds nothing.
    auto generous = parallel_machine();
    generous.quota_cpus = 2.0;
    CHECK(t2_of(generous).verdict == Verdict::confirmed);
}

TEST_CASE("T9: serialised threads confirm, a lock-releasing case or a free-threaded build makes it nuanced",
          "[threads_parallel]") {
    auto plain = parallel_machine();
    plain.python.hash_threads = {1.0, 1.0};  // hashing did not run in parallel either
    CHECK(t9_of(plain).verdict == Verdict::confirmed);
    // Under load neither kind of CPython thread can show a second CPU: not a confirmation.
    auto plain_loaded = plain;
    plain_loaded.interference = interference(0.48);
    CHECK(t9_of(plain_loaded).verdict == Verdict::not_measured);
    auto plain_short_window = plain;  // +-20% counting resolution against a 15% margin
    plain_short_window.interference.window_ns = 0.1e9;
    plain_short_window.interference.other_ns = 0;
    CHECK(t9_of(plain_short_window).verdict == Verdict::not_measured);
    auto no_second_cpu = plain;
    no_second_cpu.python.processes = {1.0, 1.0};
    CHECK(t9_of(no_second_cpu).verdict == Verdict::not_measured);
    const auto released = t9_of(parallel_machine());
    CHECK(released.verdict == Verdict::nuanced);
    CHECK_THAT(released.reason_text(), Catch::Contains("releases it"));
    auto free_threaded = parallel_machine();
    free_threaded.python.gil_enabled = false;
    free_threaded.python.free_threaded_build = true;
    free_threaded.python.threads = {0.52, 1.0};
    const auto ft = t9_of(free_threaded);
    CHECK(ft.verdict == Verdict::nuanced);
    CHECK_THAT(ft.reason_text(), Catch::Contains("free-threaded") && Catch::Contains("GIL enabled: no"));
    // Between one at a time and parallel: neither shown.
    auto between = plain;
    between.python.threads = {1.0, 1.2};
    CHECK(t9_of(between).verdict == Verdict::not_measured);
}

TEST_CASE("T9 is refuted by a recorded CPython run with the GIL enabled and pure-Python threads on two CPUs",
          "[threads_parallel]") {
    auto e = parallel_machine();
    e.python.gil_enabled = true;
    e.python.threads = {0.55, 1.02};  // 1.85 CPUs busy: two threads of bytecode at once
    const auto v = t9_of(e);
    CHECK(v.verdict == Verdict::refuted);
    CHECK_THAT(v.reason_text(), Catch::Contains("kept 1.85 CPUs busy") && Catch::Contains("with the GIL enabled"));
}

TEST_CASE("T9 without python3 is not measured: the emulated GIL is the mechanism, not Python", "[threads_parallel]") {
    auto no_python = parallel_machine();
    no_python.python = CPython{};
    no_python.python.why_not = "python3 is not installed (not on PATH)";
    const auto v = t9_of(no_python);
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason_text(), Catch::Contains("python3 is not installed"));
    // A broken emulated lock is a bug of the emulation, not evidence about Python.
    auto broken_lock = parallel_machine();
    broken_lock.gil_overlap = 0.5;
    CHECK(t9_of(broken_lock).verdict == t9_of(parallel_machine()).verdict);
}

TEST_CASE("T2's second nuance: memory-bound threads that stop at the memory bandwidth", "[threads_parallel]") {
    auto e = parallel_machine();
    e.n_at_cpus = e.cpus = 16;
    e.cpp_speedup = 15.2;
    e.mem_speedup = 4.1;  // 26% of N: the memory system, not the CPUs
    e.mem_overlap = 0.97;
    e.mem_bandwidth_one = 12e9;
    e.mem_bandwidth_n = 49e9;
    const auto v = t2_of(e);
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(), Catch::Contains("memory-bound: 16 threads 4.1x"));
    // Scaling memory-bound work (a machine whose bandwidth one core cannot use up) confirms.
    e.mem_speedup = 12;
    CHECK(t2_of(e).verdict == Verdict::confirmed);
    // Under load the memory figure decides nothing either.
    e.mem_speedup = 4.1;
    e.interference = test::interference(0.4);
    CHECK(t2_of(e).verdict != Verdict::nuanced);
    // Not run (--work compute): the compute rule alone.
    auto compute_only = parallel_machine();
    compute_only.mem_speedup = -1;
    CHECK(t2_of(compute_only).verdict == Verdict::confirmed);
}

TEST_CASE("a speedup above N is implausible: T2 does not stand on it", "[threads_parallel]") {
    auto e = parallel_machine();
    e.cpp_speedup = 2.4;  // two threads cannot be 2.4x one
    const auto v = t2_of(e);
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason_text(), Catch::Contains("above its ceiling of 2"));
}

TEST_CASE("A memory-bound job reads its buffer slice by slice, every thread from its own offset",
          "[threads_parallel]") {
    auto job = Job::memory(8, 4 * kSliceBytes);
    CHECK(job.bytes_per_chunk() == kSliceBytes);
    const auto one = run_threads(1, job, nullptr);
    const auto two = run_threads(2, job, nullptr);
    CHECK(one.bytes == 8 * kSliceBytes);
    CHECK(two.bytes == one.bytes);
    CHECK(two.thread_cpu_ns.size() == 2);
    CHECK_THROWS_AS(Job::memory(8, kSliceBytes + 1), std::invalid_argument);
    // Threads 0 and 1 of 2 start half the buffer apart: their first chunks read different slices.
    CHECK(job.run_chunk(0, 2, 0, 0) != job.run_chunk(1, 2, 0, 0));
}

TEST_CASE("The sweep's default thread counts stay bounded on large machines", "[threads_parallel]") {
    CHECK(default_thread_counts(1) == std::vector<int>{1, 2});
    CHECK(default_thread_counts(2) == std::vector<int>{1, 2, 3, 4});
    CHECK(default_thread_counts(8).size() == 16);
    const auto big = default_thread_counts(256);
    CHECK(big == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512});
    const auto odd = default_thread_counts(12);  // the CPUs and twice them are always in
    CHECK(std::find(odd.begin(), odd.end(), 12) != odd.end());
    CHECK(odd.back() == 24);
    CHECK(std::is_sorted(odd.begin(), odd.end()));
}
