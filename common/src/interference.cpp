#include "proclab/interference.hpp"

#include "proclab/environment.hpp"
#include "proclab/units.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

namespace proclab {

ProcStat parse_proc_stat(std::string_view text) {
    ProcStat out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("cpu", 0) == 0 && line.size() > 3 && std::isdigit(static_cast<unsigned char>(line[3]))) {
            std::istringstream fields(line.substr(3));
            int cpu = -1;
            std::int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
            fields >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
            if (!fields) continue;
            if (!(fields >> steal)) steal = 0;  // kernels before 2.6.11 had no steal column
            out.cpus.push_back({cpu, user + nice + system + irq + softirq, idle + iowait, steal});
        } else if (line.rfind("procs_running ", 0) == 0) {
            try {
                out.procs_running = std::stoi(line.substr(14));
            } catch (const std::exception&) {}
        }
    }
    return out;
}

const CpuTicks* ProcStat::find(int cpu) const {
    for (const auto& c : cpus)
        if (c.cpu == cpu) return &c;
    return nullptr;
}

Interference interference_between(const ProcStat& before, const ProcStat& after, const std::vector<int>& cpus,
                                  double window_ns, double own_ns, double tick_ns) {
    Interference r;
    r.cpus = static_cast<int>(cpus.size());
    r.window_ns = window_ns;
    r.own_ns = own_ns;
    r.tick_ns = tick_ns;
    r.procs_running_max = std::max(before.procs_running.value_or(0), after.procs_running.value_or(0));
    double idle_ns = 0;
    for (int cpu : cpus) {
        const CpuTicks* a = before.find(cpu);
        const CpuTicks* b = after.find(cpu);
        if (!a || !b) {
            r.unknown_reason = fmt::format("/proc/stat has no line for CPU {}", cpu);
            return r;
        }
        idle_ns += double(b->idle - a->idle) * tick_ns;
        r.steal_ns += double(b->steal - a->steal) * tick_ns;
    }
    // What was neither idle, nor stolen, nor ours, was someone else's (kernel threads and
    // interrupts included: they take the CPU from a measurement just the same).
    r.other_ns = std::max(0.0, r.capacity_ns() - idle_ns - r.steal_ns - own_ns);
    r.steal_ns = std::clamp(r.steal_ns, 0.0, r.capacity_ns());
    r.known = window_ns > 0 && !cpus.empty();
    if (!r.known) r.unknown_reason = "an empty window";
    return r;
}

std::string Interference::describe() const {
    if (!known) return "interference unknown (" + unknown_reason + ")";
    return fmt::format(
        "other tasks and steal took {:.1f}% of {} over {:.0f} ms (steal {:.1f}%, ±{:.1f}% counting resolution; up to "
        "{} "
        "at the readings, ours included)",
        100 * fraction(), counted(cpus, "CPU"), window_ns / 1e6, 100 * steal_fraction(),
        100 * std::min(1.0, resolution()), counted(procs_running_max, "runnable task"));
}

std::string use_interference(Rule& rule, const Interference& i, double margin) {
    rule.use(number_fact(
        "interference_margin", margin, "fraction",
        "the share of the CPUs' time other load may take before load, not the OS, could explain the result"));
    if (!i.known) {
        rule.use(text_fact("interference_unknown", i.unknown_reason, "why the interference could not be measured"));
        return "interference unknown ({interference_unknown}), which excludes nothing (margin {interference_margin})";
    }
    rule.use(number_fact("interference", i.fraction(), "fraction",
                         "other tasks' CPU time and steal, as a share of the allowed CPUs' time"));
    rule.use(count_fact("interference_cpus", i.cpus, "the CPUs watched"));
    rule.use(number_fact("interference_window", i.window_ns, "ns", "how long it was watched"));
    rule.use(
        number_fact("steal", i.steal_fraction(), "fraction", "the hypervisor's steal time, as a share of the same"));
    rule.use(number_fact("interference_resolution", std::min(1.0, i.resolution()), "fraction",
                         "/proc/stat's counting resolution over the window"));
    return "other tasks and steal took {interference} of {interference_cpus:count CPU} over {interference_window} "
           "(steal "
           "{steal}, "
           "+-{interference_resolution} counting resolution; margin {interference_margin})";
}

std::string interference_summary(Rule& rule, const Interference& i, double margin) {
    use_interference(rule, i, margin);
    return i.known ? "other load {interference} of {interference_cpus:count CPU} (margin {interference_margin})"
                   : "interference unknown ({interference_unknown})";
}

Interference& Interference::operator+=(const Interference& o) {
    if (!o.known) {
        known = false;
        unknown_reason = o.unknown_reason;
    }
    if (cpus == 0) cpus = o.cpus;
    window_ns += o.window_ns;
    other_ns += o.other_ns;
    steal_ns += o.steal_ns;
    own_ns += o.own_ns;
    tick_ns = o.tick_ns;
    procs_running_max = std::max(procs_running_max, o.procs_running_max);
    return *this;
}

namespace {

double own_cpu_ns() {
    double total = 0;
    for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
        rusage u{};
        if (::getrusage(who, &u) != 0) continue;
        total +=
            double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e9 + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e3;
    }
    return total;
}

}  // namespace

InterferenceProbe::Reading InterferenceProbe::read() {
    Reading r;
    r.own_ns = own_cpu_ns();
    r.at = now_ns();
    if (auto text = read_small_file("/proc/stat")) {
        r.stat = parse_proc_stat(*text);
        if (r.stat->cpus.empty()) r.error = "/proc/stat has no per-CPU lines";
    } else {
        r.error = fmt::format("cannot read /proc/stat: {}", std::strerror(errno));
    }
    return r;
}

InterferenceProbe::InterferenceProbe(std::vector<int> cpus) : cpus_(std::move(cpus)), start_(read()) {}

Interference InterferenceProbe::stop() const {
    const Reading end = read();
    if (!start_.error.empty() || !end.error.empty() || !start_.stat || !end.stat) {
        Interference r;
        r.cpus = static_cast<int>(cpus_.size());
        r.unknown_reason = !start_.error.empty() ? start_.error : end.error;
        return r;
    }
    const long hz = ::sysconf(_SC_CLK_TCK);
    return interference_between(*start_.stat, *end.stat, cpus_, double(end.at - start_.at), end.own_ns - start_.own_ns,
                                hz > 0 ? 1e9 / double(hz) : 10e6);
}

int idlest_cpu(const std::vector<int>& cpus, Nanos window_ns) {
    if (cpus.size() < 2) return cpus.empty() ? 0 : cpus.front();
    auto read = [] {
        auto text = read_small_file("/proc/stat");
        return text ? parse_proc_stat(*text) : ProcStat{};
    };
    const ProcStat before = read();
    ::usleep(static_cast<useconds_t>(window_ns / 1000));
    const ProcStat after = read();
    int best = cpus.front();
    std::int64_t best_idle = -1;
    for (int cpu : cpus) {
        const CpuTicks* a = before.find(cpu);
        const CpuTicks* b = after.find(cpu);
        if (!a || !b) continue;
        if (b->idle - a->idle > best_idle) {
            best_idle = b->idle - a->idle;
            best = cpu;
        }
    }
    return best;
}

}  // namespace proclab
