#include "proclab/child.hpp"

#include "proclab/exit_codes.hpp"
#include "proclab/handles.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclab {

bool ExitStatus::exited() const { return WIFEXITED(raw); }
int ExitStatus::exit_code() const { return WEXITSTATUS(raw); }
bool ExitStatus::signaled() const { return WIFSIGNALED(raw); }
int ExitStatus::signal() const { return WTERMSIG(raw); }
bool ExitStatus::core_dumped() const { return WIFSIGNALED(raw) && WCOREDUMP(raw); }

std::string ExitStatus::describe() const {
    if (exited()) return fmt::format("exit {}", exit_code());
    if (signaled())
        return fmt::format("killed by {} ({}){}", signal_name(signal()), ::strsignal(signal()),
                           core_dumped() ? ", core dumped" : "");
    return fmt::format("status {:#x}", raw);
}

std::string signal_name(int sig) {
    if (const char* abbrev = ::sigabbrev_np(sig)) return std::string("SIG") + abbrev;
    return fmt::format("signal {}", sig);
}

std::string start_failure(int err) {
    std::vector<std::string> limits;
    for (auto [resource, name, bytes] :
         {std::tuple{RLIMIT_NPROC, "RLIMIT_NPROC", false}, std::tuple{RLIMIT_AS, "RLIMIT_AS", true}}) {
        rlimit r{};
        if (::getrlimit(resource, &r) != 0 || r.rlim_cur == RLIM_INFINITY) continue;
        limits.push_back(bytes ? fmt::format("{} {} MiB", name, r.rlim_cur >> 20)
                               : fmt::format("{} {}", name, r.rlim_cur));
    }
    return fmt::format(
        "{} ({}); {}", errno_name(err), std::strerror(err),
        limits.empty() ? std::string("no process or memory limit set") : fmt::format("{}", fmt::join(limits, ", ")));
}

std::string errno_name(int err) {
    if (const char* name = ::strerrorname_np(err)) return name;
    return fmt::format("errno {}", err);
}

void die_with_parent(pid_t expected_parent) noexcept {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died between fork() and prctl(): then nobody would ever signal us.
    if (::getppid() != expected_parent) ::_exit(1);
}

ChildProcess ChildProcess::fork(const std::function<int()>& body) {
    const pid_t parent = ::getpid();
    std::fflush(nullptr);  // or buffered output would be written twice
    cleanup::SignalBlock block;
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
        cleanup::forget_in_child();
        block.restore();
        die_with_parent(parent);
        int code = 3;
        try {
            code = body();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child %d: %s\n", static_cast<int>(::getpid()), e.what());
        } catch (...) {
            std::fprintf(stderr, "child %d: unknown exception\n", static_cast<int>(::getpid()));
        }
        std::fflush(nullptr);
        ::_exit(code);  // never run the parent's atexit handlers or static destructors twice
    }
    cleanup::track_child(pid);
    return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), status_(std::exchange(o.status_, std::nullopt)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
        reset();
        pid_ = std::exchange(o.pid_, -1);
        status_ = std::exchange(o.status_, std::nullopt);
    }
    return *this;
}

ChildProcess::~ChildProcess() { reset(); }

void ChildProcess::reset() noexcept {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        int raw = 0;
        while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {}
        cleanup::untrack_child(pid_);
    }
    pid_ = -1;
    status_.reset();
}

ExitStatus ChildProcess::wait() {
    if (status_) return *status_;
    if (pid_ <= 0) throw HarnessError(ECHILD, "wait on an empty ChildProcess");
    int raw = 0;
    while (::waitpid(pid_, &raw, 0) < 0) {
        if (errno != EINTR) throw_errno(fmt::format("waitpid({})", pid_));
    }
    cleanup::untrack_child(pid_);
    status_ = ExitStatus{raw};
    return *status_;
}

std::optional<ExitStatus> ChildProcess::try_wait() {
    if (status_) return status_;
    if (pid_ <= 0) return std::nullopt;
    int raw = 0;
    const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r < 0 && errno != EINTR) throw_errno(fmt::format("waitpid({})", pid_));
    if (r == pid_) {
        cleanup::untrack_child(pid_);
        status_ = ExitStatus{raw};
    }
    return status_;
}

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(50);
    for (;;) {
        if (auto s = try_wait()) return s;
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(pause);
        pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(5));
    }
}

ExitStatus ChildProcess::kill_and_wait(int sig) {
    if (status_) return *status_;
    if (pid_ > 0) ::kill(pid_, sig);
    return wait();
}

