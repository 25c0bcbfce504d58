#include "isolation_matrix/matrix.hpp"

#include "proclab/memory_probe.hpp"

#include "proclab/child.hpp"
#include "proclab/environment.hpp"
#include "proclab/handles.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclab::isolation_matrix {

const std::array<Action, kActions>& all_actions() {
    static const std::array<Action, kActions> actions{
        Action::see_signal0,  Action::see_proc,      Action::signal_term,   Action::read_vm,      Action::write_vm,
        Action::read_procmem, Action::write_procmem, Action::ptrace_attach, Action::read_environ, Action::read_maps,
        Action::open_fd,      Action::set_nice,      Action::set_affinity,  Action::set_limits,   Action::open_shm};
    return actions;
}

std::string_view name(Action a) {
    switch (a) {
        case Action::see_signal0: return "kill(pid, 0)";
        case Action::see_proc: return "stat /proc/PID";
        case Action::signal_term: return "kill(pid, SIGTERM)";
        case Action::read_vm: return "process_vm_readv";
        case Action::write_vm: return "process_vm_writev";
        case Action::read_procmem: return "read /proc/PID/mem";
        case Action::write_procmem: return "write /proc/PID/mem";
        case Action::ptrace_attach: return "ptrace(PTRACE_ATTACH) + PEEKDATA";
        case Action::read_environ: return "read /proc/PID/environ";
        case Action::read_maps: return "read /proc/PID/maps";
        case Action::open_fd: return "open /proc/PID/fd/N";
        case Action::set_nice: return "setpriority (same value)";
        case Action::set_affinity: return "sched_setaffinity (same mask)";
        case Action::set_limits: return "prlimit RLIMIT_NOFILE (same limits)";
        case Action::open_shm: return "shm_open its segment (0600)";
    }
    return "?";
}

std::string_view column(Action a) {
    switch (a) {
        case Action::see_signal0: return "signal 0";
        case Action::see_proc: return "/proc entry";
        case Action::signal_term: return "SIGTERM";
        case Action::read_vm: return "vm read";
        case Action::write_vm: return "vm write";
        case Action::read_procmem: return "mem read";
        case Action::write_procmem: return "mem write";
        case Action::ptrace_attach: return "ptrace";
        case Action::read_environ: return "environ";
        case Action::read_maps: return "maps";
        case Action::open_fd: return "its fd";
        case Action::set_nice: return "nice";
        case Action::set_affinity: return "affinity";
        case Action::set_limits: return "limits";
        case Action::open_shm: return "its shm";
    }
    return "?";
}

bool reaches_memory(Action a) {
    return a == Action::read_vm || a == Action::write_vm || a == Action::read_procmem || a == Action::write_procmem ||
           a == Action::ptrace_attach;
}

std::vector<Relationship> relationships(bool root, std::optional<int> yama_scope) {
    std::vector<Relationship> rs;
    // As root the same-user rows run as nobody on both sides: root's capabilities would open
    // every door and hide what the same-user rules allow.
    const int same = root ? kNobody : -1;
    const std::string other_user = "needs root: only root can run a process as another user";
    // The prober and the target are both the demo's children (siblings): the prober is never the
    // target's ancestor. Root probers hold CAP_SYS_PTRACE; a prober in a new user namespace holds
    // its capabilities there only, not over the target's namespace, and the kernel refuses it.
    auto add = [&](Relationship r, PtraceAccess access) {
        access.yama_scope = yama_scope;
        const PtraceRights rights = ptrace_rights(access);
        r.entitled = rights.granted;
        r.entitled_why = rights.why;
        rs.push_back(std::move(r));
    };
    add({"same_user", "same user", same, true, same, false, false, false, "", ""}, {.same_uid = true});
    add({"same_user_nondumpable", "same user, target non-dumpable", same, false, same, false, false, false, "", ""},
        {.same_uid = true, .target_dumpable = false});
    add({"other_user", "another user: prober nobody, target root", -1, true, kNobody, false, false, false, "",
         other_user},
        {});
    add({"root_prober", "another user: prober root, target nobody", kNobody, true, -1, false, false, false, "",
         other_user},
        {.cap_sys_ptrace = true});
    add({"pid_namespace", "prober root in a new PID namespace, target nobody", kNobody, true, -1, true, false, false,
         "",
         "needs root: a PID namespace of its own needs CAP_SYS_ADMIN (an unprivileged one only inside a user "
         "namespace)"},
        {.cap_sys_ptrace = true});
    // The kernel's rule for a prober in a child user namespace is not the plain same-uid one (its
    // credentials belong to the new namespace): it is not counted as holding the right.
    Relationship userns{
        "user_namespace", "same user, prober in a new user namespace", same, true, same, false, true, false, "", ""};
    userns.entitled_why = "a prober in a new user namespace: its capabilities do not reach the target's namespace";
    rs.push_back(std::move(userns));
    return rs;
}

