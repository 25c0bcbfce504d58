#include "proclab/environment.hpp"
#include "proclab/topology.hpp"
#include "proclab/units.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <sched.h>
#include <sys/utsname.h>
#include <sys/stat.h>
#include <unistd.h>

namespace proclab {
namespace {

std::string trim(std::string s) {
    const auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

MachineFact known(std::string key, std::string label, std::string value, std::string source) {
    return MachineFact{std::move(key), std::move(label), std::move(value), std::move(source), {}, {}};
}

MachineFact unknown(std::string key, std::string label, std::string source, std::string reason,
                    std::string brief = {}) {
    if (brief.empty()) brief = reason;
    return MachineFact{std::move(key),    std::move(label),  std::nullopt,
                       std::move(source), std::move(reason), std::move(brief)};
}

// A file's error in a few words.
std::string brief_error(int err) {
    switch (err) {
        case ENOENT: return "not offered by this kernel or machine";
        case EACCES:
        case EPERM: return "not readable without privileges";
        case 0: return "empty";
        default: return std::strerror(err);
    }
}

// A fact read from the first line of a file; unknown with the errno text when unreadable.
MachineFact from_file(std::string key, std::string label, const std::string& path) {
    errno = 0;
    auto text = read_small_file(path);
    if (!text) {
        const int err = errno;
        return unknown(std::move(key), std::move(label), path,
                       fmt::format("cannot read {}: {}", path, err ? std::strerror(err) : "empty"), brief_error(err));
    }
    std::string first = text->substr(0, text->find('\n'));
    return known(std::move(key), std::move(label), trim(first), path);
}

std::optional<std::string> cpuinfo_field(const std::string& cpuinfo, std::string_view field) {
    std::istringstream in(cpuinfo);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field, 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos) return trim(line.substr(colon + 1));
        }
    }
    return std::nullopt;
}

}  // namespace

std::string MachineFact::shown(bool verbose) const {
    if (value) return *value;
    return "unknown: " + (verbose || unknown_brief.empty() ? unknown_reason : unknown_brief);
}

std::optional<std::string> read_small_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return buf.str();
}

const MachineFact* Environment::find(std::string_view key) const {
    for (const auto& f : facts)
        if (f.key == key) return &f;
    return nullptr;
}

std::string format_cpu_list(std::vector<int> cpus) {
    std::sort(cpus.begin(), cpus.end());
    cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
    std::string out;
    for (std::size_t i = 0; i < cpus.size();) {
        std::size_t j = i;
        while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += j == i ? fmt::format("{}", cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]);
        i = j + 1;
    }
    return out;
}

std::optional<bool> capability_in_mask(std::string_view hex_mask, int cap) {
    if (hex_mask.empty() || cap < 0) return std::nullopt;
    unsigned long long mask = 0;
    for (char c : hex_mask) {
        int digit;
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        else return std::nullopt;
        mask = (mask << 4) | static_cast<unsigned>(digit);
    }
    return cap < 64 && ((mask >> cap) & 1ULL) != 0;
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        lines.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return lines;
}

std::optional<std::string> status_field(std::string_view status_text, std::string_view key) {
    for (const std::string_view line : lines_of(status_text))
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':')
            return trim(std::string(line.substr(key.size() + 1)));
    return std::nullopt;
}

