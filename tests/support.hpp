// Helpers shared by the OS-semantics and end-to-end tests.
#pragma once

#include "paths.hpp"
#include "proclab/child.hpp"
#include "proclab/interference.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclab::test {

// Measured interference for verdict-rule tests: `fraction` of `cpus` CPUs' time over one second
// went to other tasks.
inline Interference interference(double fraction, int cpus = 2) {
    Interference i;
    i.known = true;
    i.cpus = cpus;
    i.window_ns = 1e9;
    i.other_ns = fraction * cpus * 1e9;
    return i;
}

// Makes this test process the reaper of every orphan below it, so a process that a program under
// test leaves behind comes here, where leftover_children() sees it.
inline void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

// A /proc file's text, or what could be read of it: a process that exits while it is read (any
// process on the machine: tests run in parallel) ends the read with ESRCH, which is not an error
// here (an ifstream would throw from underflow).
inline std::string read_proc_text(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string text;
    char buffer[512];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
}

// Children of this process that exist now, running or zombie (a /proc scan for our pid as
// parent); each is killed and reaped on the way, so one failing test does not leak into the next.
inline int leftover_children() {
    int count = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        const auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const std::string text = read_proc_text(e.path() / "stat");
        const auto close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(text.substr(close + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid != ::getpid()) continue;
        ++count;
        const pid_t pid = std::stoi(name);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    return count;
}

// A fresh folder under the temporary directory, named after this test process.
inline std::filesystem::path scratch_dir(const std::string& prefix) {
    auto dir = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir;
}

inline std::set<std::string> shm_entries_mentioning(const std::string& text) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
        const auto name = e.path().filename().string();
        if (name.find(text) != std::string::npos) out.insert(name);
    }
    return out;
}

// Starts `path args...` in its own process group, with stdin, stdout and stderr on /dev/null.
inline ChildProcess start_program(const std::filesystem::path& path, const std::vector<std::string>& args) {
    return ChildProcess::fork([&] {
        std::vector<char*> argv{const_cast<char*>(path.c_str())};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::setpgid(0, 0);
        if (FILE* null = std::fopen("/dev/null", "r+")) {
            ::dup2(fileno(null), 0);
            ::dup2(fileno(null), 1);
            ::dup2(fileno(null), 2);
        }
        ::execv(path.c_str(), argv.data());
        return 127;
    });
}

}  // namespace proclab::test