const Attempt& RelationshipRun::at(Action a) const { return attempts[static_cast<std::size_t>(a)]; }

std::string cell(const Attempt& a) {
    switch (a.outcome) {
        case Outcome::allowed: return "allowed";
        case Outcome::refused: return errno_name(a.err);
        case Outcome::not_tried: break;
    }
    return "-";
}

namespace {

// The page target, prober and parent share (MAP_SHARED, made before the forks).
struct SharedPage {
    std::atomic<int> target_ready{0};  // 1 ready; -errno when its set-up failed
    std::atomic<int> sigterm_count{0};
    std::atomic<int> prober_done{0};  // 1 done; -errno when its set-up failed
    pid_t target_pid = 0;
    std::uintptr_t secret_address = 0;
    int secret_length = 0;
    int target_fd = -1;
    char shm_name[64] = {};
    char secret[64] = {};
    char setup_error[160] = {};
    char prober_desc[96] = {};
    struct Slot {
        int outcome = 2;  // Outcome
        int err = 0;
        char detail[80] = {};
    } slots[kActions];
};

SharedPage* g_page = nullptr;  // for the target's SIGTERM handler
char g_secret[64];

void on_sigterm(int) { g_page->sigterm_count.fetch_add(1, std::memory_order_relaxed); }

// Becomes `uid` for good (real, effective, saved; no supplementary groups). Returns 0 or errno.
int become_user(int uid) {
    if (uid < 0 || static_cast<uid_t>(uid) == ::geteuid()) return 0;
    if (::setgroups(0, nullptr) != 0 || ::setgid(static_cast<gid_t>(uid)) != 0 ||
        ::setuid(static_cast<uid_t>(uid)) != 0)
        return errno;
    return 0;
}

int target_main(SharedPage* page, const Relationship& r) {
    g_page = page;
    auto fail = [&](int err, std::string_view what) {
        copy_text(page->setup_error, sizeof page->setup_error, fmt::format("target: {}: {}", what, errno_name(err)));
        page->target_ready.store(-err);
        return 3;
    };
    if (const int err = become_user(r.target_uid)) return fail(err, fmt::format("setuid({})", r.target_uid));
    // A change of uid makes a process non-dumpable (fs.suid_dumpable 0); the row says which it is.
    ::prctl(PR_SET_DUMPABLE, r.target_dumpable ? 1 : 0);
    struct sigaction sa {};
    sa.sa_handler = on_sigterm;
    ::sigaction(SIGTERM, &sa, nullptr);
    std::snprintf(g_secret, sizeof g_secret, "proclab secret of pid %d", static_cast<int>(::getpid()));
    int fd = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        char path[] = "/tmp/proclab-iso-XXXXXX";
        fd = ::mkstemp(path);
        if (fd >= 0) ::unlink(path);
    }
    if (fd < 0) return fail(errno, "a private temporary file");
    const int shm = ::shm_open(page->shm_name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (shm < 0) return fail(errno, fmt::format("shm_open({})", page->shm_name));
    if (::ftruncate(shm, 4096) != 0) return fail(errno, "ftruncate");
    page->target_pid = ::getpid();
    page->secret_address = reinterpret_cast<std::uintptr_t>(g_secret);
    page->secret_length = static_cast<int>(std::strlen(g_secret));
    page->target_fd = fd;
    std::memcpy(page->secret, g_secret, sizeof g_secret);
    page->target_ready.store(1);
    for (;;) ::pause();  // until the parent kills it
}

Attempt result(bool ok, std::string detail = {}) {
    Attempt a;
    a.outcome = ok ? Outcome::allowed : Outcome::refused;
    a.err = ok ? 0 : errno;
    a.detail = std::move(detail);
    return a;
}

Attempt read_proc_file(pid_t pid, const char* file) {
    const int fd = ::open(fmt::format("/proc/{}/{}", pid, file).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return result(false);
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    const int err = errno;
    ::close(fd);
    errno = err;
    if (n < 0) return result(false);
    return result(true, fmt::format("{} bytes", n));
}

// The memory doors through the common probe (the same code process_isolation tries them with):
// reads compare with the secret, writes put the same bytes back.
Attempt memory(MemoryDoor door, const SharedPage& page) {
    const std::string_view secret(page.secret, static_cast<std::size_t>(page.secret_length));
    const MemoryAttempt m = probe_memory(door, page.target_pid, page.secret_address, secret);
    Attempt a;
    a.outcome = m.allowed ? Outcome::allowed : Outcome::refused;
    a.err = m.err;
    if (m.allowed && !writes(door)) a.detail = fmt::format("read \"{}\"", m.read);
    return a;
}

Attempt attempt(Action action, const SharedPage& page) {
    const pid_t pid = page.target_pid;
    switch (action) {
        case Action::see_signal0: return result(::kill(pid, 0) == 0);
        case Action::see_proc: {
            struct stat st {};
            const bool ok = ::stat(fmt::format("/proc/{}", pid).c_str(), &st) == 0;
            return result(ok, ok ? fmt::format("owned by uid {}", st.st_uid) : "");
        }
        case Action::signal_term: return result(::kill(pid, SIGTERM) == 0);
        case Action::read_vm: return memory(MemoryDoor::vm_read, page);
        case Action::write_vm: return memory(MemoryDoor::vm_write, page);
        case Action::read_procmem: return memory(MemoryDoor::procmem_read, page);
        case Action::write_procmem: return memory(MemoryDoor::procmem_write, page);
        case Action::ptrace_attach: return memory(MemoryDoor::ptrace_read, page);
        case Action::read_environ: return read_proc_file(pid, "environ");
        case Action::read_maps: return read_proc_file(pid, "maps");
        case Action::open_fd: {
            const int fd = ::open(fmt::format("/proc/{}/fd/{}", pid, page.target_fd).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd >= 0) ::close(fd);
            return result(fd >= 0);
        }
        case Action::set_nice: {
            errno = 0;
            const int prio = ::getpriority(PRIO_PROCESS, static_cast<id_t>(pid));
            if (prio == -1 && errno != 0) return result(false);
            return result(::setpriority(PRIO_PROCESS, static_cast<id_t>(pid), prio) == 0);
        }
        case Action::set_affinity: {
            cpu_set_t mask;
            CPU_ZERO(&mask);
            if (::sched_getaffinity(pid, sizeof mask, &mask) != 0) return result(false);
            return result(::sched_setaffinity(pid, sizeof mask, &mask) == 0);
        }
        case Action::set_limits: {
            rlimit current{};
            if (::prlimit(pid, RLIMIT_NOFILE, nullptr, &current) != 0) return result(false);
            return result(::prlimit(pid, RLIMIT_NOFILE, &current, nullptr) == 0);
        }
        case Action::open_shm: {
            const int fd = ::shm_open(page.shm_name, O_RDWR | O_CLOEXEC, 0);
            if (fd >= 0) ::close(fd);
            return result(fd >= 0);
        }
    }
    return {};
}

void probe_all(SharedPage* page) {
    for (Action a : all_actions()) {
        const Attempt at = attempt(a, *page);
        auto& slot = page->slots[static_cast<int>(a)];
        slot.outcome = static_cast<int>(at.outcome);
        slot.err = at.err;
        copy_text(slot.detail, sizeof slot.detail, at.detail);
    }
}

int prober_main(SharedPage* page, const Relationship& r) {
    auto fail = [&](int err, std::string_view what) {
        copy_text(page->setup_error, sizeof page->setup_error, fmt::format("prober: {}: {}", what, errno_name(err)));
        page->prober_done.store(-err);
        return 0;  // a set-up the kernel refuses is a finding, not a failure of the demo
    };
    if (const int err = become_user(r.prober_uid)) return fail(err, fmt::format("setuid({})", r.prober_uid));
    if (r.prober_user_namespace && ::unshare(CLONE_NEWUSER) != 0) return fail(errno, "unshare(CLONE_NEWUSER)");
    copy_text(page->prober_desc, sizeof page->prober_desc,
              fmt::format("uid {}{}{}", ::geteuid(), r.prober_user_namespace ? " in a new user namespace" : "",
                          r.prober_pid_namespace ? " in a new PID namespace" : ""));
    if (r.prober_pid_namespace) {
        if (::unshare(CLONE_NEWPID) != 0) return fail(errno, "unshare(CLONE_NEWPID)");
        // The first child after unshare is pid 1 of the new namespace: it probes.
        const pid_t child = ::fork();
        if (child < 0) return fail(errno, "fork into the PID namespace");
        if (child == 0) {
            // Its parent is outside the new namespace: getppid() reads 0 and the parent's pid
            // means nothing here, so the death signal alone ties it to the prober (it ends by
            // itself after its probes in any case).
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            probe_all(page);
            ::_exit(0);
        }
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    } else {
        probe_all(page);
    }
    page->prober_done.store(1);
    return 0;
}

// Unlinks the target's segment on every path (and on Ctrl-C through the cleanup registry).
struct ShmName {
    std::string name;
    explicit ShmName(std::string n) : name(std::move(n)) { cleanup::track_path("/dev/shm" + name); }
    ~ShmName() {
        ::shm_unlink(name.c_str());
        cleanup::untrack_path("/dev/shm" + name);
    }
};

}  // namespace

RelationshipRun run_relationship(const Relationship& r, int index) {
    RelationshipRun run;
    run.relationship = r;
    if (!r.needs_root.empty() && ::geteuid() != 0) {
        run.why_not = r.needs_root;
        return run;
    }
    Mapping memory = Mapping::anonymous((sizeof(SharedPage) + 4095) / 4096 * 4096, true);
    auto* page = new (memory.data()) SharedPage{};
    const ShmName shm(fmt::format("/proclab-iso-{}-{}", ::getpid(), index));
    copy_text(page->shm_name, sizeof page->shm_name, shm.name);

    ChildProcess target = ChildProcess::fork([&] { return target_main(page, r); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (page->target_ready.load() == 0 && target.running() && std::chrono::steady_clock::now() < deadline) {
        if (target.try_wait()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (page->target_ready.load() != 1) {
        run.why_not = page->setup_error[0] ? page->setup_error : "the target did not start";
        return run;  // the target's handle kills and reaps it
    }
    run.target = fmt::format("uid {}, {}dumpable", r.target_uid >= 0 ? r.target_uid : int(::geteuid()),
                             r.target_dumpable ? "" : "non-");

    ChildProcess prober = ChildProcess::fork([&] { return prober_main(page, r); });
    if (!prober.wait_for(std::chrono::seconds(20))) {
        prober.kill_and_wait();
        run.why_not = "the prober did not finish within 20 s";
        return run;
    }
    if (page->prober_done.load() != 1) {
        run.why_not = page->setup_error[0] ? page->setup_error : "the prober ended before trying anything";
        return run;
    }
    run.measured = true;
    run.prober = page->prober_desc;
    for (Action a : all_actions()) {
        const auto& slot = page->slots[static_cast<int>(a)];
        auto& at = run.attempts[static_cast<std::size_t>(a)];
        at.outcome = static_cast<Outcome>(slot.outcome);
        at.err = slot.err;
        at.detail = slot.detail;
    }
    // A signal is delivered when the target next runs: give its handler a moment.
    for (int i = 0;
         i < 100 && page->sigterm_count.load() == 0 && run.at(Action::signal_term).outcome == Outcome::allowed; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    run.sigterm_arrived = page->sigterm_count.load() > 0;
    target.kill_and_wait();
    return run;
}

}  // namespace proclab::isolation_matrix
