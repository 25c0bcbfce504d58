// The kernel's own event counts for the calling thread, through perf_event_open(2): the software
// events every kernel with perf events has (task clock, context switches, CPU migrations, page
// faults) and, where a PMU is exposed, cycles and instructions. perf_event_paranoid and a VM without
// a virtual PMU refuse some or all of them: each refused event carries its reason, and the caller
// goes on without it (from /proc where it can).
//
// One counter group per thread: the events are started and stopped together (one ioctl on the
// group leader), so their counts cover the same interval. Counts are the thread's own (pid 0,
// cpu -1), children not included (inherit off): what a timed loop in this thread caused.
#pragma once

#include "proclab/handles.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace proclab {

enum class PerfEvent { task_clock, context_switches, cpu_migrations, page_faults, cycles, instructions };
inline constexpr std::array kAllPerfEvents{PerfEvent::task_clock,     PerfEvent::context_switches,
                                           PerfEvent::cpu_migrations, PerfEvent::page_faults,
                                           PerfEvent::cycles,         PerfEvent::instructions};

std::string_view to_string(PerfEvent e);  // "context-switches", as perf stat names it

// A count per event over one interval; nullopt where the event could not be opened.
struct PerfCounts {
    std::array<std::optional<std::uint64_t>, kAllPerfEvents.size()> values;
    std::optional<std::uint64_t> operator[](PerfEvent e) const { return values[static_cast<std::size_t>(e)]; }
    // The count divided by the operations it covered; nullopt where the event was not counted.
    std::optional<double> per_operation(PerfEvent e, int operations) const {
        const auto v = (*this)[e];
        return v && operations > 0 ? std::optional<double>(double(*v) / operations) : std::nullopt;
    }
};

class PerfCounters {
public:
    // Opens every event for the calling thread, disabled. Never throws for a refused event.
    PerfCounters();

    bool available(PerfEvent e) const { return fds_[index(e)].get() >= 0; }
    // Why an event is not available, in a few words ("perf_event_paranoid 3 forbids it (EACCES)").
    const std::string& unavailable_reason(PerfEvent e) const { return reasons_[index(e)]; }

    void start();       // reset and enable every open event, together
    PerfCounts stop();  // disable them together and read each

private:
    static std::size_t index(PerfEvent e) { return static_cast<std::size_t>(e); }
    std::array<UniqueFd, kAllPerfEvents.size()> fds_;
    std::array<std::string, kAllPerfEvents.size()> reasons_;
    int leader_ = -1;  // the first open fd: the group's leader
};

// The reason for a failed perf_event_open, from its errno and the paranoid level (-1: unknown).
std::string perf_refusal_reason(int err, int paranoid, bool hardware);

}  // namespace proclab