Environment probe_environment() {
    Environment env;
    auto& facts = env.facts;

    utsname uts{};
    if (::uname(&uts) == 0) {
        facts.push_back(known("kernel_release", "kernel", uts.release, "uname(2)"));
        facts.push_back(known("machine", "architecture", uts.machine, "uname(2)"));
    } else {
        facts.push_back(unknown("kernel_release", "kernel", "uname(2)", std::strerror(errno)));
    }

    const auto cpuinfo = read_small_file("/proc/cpuinfo");
    if (auto model = cpuinfo ? cpuinfo_field(*cpuinfo, "model name") : std::nullopt)
        facts.push_back(known("cpu_model", "CPU model", *model, "/proc/cpuinfo"));
    else facts.push_back(unknown("cpu_model", "CPU model", "/proc/cpuinfo", "no 'model name' line in /proc/cpuinfo"));

    env.online_cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    facts.push_back(
        known("online_cpus", "online CPUs", std::to_string(env.online_cpus), "sysconf(_SC_NPROCESSORS_ONLN)"));

    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &set)) env.affinity_cpus.push_back(cpu);
        facts.push_back(known("affinity_cpus", "CPUs allowed (affinity)",
                              fmt::format("{} ({})", format_cpu_list(env.affinity_cpus),
                                          counted(static_cast<long long>(env.affinity_cpus.size()), "CPU")),
                              "sched_getaffinity(2)"));
    } else {
        facts.push_back(
            unknown("affinity_cpus", "CPUs allowed (affinity)", "sched_getaffinity(2)", std::strerror(errno)));
    }

    // Where the allowed CPUs sit: what SMT siblings, shared caches and NUMA nodes make of them.
    if (!env.affinity_cpus.empty()) {
        const Topology topology = read_topology(env.affinity_cpus);
        if (const auto shape = describe_topology(topology))
            facts.push_back(known("topology", "CPU topology (allowed CPUs)", *shape,
                                  "/sys/devices/system/cpu/cpuN/{topology,cache}, node/nodeM/cpulist"));
        else
            facts.push_back(
                unknown("topology", "CPU topology (allowed CPUs)", "/sys/devices/system/cpu",
                        topology.unknown.empty() ? "no CPU's topology could be read" : topology.unknown.front()));
    }

    // The cpuid "hypervisor" bit is the kernel's own reading; the DMI vendor names which one.
    if (cpuinfo) {
        auto flags = cpuinfo_field(*cpuinfo, "flags").value_or("");
        const bool flagged = (" " + flags + " ").find(" hypervisor ") != std::string::npos;
        std::string vendor;
        for (const char* path : {"/sys/hypervisor/type", "/sys/class/dmi/id/sys_vendor"})
            if (auto v = read_small_file(path); v && vendor.empty()) vendor = trim(*v);
        if (flagged)
            facts.push_back(known("hypervisor", "virtual machine",
                                  vendor.empty() ? "yes" : fmt::format("yes ({})", vendor), "/proc/cpuinfo flags"));
        else if (flags.empty())
            facts.push_back(unknown("hypervisor", "virtual machine", "/proc/cpuinfo", "no 'flags' line (not x86?)"));
        else
            facts.push_back(
                known("hypervisor", "virtual machine", "no (no hypervisor cpuid bit)", "/proc/cpuinfo flags"));
    } else {
        facts.push_back(unknown("hypervisor", "virtual machine", "/proc/cpuinfo", "cannot read /proc/cpuinfo"));
    }
    // A guest that emulates its CPUs cannot tell from inside; the VM lab that started it says so.
    if (const char* emulated = std::getenv("PROCLAB_EMULATED"); emulated && *emulated)
        facts.push_back(known("emulated", "emulated machine", fmt::format("yes: {}", emulated),
                              "PROCLAB_EMULATED (set by deploy/vm/proclab-vm)"));

    {
        std::string marker;
        for (const char* path : {"/.dockerenv", "/run/.containerenv"})
            if (::access(path, F_OK) == 0) marker = path;
        // A marker speaks for the tree it is in. Under a chroot (the VM lab runs proclab in the
        // host's tree, shared into the guest) PID 1's root is another directory, and the marker
        // describes the tree's owner, not this machine. Where /proc/1/root cannot be read (not
        // root), the marker is taken as it is.
        struct stat own_root {
        }, init_root{};
        const bool chrooted = !marker.empty() && ::stat("/", &own_root) == 0 &&
                              ::stat("/proc/1/root/", &init_root) == 0 &&
                              (own_root.st_dev != init_root.st_dev || own_root.st_ino != init_root.st_ino);
        env.in_container = !marker.empty() && !chrooted;
        facts.push_back(known("container", "container",
                              marker.empty() ? "no marker found (/.dockerenv, /run/.containerenv)"
                              : chrooted     ? fmt::format("not counted: {} exists, but in a chroot (PID 1's root "
                                                               "is another directory), so it marks the tree, not this machine",
                                                           marker)
                                             : fmt::format("yes ({} exists)", marker),
                              "marker files"));
    }

    facts.push_back(
        from_file("clocksource", "clock source", "/sys/devices/system/clocksource/clocksource0/current_clocksource"));
    {
        MachineFact governor = from_file("cpu_governor", "CPU frequency governor",
                                         "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
        if (!governor.value && ::access("/sys/devices/system/cpu/cpu0/cpufreq", F_OK) != 0)
            governor.unknown_brief = "no cpufreq (the host or firmware sets the frequency)";
        facts.push_back(std::move(governor));
    }

    // EEVDF's base slice lives in debugfs (root, and debugfs mounted); older kernels had
    // sched_min_granularity_ns there or in /proc/sys/kernel.
    {
        MachineFact slice =
            from_file("sched_base_slice_ns", "scheduler base slice (ns)", "/sys/kernel/debug/sched/base_slice_ns");
        if (!slice.value) {
            for (const char* alt :
                 {"/sys/kernel/debug/sched/min_granularity_ns", "/proc/sys/kernel/sched_base_slice_ns",
                  "/proc/sys/kernel/sched_min_granularity_ns"}) {
                MachineFact other = from_file("sched_base_slice_ns", "scheduler base slice (ns)", alt);
                if (other.value) {
                    slice = other;
                    break;
                }
            }
            if (!slice.value && ::access("/sys/kernel/debug/sched", F_OK) != 0) {
                slice.unknown_reason += "; debugfs is not mounted (root: mount -t debugfs none /sys/kernel/debug)";
                slice.unknown_brief = "debugfs not mounted (--verbose: how)";
            }
        }
        facts.push_back(std::move(slice));
    }
    facts.push_back(from_file("sched_autogroup", "scheduler autogroup", "/proc/sys/kernel/sched_autogroup_enabled"));

    // The tick rate is a build option; /boot/config-<release> has it where the distribution ships it.
    {
        const std::string path = fmt::format("/boot/config-{}", uts.release);
        auto config = read_small_file(path);
        std::optional<std::string> hz;
        if (config) {
            std::istringstream in(*config);
            std::string line;
            while (std::getline(in, line))
                if (line.rfind("CONFIG_HZ=", 0) == 0) hz = line.substr(10);
        }
        facts.push_back(
            hz ? known("config_hz", "timer tick (CONFIG_HZ)", *hz, path)
               : unknown("config_hz", "timer tick (CONFIG_HZ)", path,
                         config ? fmt::format("no CONFIG_HZ line in {}", path) : fmt::format("cannot read {}", path),
                         config ? "not in the kernel's config" : "the kernel's config is not in /boot"));
    }

    env.euid = ::geteuid();
    facts.push_back(known("euid", "effective uid", std::to_string(env.euid), "geteuid(2)"));
    if (auto status = read_small_file("/proc/self/status")) {
        auto cap_eff = status_field(*status, "CapEff").value_or("");
        auto has = capability_in_mask(cap_eff, 19 /* CAP_SYS_PTRACE */);
        if (has) {
            env.cap_sys_ptrace = *has;
            facts.push_back(
                known("cap_sys_ptrace", "CAP_SYS_PTRACE (effective)", *has ? "yes" : "no", "/proc/self/status CapEff"));
        } else {
            facts.push_back(
                unknown("cap_sys_ptrace", "CAP_SYS_PTRACE (effective)", "/proc/self/status", "no CapEff line"));
        }
    } else {
        facts.push_back(unknown("cap_sys_ptrace", "CAP_SYS_PTRACE (effective)", "/proc/self/status",
                                "cannot read /proc/self/status"));
    }

    {
        MachineFact yama = from_file("yama_ptrace_scope", "Yama ptrace_scope", "/proc/sys/kernel/yama/ptrace_scope");
        if (yama.value) env.yama_ptrace_scope = std::stoi(*yama.value);
        else {
            yama.unknown_reason = "Yama LSM not present (" + yama.unknown_reason + ")";
            yama.unknown_brief = "Yama not present";
        }
        facts.push_back(std::move(yama));
    }
    facts.push_back(from_file("aslr", "ASLR (randomize_va_space)", "/proc/sys/kernel/randomize_va_space"));
    {
        const CpuQuota q = probe_cpu_quota();
        env.cpu_quota_cpus = q.cpus;
        if (!q.error.empty())
            facts.push_back(unknown("cpu_quota", "CPU quota (cgroup)", "/proc/self/cgroup", q.error,
                                    "no cgroup cpu controller found"));
        else if (q.cpus)
            facts.push_back(known("cpu_quota", "CPU quota (cgroup)",
                                  fmt::format("{:.2f} CPUs ({}: {}); the CPUs' capacity is {:.2f}", *q.cpus, q.where,
                                              q.setting, env.cpu_capacity()),
                                  q.where));
        else
            facts.push_back(
                known("cpu_quota", "CPU quota (cgroup)", fmt::format("none ({} and above)", q.where), q.where));
    }

    return env;
}

