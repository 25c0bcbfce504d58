// Children that are always reaped. ChildProcess owns a forked child: its destructor kills and
// reaps one still running. The cleanup registry covers the paths a destructor never sees:
// Ctrl-C, SIGTERM, SIGHUP and the --timeout alarm kill every tracked child (or its whole process
// group), reap it, unlink tracked files (temporary JSON, shared-memory names), then the process
// ends. Every child also gets PR_SET_PDEATHSIG, so it dies when its parent is killed with SIGKILL.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <csignal>
#include <sys/types.h>

namespace proclab {

struct ExitStatus {
    int raw = 0;  // as waitpid() stores it

    bool exited() const;
    int exit_code() const;  // valid when exited()
    bool signaled() const;
    int signal() const;  // valid when signaled()
    bool core_dumped() const;
    std::string describe() const;  // "exit 0", "killed by SIGSEGV (Segmentation fault)"
};

// "SIGSEGV" for 11; "signal 99" where the number has no name.
std::string signal_name(int sig);
// "EPERM" for 1; "errno 999" where the number has no name.
std::string errno_name(int err);

// Why starting a process or a thread failed, with the limits that decide it: "EAGAIN (Resource
// temporarily unavailable); RLIMIT_NPROC 30, RLIMIT_AS 512 MiB" (the limits that are set, or "no
// process or memory limit set"). For a demo that goes on without what it could not start.
std::string start_failure(int err);

class ChildProcess {
public:
    // Forks; the child dies with its parent, forgets the parent's cleanup registry and signal
    // handlers, runs `body` and _exits with its return value (3 if it throws, after one line on
    // stderr). The parent gets an owning handle.
    static ChildProcess fork(const std::function<int()>& body);

    ChildProcess() noexcept = default;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ChildProcess(ChildProcess&& o) noexcept;
    ChildProcess& operator=(ChildProcess&& o) noexcept;
    ~ChildProcess();

    pid_t pid() const noexcept { return pid_; }
    bool running() const noexcept { return pid_ > 0 && !status_; }
    const std::optional<ExitStatus>& status() const noexcept { return status_; }

    ExitStatus wait();
    std::optional<ExitStatus> try_wait();
    std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);
    // Sends `sig` (SIGKILL by default) if still running, then reaps.
    ExitStatus kill_and_wait(int sig = 9);

private:
    explicit ChildProcess(pid_t pid) noexcept : pid_(pid) {}
    void reset() noexcept;

    pid_t pid_ = -1;
    std::optional<ExitStatus> status_;
};

// Child-side set-up after any fork: die with the parent (PR_SET_PDEATHSIG SIGKILL), and exit at
// once if the parent is already gone. `expected_parent` is the parent's pid before the fork.
void die_with_parent(pid_t expected_parent) noexcept;

namespace cleanup {

// Installs the handlers for SIGINT, SIGTERM, SIGHUP (clean up, then die of that signal, so the
// exit status still says what happened) and SIGALRM (the --timeout: clean up, one line, exit 3).
void install_handlers(std::string_view program_name);

// Arms a one-shot timer: after `seconds` the process cleans up and exits with 3.
void arm_timeout(double seconds);
void disarm_timeout();

// whole_group: kill the child's process group (the runner starts each demo as a group leader).
void track_child(pid_t pid, bool whole_group = false) noexcept;
void untrack_child(pid_t pid) noexcept;
void track_path(const std::string& path) noexcept;
void untrack_path(const std::string& path) noexcept;

// In a freshly forked child: drop the parent's registry and restore default signal handlers.
void forget_in_child() noexcept;

// Kills and reaps every tracked child, unlinks every tracked path (rmdir for a directory, such as
// a cgroup, once the children above are gone). Async-signal-safe.
void emergency_cleanup() noexcept;

// Holds off the cleanup signals between creating a child and tracking it, so no handler can run
// in that window and miss the child. restore() (or the destructor) lets them through again.
class SignalBlock {
public:
    SignalBlock() noexcept;
    SignalBlock(const SignalBlock&) = delete;
    SignalBlock& operator=(const SignalBlock&) = delete;
    ~SignalBlock() { restore(); }
    void restore() noexcept;

private:
    sigset_t saved_;
    bool active_ = true;
};

}  // namespace cleanup
}  // namespace proclab
