// The project's own guarantees about children: always reaped, killed on timeout, dead with their
// parent; and the all-or-nothing output file.
#include "proclab/child.hpp"
#include "proclab/exit_codes.hpp"
#include "proclab/handles.hpp"
#include "proclab/output_file.hpp"
#include "proclab/spawn.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace proclab;
using namespace std::chrono_literals;

namespace {
bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0; }

// An atexit handler that leaves a mark when it runs in any process but the one that registered it:
// a forked child that calls exit() instead of _exit() runs its parent's handlers.
pid_t g_registering_pid = 0;
char g_mark_path[256] = {};
void mark_if_in_a_child() {
    if (::getpid() == g_registering_pid || g_mark_path[0] == '\0') return;
    if (const int fd = ::open(g_mark_path, O_WRONLY | O_CREAT | O_APPEND, 0600); fd >= 0) {
        [[maybe_unused]] const auto n = ::write(fd, "x", 1);
        ::close(fd);
    }
}
}  // namespace

TEST_CASE("a child's exit code and death signal are reported", "[children]") {
    auto ok = ChildProcess::fork([] { return 7; });
    const auto s = ok.wait();
    CHECK(s.exited());
    CHECK(s.exit_code() == 7);
    CHECK(s.describe() == "exit 7");

    auto killed = ChildProcess::fork([] {
        ::raise(SIGTERM);
        return 0;
    });
    const auto k = killed.wait();
    CHECK(k.signaled());
    CHECK(k.signal() == SIGTERM);
    CHECK(signal_name(k.signal()) == "SIGTERM");
    CHECK_THAT(k.describe(), Catch::StartsWith("killed by SIGTERM"));
}

TEST_CASE("an exception in a child's body is exit 3, not a second copy of the parent running on", "[children]") {
    auto child = ChildProcess::fork([]() -> int { throw std::runtime_error("boom"); });
    CHECK(child.wait().exit_code() == 3);
}

TEST_CASE("a child handle that goes out of scope kills and reaps its child", "[children]") {
    pid_t pid = 0;
    {
        auto child = ChildProcess::fork([] {
            ::pause();
            return 0;
        });
        pid = child.pid();
        REQUIRE(process_exists(pid));
    }
    CHECK_FALSE(process_exists(pid));  // not even a zombie
    CHECK(::waitpid(pid, nullptr, WNOHANG) == -1);
}

TEST_CASE("waiting with a timeout gives up, and kill_and_wait reaps", "[children]") {
    auto child = ChildProcess::fork([] {
        ::pause();
        return 0;
    });
    CHECK_FALSE(child.wait_for(50ms).has_value());
    const auto s = child.kill_and_wait();
    CHECK(s.signaled());
    CHECK(s.signal() == SIGKILL);
    CHECK_FALSE(child.running());
}

// [differs-under-qemu-user]: under qemu-user, waitpid on the orphaned grandchild returns -1 here; the arm64 preset
// leaves it out.
TEST_CASE("a child dies with its parent (PR_SET_PDEATHSIG)", "[children][differs-under-qemu-user]") {
    test::become_subreaper();
    Pipe report = Pipe::create();
    auto middle = ChildProcess::fork([&] {
        auto grandchild = ChildProcess::fork([&] {
            // The body runs after the child armed PR_SET_PDEATHSIG: report only then.
            send_value(report.write_end.get(), ::getpid());
            ::pause();
            return 0;
        });
        ::pause();
        return 0;
    });
    const auto grandchild = receive_value<pid_t>(report.read_end.get());
    REQUIRE(grandchild);
    middle.kill_and_wait(SIGKILL);  // no destructor runs in the middle process: only the kernel can help
    int status = 0;
    REQUIRE(::waitpid(*grandchild, &status, 0) == *grandchild);  // it came to us, the subreaper
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE(
    "on --timeout, grandchildren orphaned by the cleanup's kills are reaped by the program, not left to its caller",
    "[children]") {
    test::become_subreaper();
    // A stand-in for a demo: its handlers, a child that forks grandchildren that die with it (as
    // isolation_matrix's fork loop and PID-namespace prober do), then its --timeout. Before the
    // program became a subreaper, the grandchildren's zombies went to the caller.
    const pid_t program = ::fork();
    REQUIRE(program >= 0);
    if (program == 0) {
        cleanup::install_handlers("stand-in");
        auto child = ChildProcess::fork([] {
            const pid_t self = ::getpid();
            for (int i = 0; i < 8; ++i)
                if (::fork() == 0) {
                    die_with_parent(self);
                    ::pause();
                    ::_exit(0);
                }
            ::pause();
            return 0;
        });
        cleanup::arm_timeout(0.3);
        for (;;) ::pause();
    }
    int status = 0;
    REQUIRE(::waitpid(program, &status, 0) == program);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == kExitTimeout);
    CHECK(test::leftover_children() == 0);
}

