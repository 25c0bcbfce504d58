// The quick suite under hostile conditions a user may have beside it: periodic sleepers (on the
// suite's one CPU, and of three shapes on every CPU), a cgroup CPU quota, one CPU, nice 19 beside
// busy loops, and memory-hungry neighbours. Under each: the suite exits 0, every demo runs, no
// claim is refuted (a refutation needs direct evidence, which load cannot make), and every
// not-measured that the condition caused names it. Its own test executable, run alone (RUN_SERIAL
// in tests/CMakeLists.txt): each case is one known load, with nothing else of ours beside it.
#include "proclab/child.hpp"
#include "proclab/environment.hpp"
#include "proclab/render.hpp"
#include "proclab/spawn.hpp"
#include "proclab/work.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace proclab;
using namespace std::chrono_literals;

namespace {

// Not-measured for a reason of the machine itself, whatever the condition: those need not name it.
const std::vector<std::string> kMachineReasons{"1 CPU:", "real CPython was not measured"};

// Other load appears in a rule's sentence as what /proc/stat counted.
const std::vector<std::string> kLoadNamed{"other tasks and steal took", "other load"};

void pin_self(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ::sched_setaffinity(0, sizeof set, &set);
}

// A neighbour that spins `spin_us`, then sleeps `sleep_us`, over and over (sleep 0: a busy loop),
// on `cpu` (-1: wherever the scheduler puts it). Its own session, as a program started from another
// terminal would be (its own autogroup). Killed and reaped by its handle.
ChildProcess neighbour(int spin_us, int sleep_us, int cpu = -1) {
    return ChildProcess::fork([=] {
        ::setsid();
        if (cpu >= 0) pin_self(cpu);
        for (;;) {
            const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us);
            while (std::chrono::steady_clock::now() < end) {}
            if (sleep_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
        }
        return 0;
    });
}

// A memory-hungry neighbour: it maps `bytes`, writes every page, hands the pages back
// (MADV_DONTNEED) and writes them again, so the kernel keeps zeroing and faulting pages in while
// the suite runs.
ChildProcess memory_neighbour(std::size_t bytes) {
    return ChildProcess::fork([=] {
        ::setsid();
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return 1;
        auto* bytes_at = static_cast<unsigned char*>(p);
        for (unsigned char round = 1;; ++round) {
            for (std::size_t at = 0; at < bytes; at += 4096) bytes_at[at] = round;
            ::madvise(p, bytes, MADV_DONTNEED);
        }
        return 0;
    });
}

// A cgroup with a CPU quota, removed on destruction: v2's cpu.max where the unified hierarchy has
// the cpu controller, v1's cpu.cfs_quota_us otherwise. `unavailable` says why none could be made.
class QuotaCgroup {
public:
    explicit QuotaCgroup(double cpus) {
        const std::string name = fmt::format("proclab-hostile-{}", ::getpid());
        const long period = 100000;
        const auto quota = static_cast<long>(cpus * double(period));
        std::error_code ec;
        if (std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")) {
            const auto controllers = read_small_file("/sys/fs/cgroup/cgroup.controllers").value_or("");
            if (controllers.find("cpu") != std::string::npos) {
                std::ofstream("/sys/fs/cgroup/cgroup.subtree_control") << "+cpu";
                dir_ = std::filesystem::path("/sys/fs/cgroup") / name;
                if (std::filesystem::create_directory(dir_, ec) &&
                    write(dir_ / "cpu.max", fmt::format("{} {}", quota, period)))
                    return;
                remove();
            }
        }
        if (std::filesystem::exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) {
            dir_ = std::filesystem::path("/sys/fs/cgroup/cpu") / name;
            if (std::filesystem::create_directory(dir_, ec) &&
                write(dir_ / "cpu.cfs_period_us", std::to_string(period)) &&
                write(dir_ / "cpu.cfs_quota_us", std::to_string(quota)))
                return;
            remove();
        }
        unavailable =
            "no cgroup with the cpu controller could be made here (needs root and cgroup v2's cpu or v1's cpu "
            "hierarchy)";
    }
    ~QuotaCgroup() { remove(); }
    QuotaCgroup(const QuotaCgroup&) = delete;
    QuotaCgroup& operator=(const QuotaCgroup&) = delete;

