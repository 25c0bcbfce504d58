// isolation_matrix's second experiment: one process runs away (memory, processes, files, CPU)
// while two siblings do steady work; the siblings' progress before, during and after says what
// the runaway cost them, and the runaway's own end says which mechanism contained it. Every
// runaway has its own hard cap (count, bytes, seconds) besides the limit under test, so a bug can
// never take the machine down; the process runaway drops to an unprivileged uid first (the kernel
// ignores RLIMIT_NPROC for root).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace proclab::isolation_matrix {

enum class RunawayKind { memory_rlimit, memory_cgroup, processes, processes_cgroup, files, cpu, cpu_cgroup };
std::string_view id(RunawayKind k);  // "memory_rlimit": for metric ids

struct Progress {
    std::array<double, 2> rate{};  // each sibling's work chunks per second over the window
    double min_rate() const { return rate[0] < rate[1] ? rate[0] : rate[1]; }
};

struct RunawayRun {
    RunawayKind kind{};
    std::string what;  // "memory: mmap and touch 8 MiB at a time"
    bool measured = false;
    std::string why_not;
    std::string mechanism;      // "RLIMIT_AS = its size + 256 MiB"
    std::string stopped_by;     // "mmap: ENOMEM after 256 MiB"
    bool contained = false;     // the culprit met the mechanism (refused, or killed by it) within its own caps
    bool hard_cap_hit = false;  // the safety cap stopped it first: the mechanism did not act
    // A cgroup's own count of its controller acting, read once the runaway is gone (memory.events
    // oom_kill, pids.events max, cpu.stat nr_throttled): the direct evidence, -1 where none is kept.
    std::string controller_event;
    long controller_count = -1;
    Progress before, during, after;
    bool siblings_alive = true;
    // The siblings' worst loss during, as a share of their rate before (0: none, 1: stopped).
    double sibling_loss() const;
    // A runaway a limit can stop (memory, processes, files, CPU time under RLIMIT_CPU); a CPU hog
    // under a cgroup quota is only held to a share.
    bool stoppable() const { return kind != RunawayKind::cpu_cgroup; }
    // Its limit, not the demo's own cap, ended it.
    bool stopped_by_limit() const { return measured && stoppable() && contained && !hard_cap_hit; }
};

struct RunawayOptions {
    double window_s = 0.3;  // each of before, during, after
    std::size_t memory_cap_bytes = std::size_t(256) << 20;
    int process_cap = 64;
    int file_cap = 4096;
    int cpus = 1;  // the CPU runaway's threads: one per allowed CPU
    // Each limit under test set beyond the runaway's own hard cap, so the cap must stop it: the
    // limit fails, which the verdict must see (the OS tests set it; the demo never does).
    bool limits_beyond_caps = false;
};

// The errno with which each limit refuses its runaway: a refusal with any other errno is not the
// limit's doing (ENOMEM from RLIMIT_AS, EAGAIN from RLIMIT_NPROC or pids.max, EMFILE from RLIMIT_NOFILE).
int limit_errno(RunawayKind k);

// The controller's own count decides whether it acted (`event` names it: "pids.events max"): a
// kill or a refusal it never counted was something else's doing (the kernel's global OOM killer,
// threads-max), so the runaway is not measured, with that reason; a CPU hog it never throttled
// was not held by it. The count joins `stopped_by` either way.
void weigh_controller_count(RunawayRun& r, std::string event, long count);

// Runs every kind, each with a fresh pair of siblings. Kinds that cannot run here (no writable
// cgroup v2 controller) come back not measured, with the reason.
std::vector<RunawayRun> run_runaways(const RunawayOptions& o);

// Where cgroup v2 can give this process's children a memory or cpu limit: the directory to make
// them in, or the reason it cannot (nothing is created by asking).
struct CgroupPlace {
    std::string parent;  // e.g. /sys/fs/cgroup/user.slice/...; empty when not available
    std::string why_not;
};
CgroupPlace cgroup_place(const char* controller);

// The limits the environment (a container, a systemd slice) put on this process's own cgroup,
// as found: "memory.max 2G (cgroup v2 /...)", "memory.limit_in_bytes unlimited (cgroup v1 ...)".
std::vector<std::string> inherited_limits();

}  // namespace proclab::isolation_matrix
