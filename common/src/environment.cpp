#include "proclab/environment.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <sched.h>
#include <sys/utsname.h>
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

MachineFact unknown(std::string key, std::string label, std::string source, std::string reason, std::string brief = {}) {
    if (brief.empty()) brief = reason;
    return MachineFact{std::move(key), std::move(label), std::nullopt, std::move(source), std::move(reason), std::move(brief)};
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
        return unknown(std::move(key), std::move(label), path, fmt::format("cannot read {}: {}", path, err ? std::strerror(err) : "empty"),
                       brief_error(err));
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

std::optional<std::string> status_field(std::string_view status_text, std::string_view key) {
    std::size_t pos = 0;
    while (pos < status_text.size()) {
        auto end = status_text.find('\n', pos);
        if (end == std::string_view::npos) end = status_text.size();
        auto line = status_text.substr(pos, end - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':')
            return trim(std::string(line.substr(key.size() + 1)));
        pos = end + 1;
    }
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
    else
        facts.push_back(unknown("cpu_model", "CPU model", "/proc/cpuinfo", "no 'model name' line in /proc/cpuinfo"));

    env.online_cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    facts.push_back(known("online_cpus", "online CPUs", std::to_string(env.online_cpus), "sysconf(_SC_NPROCESSORS_ONLN)"));

    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &set)) env.affinity_cpus.push_back(cpu);
        facts.push_back(known("affinity_cpus", "CPUs allowed (affinity)",
                              fmt::format("{} ({} CPUs)", format_cpu_list(env.affinity_cpus), env.affinity_cpus.size()),
                              "sched_getaffinity(2)"));
    } else {
        facts.push_back(unknown("affinity_cpus", "CPUs allowed (affinity)", "sched_getaffinity(2)", std::strerror(errno)));
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
            facts.push_back(known("hypervisor", "virtual machine", "no (no hypervisor cpuid bit)", "/proc/cpuinfo flags"));
    } else {
        facts.push_back(unknown("hypervisor", "virtual machine", "/proc/cpuinfo", "cannot read /proc/cpuinfo"));
    }

    {
        std::string marker;
        for (const char* path : {"/.dockerenv", "/run/.containerenv"})
            if (::access(path, F_OK) == 0) marker = path;
        facts.push_back(known("container", "container",
                              marker.empty() ? "no marker found (/.dockerenv, /run/.containerenv)"
                                             : fmt::format("yes ({} exists)", marker),
                              "marker files"));
    }

    facts.push_back(from_file("clocksource", "clock source", "/sys/devices/system/clocksource/clocksource0/current_clocksource"));
    {
        MachineFact governor = from_file("cpu_governor", "CPU frequency governor", "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
        if (!governor.value && ::access("/sys/devices/system/cpu/cpu0/cpufreq", F_OK) != 0)
            governor.unknown_brief = "no cpufreq (the host or firmware sets the frequency)";
        facts.push_back(std::move(governor));
    }

    // EEVDF's base slice lives in debugfs (root, and debugfs mounted); older kernels had
    // sched_min_granularity_ns there or in /proc/sys/kernel.
    {
        MachineFact slice = from_file("sched_base_slice_ns", "scheduler base slice (ns)", "/sys/kernel/debug/sched/base_slice_ns");
        if (!slice.value) {
            for (const char* alt : {"/sys/kernel/debug/sched/min_granularity_ns", "/proc/sys/kernel/sched_base_slice_ns",
                                    "/proc/sys/kernel/sched_min_granularity_ns"}) {
                MachineFact other = from_file("sched_base_slice_ns", "scheduler base slice (ns)", alt);
                if (other.value) { slice = other; break; }
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
        facts.push_back(hz ? known("config_hz", "timer tick (CONFIG_HZ)", *hz, path)
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
            facts.push_back(known("cap_sys_ptrace", "CAP_SYS_PTRACE (effective)", *has ? "yes" : "no", "/proc/self/status CapEff"));
        } else {
            facts.push_back(unknown("cap_sys_ptrace", "CAP_SYS_PTRACE (effective)", "/proc/self/status", "no CapEff line"));
        }
    } else {
        facts.push_back(unknown("cap_sys_ptrace", "CAP_SYS_PTRACE (effective)", "/proc/self/status", "cannot read /proc/self/status"));
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
    return env;
}

}  // namespace proclab
