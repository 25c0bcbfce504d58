// Thread semantics, asserted directly (and run under ThreadSanitizer by the tsan preset).
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {
std::atomic<int> g_made{0}, g_gone{0};
struct Counted {
    Counted() { g_made.fetch_add(1); }
    ~Counted() { g_gone.fetch_add(1); }
    int value = 0;
};
thread_local Counted t_counted;
}  // namespace

TEST_CASE("thread_local instances have distinct addresses, and their destructors run at thread exit", "[os][threads]") {
    constexpr int kThreads = 4;
    const int made_before = g_made.load(), gone_before = g_gone.load();
    std::vector<const void*> addresses(kThreads);
    std::atomic<int> arrived{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; ++i)
        ts.emplace_back([&, i] {
            addresses[std::size_t(i)] = &t_counted;
            t_counted.value = i;
            arrived.fetch_add(1);
            while (arrived.load() < kThreads) std::this_thread::yield();  // all alive at once
            CHECK(t_counted.value == i);
        });
    for (auto& t : ts) t.join();
    CHECK(std::set<const void*>(addresses.begin(), addresses.end()).size() == kThreads);
    CHECK(g_made.load() - made_before == kThreads);
    CHECK(g_gone.load() - gone_before == kThreads);
}

TEST_CASE("a local's address handed to another thread reads and writes the owner's variable", "[os][threads]") {
    std::promise<int*> handed;
    std::promise<void> written;
    int seen_by_owner = 0, read_by_other = 0;
    std::thread owner([&] {
        int local = 1;
        handed.set_value(&local);
        written.get_future().wait();
        seen_by_owner = local;
    });
    std::thread other([&] {
        int* p = handed.get_future().get();
        read_by_other = *p;
        *p = 2;
        written.set_value();
    });
    other.join();
    owner.join();
    CHECK(read_by_other == 1);
    CHECK(seen_by_owner == 2);
}

TEST_CASE("atomic increments never lose an update", "[os][threads]") {
    constexpr int kThreads = 4;
    constexpr int kEach = 200000;
    std::atomic<long> counter{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; ++i)
        ts.emplace_back([&] {
            for (int k = 0; k < kEach; ++k) counter.fetch_add(1, std::memory_order_relaxed);
        });
    for (auto& t : ts) t.join();
    CHECK(counter.load() == long(kThreads) * kEach);
}

TEST_CASE("every thread is its own kernel task", "[os][threads]") {
    constexpr int kThreads = 4;
    std::vector<pid_t> tids(kThreads);
    std::atomic<int> arrived{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; ++i)
        ts.emplace_back([&, i] {
            tids[std::size_t(i)] = ::gettid();
            arrived.fetch_add(1);
            while (arrived.load() < kThreads) std::this_thread::yield();
        });
    for (auto& t : ts) t.join();
    std::set<pid_t> distinct(tids.begin(), tids.end());
    distinct.insert(::gettid());
    CHECK(distinct.size() == kThreads + 1);
}
