// Running a program as a child through Boost.Process v2 (fork + exec), with its output captured
// and a timeout after which it (or its whole process group) is killed and reaped.
#pragma once

#include "proclab/child.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace proclab {

struct SpawnOptions {
    std::chrono::milliseconds timeout{60'000};
    // The child leads a new process group, so a timeout kills everything it started as well.
    bool new_process_group = false;
};

struct CapturedRun {
    pid_t pid = -1;
    ExitStatus status;
    bool timed_out = false;
    std::string out;
    std::string err;
    double wall_s = 0;
};

// Runs `exe args...` with stdin from /dev/null, stdout and stderr captured. The child dies with
// this process (PR_SET_PDEATHSIG) and is tracked by the cleanup registry while it runs.
// Throws HarnessError when the program cannot be started.
CapturedRun run_captured(const std::filesystem::path& exe, const std::vector<std::string>& args,
                         const SpawnOptions& options = {});

// Starts `exe args...` through Boost.Process v2 with stdin, stdout and stderr on /dev/null and
// waits for it: the plain cost of a library spawn, for creation_cost.
ExitStatus spawn_and_wait(const std::filesystem::path& exe, const std::vector<std::string>& args);

// The program `name` as found on PATH; empty when absent.
std::filesystem::path find_program(const std::string& name);

// The running executable, from /proc/self/exe.
std::filesystem::path self_executable();

}  // namespace proclab
