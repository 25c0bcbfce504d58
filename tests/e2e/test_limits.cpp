// Every demo under the limits a user or a container may set: an address-space limit (ulimit -v)
// and, as an unprivileged user, a process limit (ulimit -u). A demo measures what it can and names
// what it could not, with the limit; it never aborts. Release preset only: a sanitizer's shadow
// memory does not fit under RLIMIT_AS.
#include "proclab/render.hpp"
#include "proclab/spawn.hpp"
#include "suite.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace proclab;
using namespace std::chrono_literals;

namespace {

// Runs `demo --quick --json FILE` through bash (dash has no ulimit -u) with `limit` applied first
// (and as uid 65534 when `as_nobody`); the run and the JSON it wrote.
std::pair<CapturedRun, Json> run_limited(const std::string& demo, const std::string& limit, bool as_nobody,
                                         const std::filesystem::path& dir) {
    const auto json_path = dir / (demo + ".json");
    const std::string script =
        limit + " && exec " + (test::bin_dir() / demo).string() + " --quick --json " + json_path.string();
    auto run = as_nobody ? run_captured("/usr/bin/setpriv",
                                        {"--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash", "-c", script},
                                        {.timeout = 180s})
                         : run_captured("/bin/bash", {"-c", script}, {.timeout = 180s});
    Json j;
    if (std::ifstream in(json_path); in) j = Json::parse(in, nullptr, false);
    return {std::move(run), std::move(j)};
}

}  // namespace

TEST_CASE("under ulimit -v 512 MiB, and as nobody under ulimit -u 30, every demo runs and names what it could not",
          "[limits]") {
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-limits-");
    std::filesystem::permissions(dir, std::filesystem::perms::all);
    const bool root = ::geteuid() == 0 && std::filesystem::exists("/usr/bin/setpriv");
    for (const auto& name : suite::demo_names()) {
        INFO(name);
        {
            auto [run, j] = run_limited(name, "ulimit -v 524288", false, dir);
            INFO("ulimit -v 524288: " << run.err);
            CHECK(run.status.describe() == "exit 0");
            CHECK((j.is_object() && j.value("demo", "") == name));
        }
        if (!root) continue;
        auto [run, j] = run_limited(name, "ulimit -u 30", true, dir);
        INFO("as nobody, ulimit -u 30: " << run.err);
        CHECK(run.status.describe() == "exit 0");
        REQUIRE((j.is_object() && j.value("demo", "") == name));
        if (name == "sched_latency") {
            // 40 messaging tasks cannot start under 30 processes: the table says so, with the limit.
            CHECK_THAT(j.dump(), Catch::Contains("RLIMIT_NPROC 30"));
        }
    }
    if (!root) WARN("not root (or no setpriv): the process limit was tried only as this user's own limits allow");
    std::filesystem::remove_all(dir);
    CHECK(test::leftover_children() == 0);
}