PtraceRights ptrace_rights(const PtraceAccess& a) {
    const std::string yama = a.yama_scope ? fmt::format("Yama ptrace_scope {}", *a.yama_scope) : "no Yama";
    const int scope = a.yama_scope.value_or(0);
    if (scope >= 3) return {false, yama + ": no process may attach"};
    if (scope == 2 && !a.cap_sys_ptrace)
        return {false, yama + ": only CAP_SYS_PTRACE may attach, and the prober lacks it"};
    if (a.cap_sys_ptrace) return {true, "CAP_SYS_PTRACE, " + yama};
    if (!a.same_uid) return {false, "another uid, without CAP_SYS_PTRACE"};
    if (!a.target_dumpable) return {false, "the same uid, but a non-dumpable target, without CAP_SYS_PTRACE"};
    if (scope == 1 && !a.prober_is_ancestor) return {false, yama + ": the prober is not the target's ancestor"};
    return {true, fmt::format("the same uid, a dumpable target, {}{}", yama,
                              scope == 1 ? " with the prober its ancestor" : "")};
}

CgroupPaths parse_proc_cgroup(std::string_view text) {
    CgroupPaths out;
    for (const std::string_view line : lines_of(text)) {
        const auto a = line.find(':');
        const auto b = a == std::string_view::npos ? a : line.find(':', a + 1);
        if (b == std::string_view::npos) continue;
        const std::string_view id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
        const std::string path(line.substr(b + 1));
        if (id == "0" && controllers.empty()) {
            out.unified = path;
            continue;
        }
        std::size_t c = 0;
        while (c <= controllers.size()) {
            auto comma = controllers.find(',', c);
            if (comma == std::string_view::npos) comma = controllers.size();
            if (controllers.substr(c, comma - c) == "cpu") out.v1_cpu = path;
            c = comma + 1;
        }
    }
    return out;
}

