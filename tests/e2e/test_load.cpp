// The suite under load: a busy loop beside it, the suite at nice 19. Its own test executable, run
// alone (RUN_SERIAL in tests/CMakeLists.txt): at nice 19 the suite gets a sliver of any CPU that
// one of our other tests keeps busy in the same session, and the point here is one known load.
#include "proclab/child.hpp"
#include "proclab/render.hpp"
#include "proclab/spawn.hpp"
#include "proclab/work.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace proclab;
using namespace std::chrono_literals;

TEST_CASE("a busy loop beside the suite, the suite at nice 19: nothing is refuted", "[runner][load]") {
    // Load of the moment must never produce "refuted": the rules ask for direct evidence and
    // measure what else used the CPUs. The busy loop is our child, killed and reaped by its handle.
    test::become_subreaper();
    const auto dir = test::scratch_dir("proclab-load-");
    const auto json_path = dir / "suite.json";
    {
        auto hog = ChildProcess::fork([] {
            ::setsid();  // its own session, as a busy loop started from another terminal (its own autogroup)
            for (std::uint64_t x = 1;;) x = busy_work(1'000'000, x);
            return 0;
        });
        auto run = run_captured("/usr/bin/nice", {"-n", "19", (test::bin_dir() / "proclab").string(), "run", "--quick", "--json",
                                                  json_path.string()},
                                {.timeout = 600s});
        INFO(run.out << run.err);
        CHECK(run.status.describe() == "exit 0");
    }
    std::ifstream in(json_path);
    const auto j = Json::parse(in);
    for (const auto& c : j.at("claims")) {
        INFO(c.at("id").get<std::string>() << ": " << c.at("evidence").get<std::string>());
        CHECK(c.at("verdict") != "refuted");
    }
    CHECK(test::leftover_children() == 0);
    std::filesystem::remove_all(dir);
}
