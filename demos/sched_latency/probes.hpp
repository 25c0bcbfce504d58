// The two latency probes (cyclictest's and schbench's shapes) and what the kernel says beside them.
//
// Timer lateness: a thread sleeps to absolute deadlines (clock_nanosleep, TIMER_ABSTIME, every
// `interval`) and records how late it woke: the timer's slack and expiry, the wake-up, and any
// wait for a CPU. Its scheduling policy is set on that thread alone: SCHED_OTHER at nice 0, at
// nice -10 (CAP_SYS_NICE or RLIMIT_NICE), SCHED_FIFO (CAP_SYS_NICE or RLIMIT_RTPRIO); a policy
// that cannot be set is a row with the reason, never a silent fallback.
//
// Wake-up latency: a waker stamps CLOCK_MONOTONIC and wakes a sleeper (a futex word or a pipe),
// and the sleeper records the delay until it runs; both threads of this process, or two processes
// sharing one anonymous MAP_SHARED page. The waker waits for each answer before the next wake, so
// every wake finds the sleeper asleep.
//
// Beside both: the sleeper's own schedstat (/proc/thread-self/schedstat: run_delay, the time it
// was runnable but not running, and the times it was switched in), read at its start and end, so
// run_delay per wake-up is the kernel's own count of the scheduling part of the latency (what
// runqlat shows, without BPF or root); and the timer interrupts (/proc/interrupts), from which the
// tick is estimated.
#pragma once

#include "proclab/clock.hpp"
#include "proclab/sched.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace proclab::sched_latency {

enum class Policy { other, nice_minus_10, fifo };
inline constexpr int kFifoPriority = 50;  // cyclictest -p 50: above the kernel's default threads, below its watchdogs
inline constexpr int kNiceRaised = -10;

std::string_view name(Policy p);         // "SCHED_OTHER", "nice -10", "SCHED_FIFO 50"
std::string_view option_name(Policy p);  // "other", "nice-10", "fifo"
std::optional<Policy> policy_from_option(std::string_view text);

// Sets `p` on the calling thread; "" on success, else why not, in a few words with the errno name.
std::string apply_policy(Policy p);

// What the sleeper's own schedstat said between its start and end.
struct KernelView {
    bool known = false;
    std::string unknown_reason;
    double run_delay_ns = 0;       // runnable but not running (schedstat field 2)
    std::int64_t switched_in = 0;  // times it was given a CPU (field 3)
    double run_delay_per_wakeup() const { return switched_in > 0 ? run_delay_ns / double(switched_in) : 0; }
};

struct Samples {
    std::vector<double> ns;  // one per wake-up: how late it ran
    std::int64_t wakeups_planned = 0;
    KernelView kernel;
    std::string refused;         // the policy could not be set: why (no samples)
    double timer_slack_ns = -1;  // the sleeper's timer slack (prctl), where it is known
    // perf_event_open's counts for the sleeper thread over the measured wake-ups (timer lateness
    // only): context switches per wake-up (2 where each sleep and each wake is a switch) and CPU
    // migrations in all; nullopt where refused, with the reason.
    std::optional<double> switches_per_wakeup;
    std::optional<double> migrations;
    std::string counters_unavailable;
};

struct LatenessConfig {
    Policy policy = Policy::other;
    Nanos interval_ns = 1'000'000;
    Nanos duration_ns = 100'000'000;
    std::optional<int> pin_cpu;
};
// Runs the sleeper in a new thread with the policy set, for the duration.
Samples measure_timer_lateness(const LatenessConfig& config, double clock_overhead_ns);

enum class Channel { futex, pipe };
enum class Kind { threads, processes };
std::string_view name(Channel c);
std::string_view name(Kind k);

struct WakeupConfig {
    Channel channel = Channel::futex;
    Kind kind = Kind::threads;
    Nanos interval_ns = 1'000'000;
    Nanos duration_ns = 100'000'000;
    std::optional<int> pin_cpu;
};
Samples measure_wakeup(const WakeupConfig& config, double clock_overhead_ns);

// Timer interrupts per CPU (the LOC line on x86, arch_timer on Arm), or nullopt where absent.
std::optional<std::vector<std::int64_t>> timer_interrupts();
// The tick as observed over a loaded window: the timer interrupts of the busy CPUs (a busy CPU
// ticks at HZ even with NO_HZ) less the sleeper's own timer expiries, per busy CPU per second.
// nullopt when a reading is missing or the count is too small to say (under 10 per CPU).
std::optional<double> observed_tick_ns(const std::vector<std::int64_t>& before, const std::vector<std::int64_t>& after,
                                       const std::vector<int>& busy_cpus, std::int64_t sleeper_wakeups,
                                       double window_ns);

}  // namespace proclab::sched_latency
