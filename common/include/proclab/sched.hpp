// The kernel's own view of a task (a process's thread): /proc/<pid>/task/<tid>/schedstat, the
// context-switch counts in .../status and the migrations in .../sched; and the pieces of
// time-slice measurement: a gap detector over a spinning loop's clock readings, Jain's index.
#pragma once

#include "proclab/clock.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace proclab {

struct TaskSchedStats {
    std::int64_t run_ns = -1;                // time on a CPU (schedstat field 1)
    std::int64_t wait_ns = -1;               // time runnable but waiting for a CPU (field 2)
    std::int64_t timeslices = -1;            // times it was switched in (field 3)
    std::int64_t voluntary_switches = -1;    // status: voluntary_ctxt_switches
    std::int64_t involuntary_switches = -1;  // status: nonvoluntary_ctxt_switches
    std::int64_t migrations = -1;            // sched: se.nr_migrations (needs CONFIG_SCHED_DEBUG); -1 unknown
};

// "run wait slices\n" -> the three numbers; empty on malformed text.
std::optional<TaskSchedStats> parse_schedstat(std::string_view text);
// se.nr_migrations from /proc/.../sched text; empty when absent.
std::optional<std::int64_t> parse_nr_migrations(std::string_view text);

// Reads all of it for one task; fields that cannot be read stay -1. `dir` is e.g.
// "/proc/thread-self" or "/proc/1234/task/1235".
TaskSchedStats read_task_stats(const std::string& dir);

// Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when all are equal, 1/n when one gets all.
// Throws std::invalid_argument on no values; 1 when all are zero.
double jain_fairness(std::span<const double> values);

// A loop that reads the clock and does a fixed chunk of work between reads runs undisturbed
// with small steps; a step larger than the threshold means the task was off the CPU in between.
// Feed every reading to step(); when it returns true, `closed()` is the run interval that ended.
class GapDetector {
public:
    struct Interval {
        Nanos start;
        Nanos end;
    };

    GapDetector(Nanos threshold, Nanos first_reading) noexcept
        : threshold_(threshold), last_(first_reading), interval_start_(first_reading) {}

    bool step(Nanos now) noexcept {
        const Nanos delta = now - last_;
        const bool gap = delta > threshold_;
        if (gap) {
            closed_ = {interval_start_, last_};
            interval_start_ = now;
            ++gaps_;
        } else {
            run_ns_ += delta;
        }
        last_ = now;
        return gap;
    }

    // Ends the current interval at the last reading without a gap (the task moved to another CPU
    // without being seen off it); the next one starts there. closed() is the one that ended.
    void split() noexcept {
        closed_ = {interval_start_, last_};
        interval_start_ = last_;
    }

    Interval closed() const noexcept { return closed_; }
    Interval current() const noexcept { return {interval_start_, last_}; }  // the one still open
    Nanos run_ns() const noexcept { return run_ns_; }
    std::uint64_t gaps() const noexcept { return gaps_; }

private:
    Nanos threshold_;
    Nanos last_;
    Nanos interval_start_;
    Nanos run_ns_ = 0;
    std::uint64_t gaps_ = 0;
    Interval closed_{0, 0};
};

// The gap threshold from an undisturbed loop's steps: well above the loop's own jitter (8x its
// 99.9th percentile), at least 20 µs (an interrupt is not a switch) and at most 500 µs (a time
// slice is milliseconds).
Nanos gap_threshold(std::span<const double> undisturbed_steps_ns);

}  // namespace proclab

namespace proclab {

// The local timer interrupts per CPU from /proc/interrupts text: the "LOC:" line on x86, else the
// "arch_timer" line on Arm. Index = CPU column. Empty when neither is there.
std::vector<std::int64_t> parse_timer_interrupts(std::string_view text);

// The kernel's tick counter, "jiffies: N" in /proc/timer_list text (readable by root only).
std::optional<std::uint64_t> parse_jiffies(std::string_view timer_list_text);

// The timer tick as the kernel counts it: jiffies read now and again at tick_ns(), against the
// monotonic clock. Unlike local timer interrupts (which any hrtimer adds to), jiffies advance once
// per tick, so this is CONFIG_HZ itself. nullopt without /proc/timer_list, or before `min_ticks`
// ticks (their count's error: one tick in min_ticks).
class JiffiesClock {
public:
    JiffiesClock();
    std::optional<double> tick_ns(std::uint64_t min_ticks = 100) const;
    const std::string& unknown_reason() const { return unknown_; }

private:
    std::string unknown_;  // first: the constructor's first reading fills it in
    std::optional<std::uint64_t> start_;
    Nanos start_ns_ = 0;
};

}  // namespace proclab
