// The facts about this machine that change how a measurement reads: kernel, CPUs, hypervisor,
// scheduler settings, privileges, ASLR. A fact that cannot be read is reported as unknown with
// the reason (the path and the error), never guessed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace proclab {

struct MachineFact {
    std::string key;                   // stable id, used in JSON: "kernel_release"
    std::string label;                 // for people: "kernel"
    std::optional<std::string> value;  // empty when unknown
    std::string source;                // where it was read: "/proc/cpuinfo", "uname(2)"
    std::string unknown_reason;        // why it is unknown, in full: the path and the error
    std::string unknown_brief;         // the same in a few words, for a table: "debugfs not mounted"

    // The value, or "unknown: " and why (in brief, or in full when `verbose`).
    std::string shown(bool verbose = false) const;
};

struct Environment {
    std::vector<MachineFact> facts;

    // Typed copies of the facts that demos decide on.
    int online_cpus = 0;
    std::vector<int> affinity_cpus;  // CPUs this process may run on
    uid_t euid = 0;
    bool cap_sys_ptrace = false;  // effective capability set holds CAP_SYS_PTRACE
    std::optional<int> yama_ptrace_scope;
    // The CPU quota of this process's cgroup (and its ancestors): CPUs' worth of time per period.
    // Absent when none is set (or it cannot be read: the fact says why).
    std::optional<double> cpu_quota_cpus;
    bool in_container = false;  // a container runtime's marker file exists (/.dockerenv, /run/.containerenv)

    // The CPUs' capacity: the allowed CPUs, or the quota where it is smaller.
    double cpu_capacity() const {
        const double cpus = double(affinity_cpus.empty() ? std::max(1, online_cpus) : int(affinity_cpus.size()));
        return cpu_quota_cpus ? std::min(cpus, *cpu_quota_cpus) : cpus;
    }

    const MachineFact* find(std::string_view key) const;
};

// Reads every fact now. Cheap (a few small files), called once per run.
Environment probe_environment();

// "0-3,6,8-9" for {0,1,2,3,6,8,9}.
std::string format_cpu_list(std::vector<int> cpus);

// Whether capability number `cap` is set in a hexadecimal capability mask as printed in
// /proc/<pid>/status (CapEff). Empty when the mask is not hexadecimal.
std::optional<bool> capability_in_mask(std::string_view hex_mask, int cap);

// The value of "Key:" in /proc/<pid>/status-like text, trimmed. Empty when absent.
std::optional<std::string> status_field(std::string_view status_text, std::string_view key);

// Whether the kernel grants a prober ptrace rights to a target's memory (PTRACE_MODE_ATTACH: ptrace,
// process_vm_readv, /proc/PID/mem), by its documented rules: CAP_SYS_PTRACE over the target, or the
// same uid and a dumpable target; and Yama on top: scope 1 needs the prober to be an ancestor (or
// CAP_SYS_PTRACE), 2 needs CAP_SYS_PTRACE, 3 allows no one. `why` says which rule decided.
struct PtraceAccess {
    bool cap_sys_ptrace = false;  // the prober holds it over the target's user namespace
    bool same_uid = false;
    bool target_dumpable = true;
    bool prober_is_ancestor = false;
    std::optional<int> yama_scope = std::nullopt;  // absent: no Yama
};
struct PtraceRights {
    bool granted = false;
    std::string why;  // "the same uid, a dumpable target, Yama ptrace_scope 0"
};
PtraceRights ptrace_rights(const PtraceAccess& a);

// The cgroup paths of a process, from /proc/<pid>/cgroup: the unified (v2) one ("0::/a/b") and the
// v1 hierarchy that carries the cpu controller ("4:cpu,cpuacct:/a"); each absent when not there.
struct CgroupPaths {
    std::optional<std::string> unified;
    std::optional<std::string> v1_cpu;
};
CgroupPaths parse_proc_cgroup(std::string_view text);

// A cgroup v2 cpu.max ("50000 100000": quota and period in µs; "max 100000": none) as CPUs' worth
// per period; nullopt for none or text that is not a quota.
std::optional<double> parse_cpu_max(std::string_view text);
// The same from cgroup v1's cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us.
std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us);

// The smallest CPU quota over this process's cgroup and its ancestors, where it was set.
struct CpuQuota {
    std::optional<double> cpus;  // absent: no quota at any level
    std::string where;           // the file that sets it, or the cgroup read when none does
    std::string setting;         // as written there ("100000 100000"), when one is set
    std::string error;           // why the quota could not be read (no cgroup, no cpu controller)
};
CpuQuota probe_cpu_quota();

// Whole small file, or empty with errno preserved.
std::optional<std::string> read_small_file(const std::string& path);

// The lines of a kernel text file (/proc/self/status, /proc/self/cgroup, /proc/timer_list,
// /proc/interrupts), each without its '\n', as views into `text`; a last line without '\n' counts.
std::vector<std::string_view> lines_of(std::string_view text);

}  // namespace proclab
