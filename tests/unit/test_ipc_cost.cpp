// ipc_cost's pure parts: its option lists and the benchmark targets' rules.
#include "ipc_cost/targets.hpp"

#include "proclab/sizes.hpp"
#include "proclab/usage_error.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::ipc_cost;

TEST_CASE("ipc_cost sizes: bytes, KiB and MiB, sorted, within range", "[ipc]") {
    CHECK(parse_sizes("8,64,4K,1M") == std::vector<std::size_t>{8, 64, 4096, 1 << 20});
    CHECK(parse_sizes("1M,8,8") == std::vector<std::size_t>{8, 1 << 20});
    CHECK(parse_sizes("64M") == std::vector<std::size_t>{64u << 20});
    CHECK_FALSE(parse_sizes("0"));
    CHECK_FALSE(parse_sizes("65M"));
    CHECK_FALSE(parse_sizes("8,"));
    CHECK_FALSE(parse_sizes("eight"));
    CHECK_FALSE(parse_sizes("-8"));
    CHECK_FALSE(parse_sizes("99999999999999999999K"));
    CHECK(byte_label(8) == "8 B");
    CHECK(byte_label(0) == "0 B");
    CHECK(byte_label(4096) == "4 KiB");
    CHECK(byte_label(3 << 20) == "3 MiB");
    CHECK(byte_label(1000) == "1000 B");
    CHECK(byte_id(64 << 10) == "64KiB");
    CHECK(parse_byte_list("0,8M", 0, 8 << 20) == std::vector<std::size_t>{0, 8 << 20});
    CHECK_FALSE(parse_byte_list("K", 0, 8 << 20));
    CHECK(split_list("a,,b") == std::vector<std::string_view>{"a", "", "b"});
    CHECK(split_list("") == std::vector<std::string_view>{""});
    CHECK(parse_byte_list("1G", 0, std::size_t(1) << 32) == std::vector<std::size_t>{std::size_t(1) << 30});
    CHECK(byte_label(std::size_t(2) << 30) == "2 GiB");
}

TEST_CASE("ipc_cost ways: names, all, no repeats", "[ipc]") {
    CHECK(parse_ways("all")->size() == all_ways().size());
    CHECK(parse_ways("pipe,shm-spin,pipe") == std::vector<WayId>{WayId::pipe, WayId::shm_spin});
    CHECK_FALSE(parse_ways("pipe,carrier-pigeon"));
    CHECK_FALSE(parse_ways(""));
    CHECK(metric_name(WayId::shm_semaphore) == "shm_semaphore");
}

namespace {
WayRun spin_run(double round_trip_ns, std::vector<std::pair<std::size_t, double>> bandwidth = {}) {
    WayRun r;
    r.way = WayId::shm_spin;
    r.placement = {0, 1};
    r.intact = true;
    LatencyPoint p;
    p.size = 8;
    p.round_trip_ns.median = round_trip_ns;
    r.latency.push_back(p);
    for (auto [size, rate] : bandwidth) {
        BandwidthPoint b;
        b.size = size;
        b.bytes_per_s.median = rate;
        r.bandwidth.push_back(b);
    }
    return r;
}
std::vector<BandwidthPoint> memcpy_at(std::vector<std::pair<std::size_t, double>> points) {
    std::vector<BandwidthPoint> out;
    for (auto [size, rate] : points) {
        BandwidthPoint b;
        b.size = size;
        b.bytes_per_s.median = rate;
        out.push_back(b);
    }
    return out;
}
}  // namespace

TEST_CASE("The spin target compares a hand-off with the cache-line floor", "[ipc]") {
    const auto run = spin_run(300);                      // 150 ns per hand-off
    CHECK(spin_against_floor(&run, 80.0).met == true);   // 1.9x
    CHECK(spin_against_floor(&run, 70.0).met == false);  // 2.1x
    CHECK_FALSE(spin_against_floor(&run, std::nullopt).met);
    CHECK_FALSE(spin_against_floor(nullptr, 80.0).met);
    // The line-per-direction figure is reported beside the ratio, and does not change the judgement.
    const auto shaped = spin_against_floor(&run, 70.0, 140.0);
    CHECK(shaped.met == false);
    CHECK_THAT(shaped.measured, Catch::Contains("a line per direction") && Catch::Contains("1.07x"));
    WayRun damaged = run;
    damaged.intact = false;
    CHECK_FALSE(spin_against_floor(&damaged, 80.0).met);
}

TEST_CASE("The bandwidth target takes the lowest share over messages of 1 MiB and more", "[ipc]") {
    const auto memcpy_points = memcpy_at({{4096, 100}, {1 << 20, 10}, {4 << 20, 10}});
    // A small message far below memcpy does not count; 1 MiB at 90% and 4 MiB at 85% meet it.
    const auto good = spin_run(300, {{4096, 1}, {1 << 20, 9}, {4 << 20, 8.5}});
    CHECK(bandwidth_against_memcpy(&good, memcpy_points).met == true);
    const auto low = spin_run(300, {{1 << 20, 9}, {4 << 20, 7.9}});
    CHECK(bandwidth_against_memcpy(&low, memcpy_points).met == false);
    const auto small_only = spin_run(300, {{4096, 1}});
    const auto none = bandwidth_against_memcpy(&small_only, memcpy_points);
    CHECK_FALSE(none.met);
    CHECK_THAT(none.measured, Catch::Contains("not measured"));
}

TEST_CASE("a list of names: each one allowed, in the order given, without repeats", "[options]") {
    CHECK(parse_choice_list("--x", "b,a,b", {"a", "b", "c"}) == std::vector<std::string>{"b", "a"});
    CHECK_THROWS_WITH(parse_choice_list("--experiments", "faults,naps", {"faults", "unmap"}),
                      "--experiments faults,naps: 'naps' is not one of faults, unmap");
    CHECK_THROWS_AS(parse_choice_list("--x", "", {"a"}), proclab::UsageError);  // an empty item is not a name
}