TEST_CASE("a spawned program's output and exit status are captured", "[spawn]") {
    auto run = run_captured("/bin/sh", {"-c", "echo out; echo err >&2; exit 5"});
    CHECK(run.out == "out\n");
    CHECK(run.err == "err\n");
    CHECK(run.status.exit_code() == 5);
    CHECK_FALSE(run.timed_out);
}

// [differs-under-qemu-user]: under qemu-user, kill(-group, 0) still finds the group after its kill; the arm64 preset
// leaves it out.
TEST_CASE("a spawned program that overruns its timeout is killed with its whole group",
          "[spawn][differs-under-qemu-user]") {
    test::become_subreaper();
    auto run = run_captured("/bin/sh", {"-c", "sleep 30 & sleep 30"}, {.timeout = 300ms, .new_process_group = true});
    CHECK(run.timed_out);
    CHECK(run.status.signaled());
    CHECK(run.wall_s < 10);
    // The background sleep was in the group: it is dead too, and reaped here.
    for (int i = 0; i < 200 && ::kill(-run.pid, 0) == 0; ++i) {
        ::waitpid(-1, nullptr, WNOHANG);
        std::this_thread::sleep_for(5ms);
    }
    CHECK(::kill(-run.pid, 0) == -1);
    CHECK(test::leftover_children() == 0);
}

TEST_CASE("a program that cannot be started is a harness error, and its child is reaped", "[spawn]") {
    const auto dir = test::scratch_dir("proclab-exec-");
    const auto mark = (dir / "mark").string();
    REQUIRE(mark.size() < sizeof g_mark_path);
    mark.copy(g_mark_path, mark.size());
    g_registering_pid = ::getpid();
    REQUIRE(std::atexit(mark_if_in_a_child) == 0);

    CHECK_THROWS_AS(run_captured("/nonexistent/program", {}), std::exception);
    errno = 0;
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);  // the failed exec's child is reaped, not a zombie
    CHECK(errno == ECHILD);
    CHECK_FALSE(std::filesystem::exists(mark));  // and it left by _exit: no handler of ours ran in it
    g_mark_path[0] = '\0';
    std::filesystem::remove_all(dir);
}

TEST_CASE("an output file appears whole on commit and not at all otherwise", "[output]") {
    const auto dir = std::filesystem::temp_directory_path() / ("proclab-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "out.json").string();
    {
        OutputFile f(path);
        REQUIRE(f.error().empty());
        CHECK_FALSE(std::filesystem::exists(path));
    }
    CHECK(std::filesystem::is_empty(dir));  // abandoned: the temporary is gone too
    {
        OutputFile f(path);
        f.commit("{}\n");
    }
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == "{}\n");
    std::filesystem::remove_all(dir);

    OutputFile bad("/nonexistent/dir/x.json");
    CHECK_THAT(bad.error(), Catch::StartsWith("cannot write /nonexistent/dir/x.json: "));
}
