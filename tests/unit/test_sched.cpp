#include "proclab/sched.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <random>
#include <vector>

using namespace proclab;

TEST_CASE("gap detection finds the known gaps in a synthetic trace and ignores noise below the threshold", "[sched]") {
    // A loop stepping 2 µs with up to 3 µs of jitter, off the CPU for 4 ms at three known moments.
    constexpr Nanos step = 2000, threshold = 50'000;
    std::mt19937 rng(42);
    std::uniform_int_distribution<Nanos> jitter(0, 3000);
    std::vector<Nanos> gap_starts;
    Nanos t = 1'000'000;
    GapDetector detector(threshold, t);
    std::vector<GapDetector::Interval> closed;
    Nanos expected_run = 0;
    for (int i = 1; i <= 30000; ++i) {
        Nanos delta = step + jitter(rng);
        if (i % 10000 == 0) {
            gap_starts.push_back(t);
            delta = 4'000'000;
        } else {
            expected_run += delta;
        }
        t += delta;
        if (detector.step(t)) closed.push_back(detector.closed());
    }
    REQUIRE(closed.size() == 3);
    CHECK(detector.gaps() == 3);
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(closed[i].end == gap_starts[i]);  // each run interval ends where the gap began
    CHECK(closed[0].start == 1'000'000);
    CHECK(closed[1].start == gap_starts[0] + 4'000'000);
    CHECK(detector.run_ns() == expected_run);  // gaps are not counted as run time
    CHECK(detector.current().end == t);
}

TEST_CASE("a trace without gaps is one run interval", "[sched]") {
    GapDetector detector(20'000, 0);
    for (Nanos t = 1000; t <= 1'000'000; t += 1000) CHECK_FALSE(detector.step(t));
    CHECK(detector.gaps() == 0);
    CHECK(detector.run_ns() == 1'000'000);
    CHECK(detector.current().start == 0);
}

TEST_CASE("the gap threshold sits well above the loop's jitter, within bounds", "[sched]") {
    std::vector<double> steps(10000, 2000.0);
    CHECK(gap_threshold(steps) == 20'000);  // 8 x 2 µs is below the 20 µs floor
    steps[5000] = 1e6;                      // one interrupt does not move the 99.9th percentile
    CHECK(gap_threshold(steps) == 20'000);
    std::vector<double> slow(10000, 10'000.0);
    CHECK(gap_threshold(slow) == 80'000);
    std::vector<double> awful(10000, 1e6);
    CHECK(gap_threshold(awful) == 500'000);  // the ceiling: a slice is milliseconds
}

TEST_CASE("Jain's fairness index is 1 for equal shares and 1/n when one takes all", "[sched]") {
    CHECK(jain_fairness(std::vector<double>{0.5, 0.5, 0.5, 0.5}) == Approx(1.0));
    CHECK(jain_fairness(std::vector<double>{1, 0, 0, 0}) == Approx(0.25));
    CHECK(jain_fairness(std::vector<double>{0.6, 0.4}) == Approx(1.0 / (2 * 0.52)));
    CHECK(jain_fairness(std::vector<double>{0, 0}) == 1);
    CHECK_THROWS(jain_fairness(std::vector<double>{}));
}

TEST_CASE("schedstat text is parsed into run time, wait time and slices", "[sched]") {
    const auto s = parse_schedstat("1234567 890 42\n");
    REQUIRE(s);
    CHECK(s->run_ns == 1234567);
    CHECK(s->wait_ns == 890);
    CHECK(s->timeslices == 42);
    CHECK_FALSE(parse_schedstat("").has_value());
    CHECK_FALSE(parse_schedstat("12 34").has_value());
    CHECK_FALSE(parse_schedstat("a b c").has_value());
}

TEST_CASE("migrations are read from a captured /proc/PID/sched", "[sched]") {
    const char* text =
        "time_slicing (4242, #threads: 1)\n"
        "-------------------------------------------------------------------\n"
        "se.exec_start                                :      12345678.901234\n"
        "se.nr_migrations                             :                    7\n"
        "nr_switches                                  :                  120\n";
    CHECK(parse_nr_migrations(text) == 7);
    CHECK_FALSE(parse_nr_migrations("nr_switches : 3\n").has_value());
}

TEST_CASE("timer interrupts per CPU come from the LOC line of /proc/interrupts", "[sched]") {
    const char* x86 =
        "           CPU0       CPU1\n"
        "  0:         44          0   IO-APIC   2-edge      timer\n"
        "LOC:     123456     654321   Local timer interrupts\n"
        "RES:         10         20   Rescheduling interrupts\n";
    CHECK(parse_timer_interrupts(x86) == std::vector<std::int64_t>{123456, 654321});
    const char* arm =
        "           CPU0       CPU1\n"
        " 11:       9000       8000     GICv3  27 Level     arch_timer\n";
    CHECK(parse_timer_interrupts(arm) == std::vector<std::int64_t>{9000, 8000});
    CHECK(parse_timer_interrupts("nothing here\n").empty());
}

TEST_CASE("the kernel's view of this thread is readable", "[sched][os]") {
    // The kernel adds a running task's time at ticks and switches: run across a few ticks first.
    const Nanos start = now_ns();
    while (now_ns() - start < 50'000'000) {}
    const auto s = read_task_stats("/proc/thread-self");
    CHECK(s.run_ns > 0);
    CHECK(s.timeslices > 0);
    CHECK(s.voluntary_switches >= 0);
    CHECK(s.involuntary_switches >= 0);
}

TEST_CASE("the kernel's tick counter is read from /proc/timer_list's jiffies line, not its indented cousins",
          "[sched]") {
    const std::string text =
        "Timer List Version: v0.9\nnow at 123 nsecs\n  .idle_jiffies   : 4295615936\n  .last_jiffies   : 4295615937\n"
        "jiffies: 4295615939\n";
    REQUIRE(parse_jiffies(text));
    CHECK(*parse_jiffies(text) == 4295615939ULL);
    CHECK_FALSE(parse_jiffies("  .last_jiffies   : 1\n"));
    CHECK_FALSE(parse_jiffies("jiffies: x\n"));
}

TEST_CASE("a JiffiesClock says why it has no tick, or gives one once the count has moved", "[sched]") {
    const JiffiesClock clock;
    if (!clock.unknown_reason().empty()) {  // not root: /proc/timer_list is root's
        CHECK_FALSE(clock.tick_ns(0));
        return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // at least 5 ticks at the coarsest HZ
    const auto t = clock.tick_ns(1);
    REQUIRE(t);
    CHECK(*t >= 0.5e6);  // HZ 2000 at most
    CHECK(*t <= 20e6);   // HZ 50 at least (100 is the coarsest Linux builds)
}
