// proclab's thread pool: correctness under concurrency (run under ThreadSanitizer by the tsan preset).
#include "creation_cost/thread_pool.hpp"

#include <catch2/catch.hpp>
#include <array>
#include <atomic>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace proclab;

TEST_CASE("every task runs exactly once", "[pool]") {
    constexpr std::size_t kTasks = 100000;
    std::vector<std::atomic<int>> runs(kTasks);
    {
        ThreadPool pool(4, 1024);  // a small queue: the producer must help when it is full
        TaskGroup group(pool);
        for (std::size_t i = 0; i < kTasks; ++i)
            group.run([&runs, i] { runs[i].fetch_add(1, std::memory_order_relaxed); });
        group.wait();
    }
    std::size_t wrong = 0;
    for (auto& r : runs) wrong += r.load() != 1;
    CHECK(wrong == 0);
}

TEST_CASE("submit returns each task's value through its handle", "[pool]") {
    ThreadPool pool(3);
    auto handles = pool.submit_bulk(1000, [](std::size_t i) { return i * i; });
    std::size_t sum = 0;
    for (auto& h : handles) sum += h.get();
    std::size_t expected = 0;
    for (std::size_t i = 0; i < 1000; ++i) expected += i * i;
    CHECK(sum == expected);
    auto v = pool.submit([] {});
    v.get();
    CHECK(v.ready());
}

TEST_CASE("an exception in a task reaches the one who waits", "[pool]") {
    ThreadPool pool(2);
    auto failing = pool.submit([]() -> int { throw std::runtime_error("task failed"); });
    CHECK_THROWS_WITH(failing.get(), "task failed");

    TaskGroup group(pool);
    std::atomic<int> others{0};
    for (int i = 0; i < 100; ++i)
        group.run([&, i] {
            if (i == 50) throw std::logic_error("one of a hundred");
            others.fetch_add(1);
        });
    CHECK_THROWS_AS(group.wait(), std::logic_error);
    CHECK(others.load() == 99);  // the others still ran
    group.wait();                // the exception is reported once

    pool.post([] { throw std::runtime_error("posted"); });
    CHECK_THROWS_WITH(pool.wait_all(), "posted");
}

TEST_CASE("shutting down with tasks pending runs them all", "[pool]") {
    auto done = std::make_shared<std::atomic<int>>(0);
    {
        ThreadPool pool(1);
        for (int i = 0; i < 5000; ++i) pool.post([done] { done->fetch_add(1); });
        // no wait: the destructor must finish them
    }
    CHECK(done->load() == 5000);
}

TEST_CASE("a task may submit tasks and wait for them, even on a single worker", "[pool]") {
    for (unsigned threads : {1u, 4u}) {
        ThreadPool pool(threads);
        auto outer = pool.submit([&pool] {
            TaskGroup inner(pool);
            std::atomic<int> sum{0};
            for (int i = 1; i <= 100; ++i) inner.run([&sum, i] { sum.fetch_add(i); });
            inner.wait();  // helps instead of blocking the only worker
            auto nested = pool.submit([] { return 7; });
            return sum.load() + nested.get();
        });
        CHECK(outer.get() == 5050 + 7);
    }
}

TEST_CASE("a task group may be freed the moment wait() returns: no worker touches it after", "[pool]") {
    // The last task's finisher signals the waiter; if it still read or wrote the group after
    // that, the next round's group (or whatever the memory became) would be written to: ASan
    // reports a heap use after free, TSan a race with the next group's construction.
    ThreadPool pool(2);
    std::atomic<long> ran{0};
    for (int round = 0; round < 20'000; ++round) {
        auto group = std::make_unique<TaskGroup>(pool);
        for (int i = 0; i < 3; ++i) group->run([&] { ran.fetch_add(1, std::memory_order_relaxed); });
        group->wait();
    }
    CHECK(ran.load() == 60'000);
}

TEST_CASE("parallel_for visits every index once", "[pool]") {
    ThreadPool pool(4);
    std::vector<std::atomic<int>> seen(10007);
    pool.parallel_for(0, seen.size(), 64, [&](std::size_t i) { seen[i].fetch_add(1, std::memory_order_relaxed); });
    for (auto& s : seen) REQUIRE(s.load() == 1);
    pool.parallel_for(5, 5, 1, [](std::size_t) { FAIL("empty range"); });
}

TEST_CASE("tasks too large for the inline buffer still run and are freed", "[pool]") {
    ThreadPool pool(2);
    std::array<long, 32> big{};
    std::iota(big.begin(), big.end(), 1);
    auto tracker = std::make_shared<int>(0);
    auto h = pool.submit([big, tracker] { return std::accumulate(big.begin(), big.end(), 0L); });
    CHECK(h.get() == 32 * 33 / 2);
    h = {};
    pool.wait_all();
    CHECK(tracker.use_count() == 1);  // the task and its captures are gone
}

TEST_CASE("get_from_worker leaves every task to a worker, spinning or not", "[pool]") {
    for (const auto idle_spin : {ThreadPool::IdleSpin::always, ThreadPool::IdleSpin::never}) {
        ThreadPool pool(1, 64, idle_spin);
        const auto caller = std::this_thread::get_id();
        int on_caller = 0;
        for (int i = 0; i < 200; ++i) {
            const bool spin = idle_spin == ThreadPool::IdleSpin::always;
            on_caller +=
                pool.submit([caller] { return std::this_thread::get_id() == caller; }).get_from_worker(spin) ? 1 : 0;
        }
        CHECK(on_caller == 0);
    }
}