namespace cleanup {
namespace {

constexpr int kMaxChildren = 4096;
constexpr int kMaxPaths = 64;
constexpr std::size_t kPathSize = 512;

// Plain arrays of atomics: the signal handler may read them at any moment.
std::atomic<pid_t> g_children[kMaxChildren];
std::atomic<int> g_path_state[kMaxPaths];  // 0 free, 1 being written, 2 valid
char g_paths[kMaxPaths][kPathSize];
char g_program[64] = "proclab";
char g_timeout_message[160] = "";

void write_stderr(const char* s) noexcept {
    const std::size_t len = std::strlen(s);
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, s, len);
}

void on_fatal_signal(int sig) {
    const int saved = errno;
    emergency_cleanup();
    ::signal(sig, SIG_DFL);
    ::raise(sig);  // die of the same signal: the parent's wait status tells the truth
    errno = saved;
}

void on_timeout(int) {
    write_stderr(g_timeout_message);
    emergency_cleanup();
    // exit_group directly: the same as _exit, but not intercepted by ThreadSanitizer, which would
    // report the threads this abrupt end leaves unjoined (they end with the process, as intended).
    ::syscall(SYS_exit_group, static_cast<long>(kExitTimeout));
}

}  // namespace

void install_handlers(std::string_view program_name) {
    const auto n = std::min(program_name.size(), sizeof g_program - 1);
    std::memcpy(g_program, program_name.data(), n);
    g_program[n] = '\0';
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_fatal_signal;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
    sa.sa_handler = on_timeout;
    ::sigaction(SIGALRM, &sa, nullptr);
    // Grandchildren orphaned on the way out (by the kills of emergency_cleanup) are reparented
    // here, where it reaps them, instead of to the caller: 16 zombies of a runaway's fork loop
    // were left to the caller of `isolation_matrix --timeout 1.5` before.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void arm_timeout(double seconds) {
    std::snprintf(g_timeout_message, sizeof g_timeout_message,
                  "%s: error: timed out after %g s (--timeout); children killed and reaped\n", g_program, seconds);
    itimerval t{};
    t.it_value.tv_sec = static_cast<time_t>(seconds);
    t.it_value.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(t.it_value.tv_sec)) * 1e6);
    if (t.it_value.tv_sec == 0 && t.it_value.tv_usec == 0) t.it_value.tv_usec = 1;
    ::setitimer(ITIMER_REAL, &t, nullptr);
}

void disarm_timeout() {
    itimerval t{};
    ::setitimer(ITIMER_REAL, &t, nullptr);
}

void track_child(pid_t pid, bool whole_group) noexcept {
    const pid_t entry = whole_group ? -pid : pid;
    for (auto& slot : g_children) {
        pid_t expected = 0;
        if (slot.compare_exchange_strong(expected, entry)) return;
    }
    // Full: the destructor still reaps it; only the signal path would miss it.
}

void untrack_child(pid_t pid) noexcept {
    for (auto& slot : g_children) {
        pid_t expected = pid;
        if (slot.compare_exchange_strong(expected, 0)) return;
        expected = -pid;
        if (slot.compare_exchange_strong(expected, 0)) return;
    }
}

void track_path(const std::string& path) noexcept {
    if (path.size() >= kPathSize) return;
    for (int i = 0; i < kMaxPaths; ++i) {
        int expected = 0;
        if (g_path_state[i].compare_exchange_strong(expected, 1)) {
            std::memcpy(g_paths[i], path.c_str(), path.size() + 1);
            g_path_state[i].store(2);
            return;
        }
    }
}

void untrack_path(const std::string& path) noexcept {
    for (int i = 0; i < kMaxPaths; ++i) {
        if (g_path_state[i].load() == 2 && path == g_paths[i]) {
            g_path_state[i].store(0);
            return;
        }
    }
}

void forget_in_child() noexcept {
    for (auto& slot : g_children) slot.store(0, std::memory_order_relaxed);
    for (auto& state : g_path_state) state.store(0, std::memory_order_relaxed);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) ::signal(sig, SIG_DFL);
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
}

SignalBlock::SignalBlock() noexcept {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) sigaddset(&set, sig);
    ::pthread_sigmask(SIG_BLOCK, &set, &saved_);
}

void SignalBlock::restore() noexcept {
    if (!active_) return;
    active_ = false;
    ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
}

void emergency_cleanup() noexcept {
    for (auto& slot : g_children) {
        const pid_t entry = slot.exchange(0);
        if (entry == 0) continue;
        ::kill(entry, SIGKILL);  // a negative entry is a whole process group
        const pid_t pid = entry < 0 ? -entry : entry;
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
    }
    // What the kills above orphaned (a runaway's own children, a PID namespace's first process
    // that dies by its death signal once its parent is gone) comes to this process, a child
    // subreaper (install_handlers), not to whoever started it: reap it here. Bounded, so that an
    // untracked child that outlives the kills cannot hold the exit: 2 s in 1 ms naps.
    for (int naps = 0; naps < 2000;) {
        const pid_t pid = ::waitpid(-1, nullptr, WNOHANG);
        if (pid > 0 || (pid < 0 && errno == EINTR)) continue;
        if (pid < 0) break;  // ECHILD: nothing left
        const timespec nap{0, 1'000'000};
        ::nanosleep(&nap, nullptr);
        ++naps;
    }
    // A tracked directory (a cgroup the demo made) is removed once its processes are gone above.
    for (int i = 0; i < kMaxPaths; ++i)
        if (g_path_state[i].exchange(0) == 2 && ::unlink(g_paths[i]) != 0 && errno == EISDIR) ::rmdir(g_paths[i]);
}

}  // namespace cleanup
}  // namespace proclab
