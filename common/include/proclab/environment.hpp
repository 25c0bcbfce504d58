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
    bool cap_sys_ptrace = false;     // effective capability set holds CAP_SYS_PTRACE
    std::optional<int> yama_ptrace_scope;

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

// Whole small file, or empty with errno preserved.
std::optional<std::string> read_small_file(const std::string& path);

}  // namespace proclab
