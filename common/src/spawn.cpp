#include "proclab/spawn.hpp"

#include "proclab/clock.hpp"
#include "proclab/handles.hpp"

// Boost 1.81's Process v2 with BOOST_PROCESS_USE_STD_FS forgets these two includes.
#include <boost/optional.hpp>
#include <type_traits>

#include <boost/asio/read.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string_view>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclab {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

// Runs in the child between fork and exec.
struct ChildSetup {
    pid_t parent;
    bool new_process_group;

    bp::error_code on_exec_setup(bp::posix::default_launcher&, const bp::filesystem::path&, const char* const*) const {
        die_with_parent(parent);
        if (new_process_group && ::setpgid(0, 0) != 0) return bp::error_code(errno, bp::system_category());
        // Exec resets the handlers but keeps the signal mask, which run_captured blocked: clear it.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        return {};
    }

    // Boost 1.81's launcher leaves the child of a failed exec unreaped (boostorg/process #445): it
    // reports the child's errno and returns without a waitpid. The child has written that errno and
    // is exiting, so this wait, in the parent, is short. Its detection expression differs from its
    // call (an extra error_code first), hence the variadic signature, which matches both.
    template <typename... Rest>
    void on_error(bp::posix::default_launcher& launcher, const Rest&...) const {
        if (launcher.pid <= 0) return;  // the fork itself failed: no child
        while (::waitpid(launcher.pid, nullptr, 0) < 0 && errno == EINTR) {}
        launcher.pid = -1;
    }

    // In the child after a failed exec: Boost then calls exit(), which would run the parent's
    // atexit handlers and flush a copy of its stdio buffers a second time. _exit does neither.
    template <typename... Rest>
    void on_exec_error(bp::posix::default_launcher&, const Rest&...) const {
        ::_exit(127);
    }
};

}  // namespace

ExitStatus spawn_and_wait(const std::filesystem::path& exe, const std::vector<std::string>& args) {
    asio::io_context ctx;
    cleanup::SignalBlock block;
    bp::process proc(ctx, exe, args, bp::process_stdio{nullptr, nullptr, nullptr}, ChildSetup{::getpid(), false});
    cleanup::track_child(proc.id());
    block.restore();
    proc.wait();
    cleanup::untrack_child(proc.id());
    return ExitStatus{proc.native_exit_code()};
}

// Boost 1.81's process/v2/environment.hpp does not compile with BOOST_PROCESS_USE_STD_FS, so the
// PATH search is done here: the first executable regular file named `name` on PATH.
std::filesystem::path find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const std::string dir(rest.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        const std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
        std::error_code ec;
        if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return {};
}

std::filesystem::path self_executable() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw HarnessError(ec.value(), "readlink /proc/self/exe");
    return p;
}

CapturedRun run_captured(const std::filesystem::path& exe, const std::vector<std::string>& args,
                         const SpawnOptions& options) {
    asio::io_context ctx;
    asio::readable_pipe out_pipe(ctx), err_pipe(ctx);
    CapturedRun run;
    const Stopwatch clock;

    cleanup::SignalBlock block;  // the child unblocks in ChildSetup, before exec
    bp::process proc(ctx, exe, args, bp::process_stdio{nullptr, out_pipe, err_pipe},
                     ChildSetup{::getpid(), options.new_process_group});
    run.pid = proc.id();
    const bool group = options.new_process_group;
    cleanup::track_child(run.pid, group);
    block.restore();

    asio::steady_timer timer(ctx, options.timeout);
    bool exited = false;
    int open_reads = 2;
    auto finish_if_done = [&] {
        if (exited && open_reads == 0) timer.cancel();
    };
    auto on_read_done = [&](const boost::system::error_code&, std::size_t) {
        --open_reads;
        finish_if_done();
    };
    asio::async_read(out_pipe, asio::dynamic_buffer(run.out), on_read_done);
    asio::async_read(err_pipe, asio::dynamic_buffer(run.err), on_read_done);

    timer.async_wait([&](const boost::system::error_code& e) {
        if (e || exited) return;
        run.timed_out = true;
        ::kill(group ? -run.pid : run.pid, SIGKILL);
    });
    proc.async_wait([&](bp::error_code, int) {
        exited = true;
        if (open_reads == 0) return finish_if_done();
        // A descendant that still holds the pipes open must not hang the caller: give the reads
        // a short grace period, then close them.
        timer.expires_after(std::chrono::seconds(2));
        timer.async_wait([&](const boost::system::error_code& e) {
            if (e) return;
            boost::system::error_code ignored;
            out_pipe.close(ignored);
            err_pipe.close(ignored);
        });
    });
    ctx.run();

    if (!exited) proc.wait();  // ctx ran out of work some other way: still reap
    cleanup::untrack_child(run.pid);
    run.status = ExitStatus{proc.native_exit_code()};
    run.wall_s = clock.elapsed_s();
    return run;
}

}  // namespace proclab