    std::string unavailable;
    std::filesystem::path procs() const { return dir_ / "cgroup.procs"; }

private:
    static bool write(const std::filesystem::path& file, const std::string& text) {
        std::ofstream out(file);
        out << text;
        out.flush();
        return bool(out);
    }
    void remove() {
        if (dir_.empty()) return;
        // rmdir(2), not remove_all: a cgroup's files cannot be unlinked; it goes once empty.
        for (int i = 0; i < 50 && ::rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i) std::this_thread::sleep_for(100ms);
        dir_.clear();
    }
    std::filesystem::path dir_;
};

struct SuiteRun {
    CapturedRun run;
    Json suite;
};

// `proclab run --quick --json FILE`, started through `prefix` (taskset, nice, a shell that joins a
// cgroup); the run and the suite's JSON.
SuiteRun run_suite(const std::vector<std::string>& prefix, const std::filesystem::path& dir) {
    const auto json_path = dir / "suite.json";
    std::vector<std::string> command = prefix;
    for (const auto& a : {(test::bin_dir() / "proclab").string(), std::string("run"), std::string("--quick"),
                          std::string("--json"), json_path.string()})
        command.push_back(a);
    SuiteRun r;
    r.run =
        run_captured(command.front(), std::vector<std::string>(command.begin() + 1, command.end()), {.timeout = 600s});
    if (std::ifstream in(json_path); in) r.suite = Json::parse(in, nullptr, false);
    return r;
}

// What every condition must leave: exit 0, every demo ran, nothing refuted (the suite's claims,
// each demo's own decisions, and each of their trials), and each not-measured names the condition
// (one of `names`) or a reason of the machine itself.
void check_hostile(const SuiteRun& r, const std::vector<std::string>& names) {
    INFO(r.run.out << r.run.err);
    CHECK(r.run.status.describe() == "exit 0");
    REQUIRE(r.suite.is_object());
    for (const auto& c : r.suite.at("claims")) {
        INFO(c.at("id").get<std::string>() << ": " << c.at("evidence").get<std::string>());
        CHECK(c.at("verdict") != "refuted");
    }
    for (const auto& d : r.suite.at("demos")) {
        const std::string demo = d.at("name");
        INFO(demo << ": " << d.value("detail", ""));
        CHECK(d.at("status") == "ok");
        if (!d.contains("result") || d.at("result").is_null()) continue;
        for (const auto& c : d.at("result").at("claims")) {
            const std::string reason = c.at("reason");
            INFO(demo << " " << c.at("id").get<std::string>() << " " << c.at("verdict").get<std::string>() << ": "
                      << reason);
            CHECK(c.at("verdict") != "refuted");
            // Nor in any single trial: a majority must not hide a refutation that load produced.
            if (c.contains("trials"))
                for (const auto& v : c.at("trials").at("verdicts")) CHECK(v != "refuted");
            if (c.at("verdict") != "not-measured") continue;
            const auto named = [&](const std::vector<std::string>& words) {
                return std::any_of(words.begin(), words.end(),
                                   [&](const std::string& w) { return reason.find(w) != std::string::npos; });
            };
            CHECK((named(names) || named(kMachineReasons)));
        }
    }
}

}  // namespace

TEST_CASE("hostile: a 50 us / 100 us sleeper on the suite's one CPU refutes nothing", "[runner][load][hostile]") {
    // The shape of an interactive or audio thread: it preempts the suite's workers often, for less
    // than a clock-gap picture can see (P4 was once refuted from such a picture).
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-hostile-");
    const int cpu = probe_environment().affinity_cpus.front();
    {
        auto sleeper = neighbour(50, 100, cpu);
        const auto r = run_suite({"/usr/bin/taskset", "-c", std::to_string(cpu)}, dir);
        check_hostile(r, {"other tasks and steal took", "other load", "1 CPU", "one CPU"});
    }
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("hostile: sleepers of three shapes on every CPU refute nothing", "[runner][load][hostile]") {
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-hostile-");
    {
        std::vector<ChildProcess> sleepers;
        for (int cpu : probe_environment().affinity_cpus)
            for (auto [spin, sleep] : {std::pair{50, 100}, std::pair{500, 2000}, std::pair{2000, 10000}})
                sleepers.push_back(neighbour(spin, sleep, cpu));
        check_hostile(run_suite({}, dir), kLoadNamed);
    }
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("hostile: under a cgroup CPU quota of half the CPUs, nothing is refuted and the quota is shown",
          "[runner][load][hostile]") {
    const auto cpus = probe_environment().affinity_cpus.size();
    const double quota = std::max(0.5, double(cpus) / 2);
    QuotaCgroup group(quota);
    if (!group.unavailable.empty()) {
        WARN("not run: " << group.unavailable);
        return;
    }
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-hostile-");
    const auto r = run_suite({"/bin/sh", "-c", "echo $$ > " + group.procs().string() + " && exec \"$0\" \"$@\""}, dir);
    check_hostile(r, {"quota", "other tasks and steal took", "other load"});
    // The environment shows the quota, and the header beside the CPUs.
    REQUIRE(r.suite.is_object());
    const auto fact = r.suite.at("environment").at("cpu_quota").at("value").get<std::string>();
    CHECK_THAT(fact, Catch::StartsWith(fmt::format("{:.2f} CPU", quota)));
    CHECK_THAT(r.run.out + r.run.err, Catch::Contains(fmt::format("CPU quota (cgroup): {:.2f} CPU", quota)));
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("hostile: on one CPU nothing is refuted, and what needs two says so", "[runner][load][hostile]") {
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-hostile-");
    const auto r =
        run_suite({"/usr/bin/taskset", "-c", std::to_string(probe_environment().affinity_cpus.front())}, dir);
    check_hostile(r, {"1 CPU", "one CPU"});
    for (const auto& c : r.suite.at("claims"))
        if (c.at("id") == "T2") CHECK(c.at("verdict") == "not-measured");
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("hostile: busy loops on all CPUs but one, the suite at nice 19, refute nothing", "[runner][load][hostile]") {
    // The recorded case: a busy loop beside the suite at nice 19 took one of two CPUs, and rules
    // then said "C++ threads never ran at the same time" and "confirmed 3433x".
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-hostile-");
    {
        std::vector<ChildProcess> hogs;
        const auto cpus = probe_environment().affinity_cpus.size();
        for (std::size_t i = 0; i < std::max<std::size_t>(1, cpus - 1); ++i) hogs.push_back(neighbour(1000, 0));
        check_hostile(run_suite({"/usr/bin/nice", "-n", "19"}, dir), kLoadNamed);
    }
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("hostile: memory-hungry neighbours refute nothing", "[runner][load][hostile]") {
    // Two neighbours that keep faulting in and handing back 512 MiB each: page zeroing, faults and
    // memory bandwidth taken from the suite (and a CPU each).
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-hostile-");
    {
        std::vector<ChildProcess> hungry;
        for (int i = 0; i < 2; ++i) hungry.push_back(memory_neighbour(std::size_t(512) << 20));
        check_hostile(run_suite({}, dir), kLoadNamed);
    }
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}
