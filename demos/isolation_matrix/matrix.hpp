// isolation_matrix's first experiment: who can do what to whom. A target process and a prober in
// one relationship (same user, another user, a non-dumpable target, a PID or user namespace), and
// every action attempted for real by the prober: allowed, or refused with the errno the kernel gave.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab::isolation_matrix {

enum class Action {
    see_signal0,    // kill(pid, 0)
    see_proc,       // stat /proc/PID
    signal_term,    // kill(pid, SIGTERM): the target handles it and lives
    read_vm,        // process_vm_readv of a secret
    write_vm,       // process_vm_writev of the same bytes back (nothing changes if it works)
    read_procmem,   // pread of /proc/PID/mem
    write_procmem,  // pwrite of the same bytes to /proc/PID/mem
    ptrace_attach,  // PTRACE_ATTACH, wait for the stop, PTRACE_DETACH
    read_environ,   // /proc/PID/environ
    read_maps,      // /proc/PID/maps
    open_fd,        // open /proc/PID/fd/N: a private temporary file the target holds
    set_nice,       // setpriority to the value it has
    set_affinity,   // sched_setaffinity to the mask it has
    set_limits,     // prlimit(RLIMIT_NOFILE) to the limits it has
    open_shm,       // shm_open of the target's POSIX shared memory (mode 0600)
};
inline constexpr int kActions = 15;
const std::array<Action, kActions>& all_actions();
std::string_view name(Action a);    // "process_vm_readv"
std::string_view column(Action a);  // a short column header: "vm read"
// Actions that reach the target's memory: what P3 forbids without ptrace rights.
bool reaches_memory(Action a);

inline constexpr int kNobody = 65534;

struct Relationship {
    std::string id;       // "same_user"
    std::string label;    // for people
    int target_uid = -1;  // -1: as the demo runs
    bool target_dumpable = true;
    int prober_uid = -1;  // -1: as the demo runs
    bool prober_pid_namespace = false;
    bool prober_user_namespace = false;
    // Whether the prober has a right to the target's memory by the kernel's rules (same uid and a
    // dumpable target, or CAP_SYS_PTRACE in the target's user namespace): the P3 rule reads a
    // refusal where there is no right as isolation, an allowed action where there is as the door.
    bool entitled = false;
    std::string entitled_why;  // the rule that decided it (environment.hpp's ptrace_rights)
    std::string needs_root;    // why the relationship needs root; empty: it does not
};

// The relationships this process can set up: all six as root, the same-user ones otherwise; each
// one's right read from the kernel's rules with this machine's Yama scope.
std::vector<Relationship> relationships(bool root, std::optional<int> yama_scope = std::nullopt);

enum class Outcome { allowed, refused, not_tried };
struct Attempt {
    Outcome outcome = Outcome::not_tried;
    int err = 0;         // errno when refused
    std::string detail;  // what was seen (bytes read, the file's first line), short
};

struct RelationshipRun {
    Relationship relationship;
    bool measured = false;
    std::string why_not;  // when not measured
    std::string prober;   // "uid 65534 in a new user namespace"
    std::string target;   // "uid 65534, dumpable, pid 1234"
    std::array<Attempt, kActions> attempts{};
    bool sigterm_arrived = false;  // the target's handler saw the prober's SIGTERM
    const Attempt& at(Action a) const;
};

// Starts the target and the prober (both children of this process), lets the prober try every
// action and collects the outcomes. Every child is reaped and the shared-memory name unlinked on
// every path. `shm_tag` makes the target's segment name unique.
RelationshipRun run_relationship(const Relationship& r, int index);

// "allowed", or "EPERM" / "EACCES" ... for a table cell.
std::string cell(const Attempt& a);

}  // namespace proclab::isolation_matrix
