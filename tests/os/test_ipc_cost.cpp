// ipc_cost's ways across the process boundary: data crosses each of them intact and in order, at
// the edges of their sizes, between a parent and a real forked peer.
#include "ipc_cost/experiments.hpp"
#include "ipc_cost/ways.hpp"

#include "proclab/environment.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/resource.h>
#include <string>

using namespace proclab;
using namespace proclab::ipc_cost;

namespace {
// Entries in /dev/mqueue and /dev/shm whose name mentions this process: what a way would leave behind.
int leftovers(const char* dir) {
    int found = 0;
    if (DIR* d = ::opendir(dir)) {
        const std::string tag = "proclab-ipc-" + std::to_string(::getpid());
        while (const dirent* e = ::readdir(d)) found += std::string(e->d_name).find(tag) != std::string::npos;
        ::closedir(d);
    }
    return found;
}
}  // namespace

TEST_CASE("Every way carries messages both ways intact and in order, at the edges of its sizes", "[ipc][processes]") {
    const auto cpus = probe_environment().affinity_cpus;
    // Edges: 1 byte, sizes around the pipe's 64 KiB and the shared-memory slot (256 KiB), beyond a
    // message queue's 8 KiB message limit, and a size that is not a multiple of 8.
    const std::vector<std::size_t> sizes{1, 7, 8, 4095, 8192, 8193, 65536, 65537, 262144, 262145, 1 << 20};
    for (const auto& way : all_ways()) {
        for (bool same : {true, false}) {
            if (!same && cpus.size() < 2) continue;
            const Placement placement{cpus[0], same ? cpus[0] : cpus[1]};
            DYNAMIC_SECTION(way.name << (same ? " on one CPU" : " on two CPUs")) {
                try {
                    const auto outcome = check_way(way.id, placement, sizes, 3);
                    INFO(outcome.detail);
                    CHECK(outcome.intact);
                } catch (const NotAvailable& e) {
                    WARN(std::string(way.name) + " not available here: " + e.what());
                }
            }
        }
    }
    CHECK(leftovers("/dev/mqueue") == 0);
    CHECK(leftovers("/dev/shm") == 0);
}

TEST_CASE("A measured way streams its messages in order and reports every size it carries", "[ipc][processes]") {
    const auto cpus = probe_environment().affinity_cpus;
    Budget budget;
    budget.latency_s_per_size = 0.001;
    budget.bandwidth_s_per_sample = 0.001;
    budget.bandwidth_samples = 2;
    const std::vector<std::size_t> sizes{8, 100000};
    for (WayId id : {WayId::pipe, WayId::shm_futex, WayId::eventfd}) {
        const auto run = measure_way(id, Placement{cpus[0], cpus[0]}, sizes, budget);
        INFO(info(id).name << ": " << run.check_detail);
        REQUIRE(run.available);
        CHECK(run.intact);
        // eventfd carries 8 bytes only, and no stream.
        CHECK(run.latency.size() == (id == WayId::eventfd ? 1u : 2u));
        CHECK(run.bandwidth.size() == (info(id).streams ? 2u : 0u));
        for (const auto& p : run.latency) CHECK(p.round_trip_ns.count >= 5);
    }
}

TEST_CASE("A way started after the time budget ran out is not measured, says so, and leaves nothing behind",
          "[ipc][processes]") {
    const auto cpus = probe_environment().affinity_cpus;
    Budget budget;
    budget.deadline = now_ns() - 1;  // already past: a loaded machine spent the budget on earlier ways
    REQUIRE(budget.past_deadline());
    const auto run = measure_way(WayId::shm_futex, Placement{cpus[0], cpus[0]}, {8, 4096}, budget);
    CHECK_FALSE(run.available);
    CHECK(run.out_of_time);
    CHECK(run.latency.empty());
    CHECK(run.bandwidth.empty());
    CHECK(leftovers("/dev/shm") == 0);
    // No deadline (0) never runs out.
    CHECK_FALSE(Budget{}.past_deadline());
}

TEST_CASE("eventfd refuses what a counter cannot carry", "[ipc]") {
    auto ch = open_channel(WayId::eventfd, 8);
    std::uint64_t zero = 0;
    CHECK_THROWS_AS(ch->send(Side::initiator, reinterpret_cast<const std::byte*>(&zero), 8), std::invalid_argument);
    CHECK_THROWS_AS(open_channel(WayId::eventfd, 9), std::invalid_argument);
}

TEST_CASE("Without room for a POSIX message queue, mq is not measured and says why", "[ipc][degrade]") {
    // RLIMIT_MSGQUEUE bounds the bytes a user's queues may hold, for root too: at 0 every
    // mq_open with a size fails (EMFILE), as on a system without message queues for us.
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_MSGQUEUE, &saved) == 0);
    rlimit none = saved;
    none.rlim_cur = 0;
    REQUIRE(::setrlimit(RLIMIT_MSGQUEUE, &none) == 0);
    struct Restore {
        rlimit& saved;
        ~Restore() { ::setrlimit(RLIMIT_MSGQUEUE, &saved); }
    } restore{saved};
    const int cpu = probe_environment().affinity_cpus.front();
    Budget budget;
    const auto run = measure_way(WayId::mq, Placement{cpu, cpu}, {8}, budget);
    CHECK_FALSE(run.available);
    CHECK_THAT(run.reason, Catch::Contains("mq_open"));
    CHECK(leftovers("/dev/mqueue") == 0);
}
