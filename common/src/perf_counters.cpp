#include "proclab/perf_counters.hpp"

#include "proclab/child.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace proclab {

namespace {

struct EventSpec {
    std::uint32_t type;
    std::uint64_t config;
};

EventSpec spec_of(PerfEvent e) {
    switch (e) {
        case PerfEvent::task_clock: return {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK};
        case PerfEvent::context_switches: return {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES};
        case PerfEvent::cpu_migrations: return {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS};
        case PerfEvent::page_faults: return {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS};
        case PerfEvent::cycles: return {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES};
        case PerfEvent::instructions: return {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS};
    }
    return {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK};
}

int read_paranoid() {
    std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
    int level = -1;
    if (in >> level) return level;
    return -1;
}

}  // namespace

std::string_view to_string(PerfEvent e) {
    switch (e) {
        case PerfEvent::task_clock: return "task-clock";
        case PerfEvent::context_switches: return "context-switches";
        case PerfEvent::cpu_migrations: return "cpu-migrations";
        case PerfEvent::page_faults: return "page-faults";
        case PerfEvent::cycles: return "cycles";
        case PerfEvent::instructions: return "instructions";
    }
    return "?";
}

std::string perf_refusal_reason(int err, int paranoid, bool hardware) {
    const std::string level = paranoid >= 0 ? fmt::format("perf_event_paranoid {}", paranoid) : "perf_event_paranoid";
    switch (err) {
        case EACCES:
        case EPERM: return fmt::format("{} forbids it without CAP_PERFMON ({})", level, errno_name(err));
        case ENOENT:
        case EOPNOTSUPP:
            return hardware
                       ? fmt::format("no hardware counters exposed (a VM without a virtual PMU?) ({})", errno_name(err))
                       : fmt::format("not offered by this kernel ({})", errno_name(err));
        case ENOSYS: return "this kernel has no perf events (ENOSYS)";
        default: return fmt::format("perf_event_open failed ({})", errno_name(err));
    }
}

PerfCounters::PerfCounters() {
    const int paranoid = read_paranoid();
    for (PerfEvent e : kAllPerfEvents) {
        const EventSpec s = spec_of(e);
        perf_event_attr attr;
        std::memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = s.type;
        attr.config = s.config;
        attr.disabled = leader_ < 0 ? 1 : 0;  // the leader starts and stops the whole group
        attr.exclude_hv = 1;
        attr.read_format = 0;
        const long fd = ::syscall(SYS_perf_event_open, &attr, 0, -1, leader_, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            reasons_[index(e)] = perf_refusal_reason(errno, paranoid, s.type == PERF_TYPE_HARDWARE);
            continue;
        }
        fds_[index(e)].reset(static_cast<int>(fd));
        if (leader_ < 0) leader_ = static_cast<int>(fd);
    }
}

void PerfCounters::start() {
    if (leader_ < 0) return;
    ::ioctl(leader_, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
    ::ioctl(leader_, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

PerfCounts PerfCounters::stop() {
    PerfCounts counts;
    if (leader_ < 0) return counts;
    ::ioctl(leader_, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
    for (PerfEvent e : kAllPerfEvents) {
        const int fd = fds_[index(e)].get();
        std::uint64_t value = 0;
        if (fd >= 0 && ::read(fd, &value, sizeof value) == static_cast<ssize_t>(sizeof value))
            counts.values[index(e)] = value;
    }
    return counts;
}

}  // namespace proclab
