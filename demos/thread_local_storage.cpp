// thread_local_storage: claim T5 of ../shared/seed/claims.md.
//
//   T5  A thread can create objects that only it can reach (Python's threading.local).
//
// Method: a C++ `thread_local` object whose constructor and destructor count themselves. N threads
// each use it: its address in every thread, one construction per thread on first use, one
// destruction per thread at thread exit; a value each thread stores stays its own while the
// others store theirs. Then the limit: one thread hands another the address of its instance, and
// the other reads it. Finally the access cost of a thread_local beside a plain global and a
// pthread_getspecific key, in ns per access, the empty loop subtracted.
//
// Python's threading.local is the same idea one level up: an object whose attributes are looked
// up per thread; Python has no pointers, so there the privacy is complete. In C++ it is privacy
// by name: the instance is ordinary memory in the shared address space.
//
// Caveats: the access cost here is the executable's own thread_local (the local-exec TLS model:
// one fs-relative load); a thread_local in a shared library goes through __tls_get_addr and costs
// more. Sub-nanosecond figures are at the edge of what a loop can resolve.

#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/render.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

namespace proclab::thread_local_storage {

std::atomic<int> g_constructed{0};
std::atomic<int> g_destroyed{0};

struct Tracked {
    Tracked() { g_constructed.fetch_add(1); }
    ~Tracked() { g_destroyed.fetch_add(1); }
    long value = 0;
};

thread_local Tracked tl_tracked;  // dynamic initialisation: constructed on first use in each thread

// ---------------------------------------------------------------------------------------------
// 1-3. One instance per thread, constructed and destroyed per thread, values kept apart.

struct PerThread {
    pid_t tid;
    std::uintptr_t address;
    long stored, read_back;  // what it stored, and what it read after every thread had stored
};

struct Instances {
    std::vector<PerThread> threads;
    int constructed_during = 0;  // constructions counted while the threads were alive
    int destroyed_before_exit = 0, destroyed_after_exit = 0;
    long read_through_pointer = 0, owner_value = 0;  // the other thread reading the owner's instance
    std::uintptr_t owner_address = 0;
};

Instances instances(int n) {
    Instances r;
    r.threads.resize(std::size_t(n));
    const int constructed_before = g_constructed.load(), destroyed_before = g_destroyed.load();
    std::atomic<int> stored{0}, done{0};
    std::atomic<bool> release{false};
    std::vector<std::thread> ts;
    for (int i = 0; i < n; ++i)
        ts.emplace_back([&, i] {
            auto& me = r.threads[std::size_t(i)];
            me.tid = ::gettid();
            me.address = reinterpret_cast<std::uintptr_t>(&tl_tracked);
            me.stored = 1000 + i;
            tl_tracked.value = me.stored;
            stored.fetch_add(1);
            while (stored.load() < n) std::this_thread::yield();  // every thread has stored its own
            me.read_back = tl_tracked.value;
            done.fetch_add(1);
            while (!release.load()) std::this_thread::yield();  // stay alive: count before any exits
        });
    while (done.load() < n) std::this_thread::yield();
    r.constructed_during = g_constructed.load() - constructed_before;
    r.destroyed_before_exit = g_destroyed.load() - destroyed_before;
    release = true;
    for (auto& t : ts) t.join();
    r.destroyed_after_exit = g_destroyed.load() - destroyed_before;

    // The limit: an owner hands over the address of its instance.
    std::promise<Tracked*> handed;
    std::promise<void> read;
    std::thread owner([&] {
        tl_tracked.value = 777;
        r.owner_value = tl_tracked.value;
        r.owner_address = reinterpret_cast<std::uintptr_t>(&tl_tracked);
        handed.set_value(&tl_tracked);
        read.get_future().wait();  // keep the instance alive while the other reads it
    });
    std::thread other([&] {
        r.read_through_pointer = handed.get_future().get()->value;
        read.set_value();
    });
    other.join();
    owner.join();
    return r;
}

// ---------------------------------------------------------------------------------------------
// 4. Access cost. Each accessor is a separate non-inlined function, so the address is computed
// on every call and nothing is hoisted out of the loop; the empty accessor is the baseline.

long g_plain = 0;
thread_local long tl_plain = 0;
pthread_key_t g_key;
long g_sink = 0;

__attribute__((noinline)) long* access_empty() { return &g_sink; }
__attribute__((noinline)) long* access_global() {
    asm volatile("");
    return &g_plain;
}
__attribute__((noinline)) long* access_thread_local() {
    asm volatile("");
    return &tl_plain;
}
__attribute__((noinline)) long* access_key() { return static_cast<long*>(::pthread_getspecific(g_key)); }

double loop_ns(long* (*accessor)(), std::uint64_t iterations) {
    const Nanos t0 = now_ns();
    for (std::uint64_t i = 0; i < iterations; ++i) {
        long* p = accessor();
        ++*p;
        asm volatile("" ::: "memory");
    }
    return double(now_ns() - t0);
}

struct Cost {
    const char* what;
    Summary per_access;  // ns, the empty accessor's loop subtracted, over repetitions
};

std::vector<Cost> access_costs(std::uint64_t iterations, int repetitions, double clock_overhead) {
    ::pthread_key_create(&g_key, nullptr);
    long key_value = 0;
    ::pthread_setspecific(g_key, &key_value);
    struct Accessor {
        const char* what;
        long* (*fn)();
    };
    const Accessor accessors[] = {{"plain global", access_global},
                                  {"thread_local (this executable: local-exec TLS)", access_thread_local},
                                  {"pthread_getspecific key", access_key}};
    std::vector<std::vector<double>> samples(std::size(accessors));
    (void)loop_ns(access_empty, iterations / 10);  // warm-up
    for (int r = 0; r < repetitions; ++r) {
        const double empty = loop_ns(access_empty, iterations);
        for (std::size_t a = 0; a < std::size(accessors); ++a) {
            const double t = loop_ns(accessors[a].fn, iterations);
            samples[a].push_back(std::max(0.0, t - empty - clock_overhead) / double(iterations));
        }
    }
    ::pthread_key_delete(g_key);
    std::vector<Cost> out;
    for (std::size_t a = 0; a < std::size(accessors); ++a) out.push_back({accessors[a].what, summarize(samples[a])});
    return out;
}

// ---------------------------------------------------------------------------------------------
// Verdict: a pure function, unit-tested in tests/unit/test_thread_local_storage.cpp.

ClaimVerdict decide_t5(const Instances& r) {
    const int n = static_cast<int>(r.threads.size());
    std::vector<std::uintptr_t> addresses;
    int kept_own = 0;
    for (const auto& t : r.threads) {
        addresses.push_back(t.address);
        if (t.read_back == t.stored) ++kept_own;
    }
    std::sort(addresses.begin(), addresses.end());
    const int distinct = int(std::unique(addresses.begin(), addresses.end()) - addresses.begin());
    const std::string evidence = fmt::format(
        "{} threads: {} distinct addresses, {} constructions while they ran, {} destructions before and {} after they "
        "exited, {} of {} kept their own value while the others stored theirs",
        n, distinct, r.constructed_during, r.destroyed_before_exit, r.destroyed_after_exit, kept_own, n);
    if (distinct < n || kept_own < n || r.constructed_during != n || r.destroyed_after_exit != n)
        return {"T5", Verdict::refuted, "the thread_local was not one private instance per thread: " + evidence};
    if (r.read_through_pointer == r.owner_value)
        return {"T5", Verdict::nuanced,
                fmt::format("{}; but another thread handed the address {:#x} read the owner's value {}: private by name, "
                            "not by protection",
                            evidence, r.owner_address, r.read_through_pointer)};
    return {"T5", Verdict::confirmed, evidence};
}

// ---------------------------------------------------------------------------------------------

struct Options {
    int threads = 0;  // 0: max(4, CPUs)
};
Options g_options;

void add_options(CLI::App& app) {
    app.add_option("--threads", g_options.threads, "Threads that each get their own thread_local instance (default: the allowed CPUs, at least 4)")
        ->check(CLI::Range(2, 256))
        ->type_name("N");
}

Result run(const DemoContext& ctx) {
    Result result;
    const int n = g_options.threads > 0 ? g_options.threads : std::max(4, static_cast<int>(ctx.env.affinity_cpus.size()));
    const Instances inst = instances(n);

    auto& t = result.add_table(fmt::format("One thread_local object, {} threads", n), {"thread", "tid", "&tl_object", "stored", "read back later"});
    for (std::size_t i = 0; i < inst.threads.size(); ++i) {
        const auto& th = inst.threads[i];
        t.rows.push_back({std::to_string(i + 1), std::to_string(th.tid), fmt::format("{:#x}", th.address), std::to_string(th.stored),
                          std::to_string(th.read_back)});
    }
    t.note = fmt::format(
        "Constructed {} times while the threads ran (once per thread, on first use), destroyed {} times before they exited and "
        "{} times after: each thread's instance dies with its thread. Then one thread handed the address {:#x} of its "
        "instance (value {}) to another, which read {} through it.",
        inst.constructed_during, inst.destroyed_before_exit, inst.destroyed_after_exit, inst.owner_address, inst.owner_value,
        inst.read_through_pointer);

    const std::uint64_t iterations = std::uint64_t(ctx.repeat(20'000'000, 2'000'000));
    const int repetitions = ctx.options.quick ? 3 : 7;
    result.config.repeat = int(iterations);
    const auto costs = access_costs(iterations, repetitions, ctx.clock.read_overhead_ns);
    auto& c = result.add_table("Access cost: ns per access, the empty accessor's loop subtracted",
                               {"variable", "median", "min", "max", "repetitions"});
    for (const auto& cost : costs) {
        c.rows.push_back({cost.what, fmt::format("{:.2f} ns", cost.per_access.median), fmt::format("{:.2f} ns", cost.per_access.min),
                          fmt::format("{:.2f} ns", cost.per_access.max), std::to_string(cost.per_access.count)});
    }
    c.note = fmt::format("{} accesses per loop, each through a non-inlined accessor (so the address is computed every time), "
                         "an increment and a compiler barrier. A figure near 0 means: as cheap as the call itself.",
                         iterations);
    result.add_metric("access_global", costs[0].per_access, "ns", "plain global, per access");
    result.add_metric("access_thread_local", costs[1].per_access, "ns", "thread_local, per access");
    result.add_metric("access_pthread_key", costs[2].per_access, "ns", "pthread_getspecific, per access");

    result.add_verdict(decide_t5(inst), fmt::format("{} threads, {} constructions, {} destructions at exit; readable via its address; "
                                                    "access {:.2f} ns vs global {:.2f} ns",
                                                    inst.threads.size(), inst.constructed_during, inst.destroyed_after_exit,
                                                    costs[1].per_access.median, costs[0].per_access.median));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "thread_local_storage";
    s.title = "thread_local: one instance per thread, born and dying with it; private by name; what an access costs";
    s.claims = {"T5"};
    s.default_timeout_s = 60;
    s.add_options = add_options;
    s.run = run;
    return s;
}

}  // namespace proclab::thread_local_storage

PROCLAB_DEMO_MAIN(proclab::thread_local_storage::spec)
