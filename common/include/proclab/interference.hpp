// What else used the CPUs while a measurement ran: other tasks' CPU time and the hypervisor's
// steal time, from the kernel's per-CPU accounting in /proc/stat, against this process's own CPU
// time (getrusage: its threads, and its children once reaped). A verdict that depends on free
// CPUs consults it: where interference is larger than the claim's margin, load of the moment
// decides nothing (docs/schema.md, "Interference").
//
// Resolution: /proc/stat counts in USER_HZ ticks (10 ms at the usual 100), so each CPU's idle
// and steal figures carry up to one tick of error at each end of the window. resolution() states
// that bound as a fraction of the window; keep windows long enough (hundreds of milliseconds)
// for it to be small against the margins.
#pragma once

#include "proclab/clock.hpp"
#include "proclab/evidence.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab {

// One "cpuN ..." line of /proc/stat, in USER_HZ ticks.
struct CpuTicks {
    int cpu = -1;
    std::int64_t busy = 0;   // user + nice + system + irq + softirq (guest time is inside user)
    std::int64_t idle = 0;   // idle + iowait: nobody wanted the CPU
    std::int64_t steal = 0;  // the hypervisor ran something else on this virtual CPU
};

struct ProcStat {
    std::vector<CpuTicks> cpus;        // per CPU, the "cpu" total line excluded
    std::optional<int> procs_running;  // tasks runnable at the moment of reading, ours included

    const CpuTicks* find(int cpu) const;  // nullptr when that CPU has no line
};

// Parses /proc/stat text; cpus is empty when no per-CPU line is there.
ProcStat parse_proc_stat(std::string_view text);

struct Interference {
    bool known = false;
    std::string unknown_reason;
    int cpus = 0;  // the CPUs watched (this process's affinity)
    double window_ns = 0;
    double other_ns = 0;        // CPU time of tasks that are not ours, on the watched CPUs
    double steal_ns = 0;        // time the hypervisor took from the watched CPUs
    double own_ns = 0;          // our CPU time in the window
    double tick_ns = 10e6;      // one USER_HZ tick
    int procs_running_max = 0;  // at the two readings, ours included

    double capacity_ns() const { return double(cpus) * window_ns; }
    // Other tasks' and the hypervisor's share of the watched CPUs' time, 0..1.
    double fraction() const { return capacity_ns() > 0 ? (other_ns + steal_ns) / capacity_ns() : 0; }
    double steal_fraction() const { return capacity_ns() > 0 ? steal_ns / capacity_ns() : 0; }
    // CPUs' worth of other work on average.
    double other_cpus() const { return window_ns > 0 ? (other_ns + steal_ns) / window_ns : 0; }
    // The counting error bound, as a fraction: two ticks (idle and steal) per CPU at each end.
    double resolution() const { return window_ns > 0 ? 2 * tick_ns / window_ns : 1; }
    // Whether the interference was above `margin` (a fraction of the watched CPUs' time). Unknown
    // interference counts as above: nothing can be excluded.
    bool exceeds(double margin) const { return !known || fraction() > margin; }
    // Whether the interference was surely within `margin`: measured, and below it by more than the
    // counting resolution (a window too short to tell is not clear of anything).
    bool clear_of(double margin) const { return known && fraction() + resolution() <= margin; }
    // "other tasks and steal took 3.1% of 2 CPUs over 412 ms (steal 0.0%, resolution ±4.9%)"
    std::string describe() const;

    // Two windows together (their sums), e.g. the trials of one experiment.
    Interference& operator+=(const Interference& other);
};

// Start it before the measurement and call stop() after it (after children are reaped: a child
// still running is not yet in getrusage's count, so its CPU time would look like someone else's).
class InterferenceProbe {
public:
    explicit InterferenceProbe(std::vector<int> cpus);
    Interference stop() const;

private:
    struct Reading {
        Nanos at = 0;
        std::optional<ProcStat> stat;
        std::string error;
        double own_ns = 0;
    };
    static Reading read();

    std::vector<int> cpus_;
    Reading start_;
};

// The allowed CPU that was idle longest over `window` (two /proc/stat readings), for a measurement
// that must pin to one CPU: a busy loop elsewhere on the machine then does not sit on it. The
// first of `cpus` when /proc/stat cannot tell (or on a tie).
int idlest_cpu(const std::vector<int>& cpus, Nanos window_ns = 50'000'000);

// A rule that consults the interference uses its facts (interference, interference_margin, steal,
// interference_cpus, interference_window, interference_resolution; interference_unknown when it
// could not be measured) and quotes them with the phrase this returns: "other tasks and steal took
// {interference} of {interference_cpus} CPUs over {interference_window} (steal {steal}, ...)".
std::string use_interference(Rule& rule, const Interference& i, double margin);
// The same facts, and the short phrase for a verdict's one-line summary, where a rule declines
// because of the load: "other load {interference} of {interference_cpus:count CPU} (margin ...)".
std::string interference_summary(Rule& rule, const Interference& i, double margin);

// Pure: interference between two readings of /proc/stat, given our own CPU time in between.
Interference interference_between(const ProcStat& before, const ProcStat& after, const std::vector<int>& cpus,
                                  double window_ns, double own_ns, double tick_ns);

}  // namespace proclab