namespace {
std::optional<double> number_in(std::string_view text) {
    try {
        std::size_t used = 0;
        const std::string s = trim(std::string(text));
        const double v = std::stod(s, &used);
        if (used != s.size()) return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}
}  // namespace

std::optional<double> parse_cpu_max(std::string_view text) {
    const std::string t = trim(std::string(text));
    const auto space = t.find(' ');
    if (space == std::string::npos || t.substr(0, space) == "max") return std::nullopt;
    const auto quota = number_in(t.substr(0, space)), period = number_in(t.substr(space + 1));
    if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
    return *quota / *period;
}

std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us) {
    const auto quota = number_in(quota_us), period = number_in(period_us);
    if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
    return *quota / *period;
}

CpuQuota probe_cpu_quota() {
    CpuQuota q;
    const auto self = read_small_file("/proc/self/cgroup");
    if (!self) {
        q.error = fmt::format("cannot read /proc/self/cgroup: {}", std::strerror(errno));
        return q;
    }
    const CgroupPaths paths = parse_proc_cgroup(*self);
    // Each level from this cgroup up to the root; the smallest quota among them binds.
    auto walk = [&](const std::string& root, const std::string& path, auto read_level) {
        std::string rel = path;
        q.where = root + (rel == "/" ? "" : rel);
        for (;;) {
            const std::string dir = root + (rel == "/" ? "" : rel);
            std::string setting;
            if (const auto cpus = read_level(dir, setting); cpus && (!q.cpus || *cpus < *q.cpus)) {
                q.cpus = cpus;
                q.setting = setting;
                q.where = dir;
            }
            if (rel == "/" || rel.empty()) break;
            const auto slash = rel.rfind('/');
            rel = slash == 0 || slash == std::string::npos ? "/" : rel.substr(0, slash);
        }
    };
    if (paths.v1_cpu) {
        for (const char* root : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"}) {
            if (::access((std::string(root) + "/cpu.cfs_quota_us").c_str(), R_OK) != 0) continue;
            walk(root, *paths.v1_cpu, [](const std::string& dir, std::string& setting) -> std::optional<double> {
                const auto quota = read_small_file(dir + "/cpu.cfs_quota_us"),
                           period = read_small_file(dir + "/cpu.cfs_period_us");
                if (!quota || !period) return std::nullopt;
                setting = fmt::format("cpu.cfs_quota_us {} per cpu.cfs_period_us {}", trim(*quota), trim(*period));
                return parse_cfs_quota(*quota, *period);
            });
            return q;
        }
    }
    if (paths.unified && ::access("/sys/fs/cgroup/cgroup.controllers", R_OK) == 0) {
        walk("/sys/fs/cgroup", *paths.unified,
             [](const std::string& dir, std::string& setting) -> std::optional<double> {
                 const auto max = read_small_file(dir + "/cpu.max");
                 if (!max) return std::nullopt;
                 setting = "cpu.max " + trim(*max);
                 return parse_cpu_max(*max);
             });
        return q;
    }
    q.error = "no cgroup with the cpu controller is mounted where this process's cgroup names it (/sys/fs/cgroup)";
    return q;
}

}  // namespace proclab
