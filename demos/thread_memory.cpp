// thread_memory: claims T3, T4 and T7 of ../shared/seed/claims.md.
//
//   T3  Threads are independent of each other: each isolates its own sequence of instructions.
//   T4  Threads can reach any object of any other thread.
//   T7  A process's threads have full direct access to its whole address space (the heap);
//       function locals are not accessible.
//
// Method, all in this run:
//   1. Own identity: threads report their kernel tid, the address of a local, and their stack
//      (pthread_getattr_np): separate stacks, some distance apart.
//   2. Independence: a worker does a fixed amount of work alone, then again while one sibling is
//      blocked in read() and another spins; it is not stopped by either.
//   3. Shared memory: one thread writes a global and a heap object; another reads the values.
//   4. Lost updates: N threads add 1 to one counter M times each, (a) by a separate load and store
//      (relaxed atomics: a race on purpose, without undefined behaviour), (b) by fetch_add,
//      (c) under a mutex; the final counts against N x M, and the time per increment.
//   5. Locals: a thread hands another the address of a local on its own stack; the other reads
//      it and writes it, and the owner sees the write.
//   6. The limit of T3: in a child process, one of four threads dereferences a null pointer; the
//      child dies of SIGSEGV, and the other threads' heartbeats stop with it.
//
// Caveats: lost updates need two threads running at once; on one CPU a preemption must land
// between the load and the store, so far fewer (often none) are lost. Stack addresses move with
// ASLR.

#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/affinity.hpp"
#include "proclab/demo.hpp"
#include "proclab/fault.hpp"
#include "proclab/work.hpp"
#include "proclab/handles.hpp"
#include "proclab/render.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

namespace proclab::thread_memory {

std::string hex(const void* p) { return fmt::format("{:#x}", reinterpret_cast<std::uintptr_t>(p)); }

// ---------------------------------------------------------------------------------------------
// 1. Own tids and stacks.

struct Identity {
    pid_t tid;
    std::uintptr_t local, stack_low, stack_high;
};

Identity identify() {
    int local = 0;
    Identity id{::gettid(), reinterpret_cast<std::uintptr_t>(&local), 0, 0};
    pthread_attr_t attr;
    if (::pthread_getattr_np(::pthread_self(), &attr) == 0) {
        void* base = nullptr;
        std::size_t size = 0;
        ::pthread_attr_getstack(&attr, &base, &size);
        id.stack_low = reinterpret_cast<std::uintptr_t>(base);
        id.stack_high = id.stack_low + size;
        ::pthread_attr_destroy(&attr);
    }
    return id;
}

// ---------------------------------------------------------------------------------------------
// 2. Independence: the worker's fixed work, alone and beside a blocked and a spinning sibling.

struct Independence {
    double alone_ns = 0, beside_ns = 0;
    bool finished = false;
};

Independence independence(std::uint64_t iterations) {
    Independence r;
    {
        const Nanos t0 = now_ns();
        std::thread([&] { (void)busy_work(iterations); }).join();
        r.alone_ns = double(now_ns() - t0);
    }
    Pipe never = Pipe::create();
    std::atomic<bool> stop{false};
    std::thread blocked([&] { (void)receive_value<char>(never.read_end.get()); });  // blocks until the end
    std::thread spinning([&] {
        while (!stop.load(std::memory_order_relaxed)) {
        }
    });
    const Nanos t0 = now_ns();
    std::thread worker([&] { (void)busy_work(iterations); });
    worker.join();
    r.beside_ns = double(now_ns() - t0);
    r.finished = true;
    stop = true;
    send_value(never.write_end.get(), char{'x'});
    spinning.join();
    blocked.join();
    return r;
}

// ---------------------------------------------------------------------------------------------
// 3. A write by one thread, read by another.

int g_shared = 0;

struct Sharing {
    bool global_seen = false, heap_seen = false;
    std::string global_addr, heap_addr;
};

Sharing sharing() {
    auto heap = std::make_unique<int>(0);
    std::atomic<bool> written{false};
    Sharing r;
    r.global_addr = hex(&g_shared);
    r.heap_addr = hex(heap.get());
    g_shared = 0;
    std::thread writer([&] {
        g_shared = 42;
        *heap = 4242;
        written.store(true, std::memory_order_release);  // publishes both writes
    });
    std::thread reader([&] {
        while (!written.load(std::memory_order_acquire)) std::this_thread::yield();
        r.global_seen = g_shared == 42;
        r.heap_seen = *heap == 4242;
    });
    writer.join();
    reader.join();
    return r;
}

// ---------------------------------------------------------------------------------------------
// 4. Lost updates.

struct Counting {
    const char* how;
    std::uint64_t expected = 0, final_count = 0;
    double ns_per_increment = 0;
    std::uint64_t lost() const { return expected - final_count; }
};

template <class Increment>
Counting count_with(const char* how, int threads, std::uint64_t per_thread, const std::vector<int>& cpus, Increment increment) {
    Counting c{how, std::uint64_t(threads) * per_thread, 0, 0};
    std::atomic<std::uint64_t> counter{0};
    std::mutex mutex;
    std::atomic<bool> go{false};
    std::atomic<int> arrived{0}, running{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i)
        ts.emplace_back([&, i] {
            // One thread per CPU where there are enough: two threads left on one CPU take turns
            // of a whole slice each and never race, and the balancer may not part them in time.
            // A CPU that cannot be pinned to (gone offline meanwhile) leaves the thread unpinned:
            // the race still runs, only less surely at once; an exception here would end the process.
            if (cpus.size() > 1) {
                try {
                    pin_to_cpu(cpus[std::size_t(i) % cpus.size()]);
                } catch (const HarnessError&) {
                }
            }
            arrived.fetch_add(1, std::memory_order_acq_rel);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            // A start line after the go: each counts in, then waits until all are in, so they
            // are all on a CPU at the same moment when the increments begin.
            running.fetch_add(1, std::memory_order_acq_rel);
            while (running.load(std::memory_order_acquire) < threads)
                if (cpus.size() < std::size_t(threads)) std::this_thread::yield();
            for (std::uint64_t k = 0; k < per_thread; ++k) increment(counter, mutex);
        });
    // Every thread is at the start line, spinning, before the go: they start together instead of
    // one finishing its short run before the other has woken (then nothing could be lost).
    while (arrived.load(std::memory_order_acquire) < threads) std::this_thread::yield();
    const Nanos t0 = now_ns();
    go.store(true, std::memory_order_release);
    for (auto& t : ts) t.join();
    c.ns_per_increment = double(now_ns() - t0) / double(c.expected);
    c.final_count = counter.load();
    return c;
}

std::vector<Counting> lost_updates(int threads, std::uint64_t per_thread, const std::vector<int>& cpus) {
    return {
        // A load and a separate store: another thread's increment between them is overwritten.
        // Relaxed atomics make the race well-defined (and sanitizer-clean) without preventing it.
        count_with("load, then store (unsynchronised)", threads, per_thread, cpus,
                   [](std::atomic<std::uint64_t>& c, std::mutex&) {
                       c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                   }),
        count_with("atomic fetch_add", threads, per_thread, cpus,
                   [](std::atomic<std::uint64_t>& c, std::mutex&) { c.fetch_add(1, std::memory_order_relaxed); }),
        count_with("under a std::mutex", threads, per_thread, cpus,
                   [](std::atomic<std::uint64_t>& c, std::mutex& m) {
                       std::lock_guard lock(m);
                       c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                   }),
    };
}

// ---------------------------------------------------------------------------------------------
// 5. A local on one thread's stack, read and written by another through its address.

struct LocalReach {
    std::string address, owner_stack;
    int read_by_other = 0, seen_by_owner_after = 0;
};

LocalReach local_reach() {
    LocalReach r;
    std::promise<int*> handed;
    std::promise<void> written;
    std::thread owner([&] {
        int local = 1;  // lives on this thread's stack
        const auto id = identify();
        r.address = hex(&local);
        r.owner_stack = fmt::format("{:#x}-{:#x}", id.stack_low, id.stack_high);
        handed.set_value(&local);
        written.get_future().wait();
        r.seen_by_owner_after = local;  // read after the other thread's write (the future synchronises)
    });
    std::thread other([&] {
        int* p = handed.get_future().get();
        r.read_by_other = *p;
        *p = 2;
        written.set_value();
    });
    other.join();
    owner.join();
    return r;
}

// ---------------------------------------------------------------------------------------------
// 6. One thread's crash ends the process.

struct Crash {
    ExitStatus status;
    int threads = 4;
    int beating_before = 0;      // threads that sent heartbeats before the crash
};

struct Beat {
    std::int32_t thread;
    std::int32_t crashed;  // 1: the crashing thread says it is about to store to address 0
};

Crash crash_in_one_thread() {
    Crash r;
    Pipe beats = Pipe::create();
    const int threads = r.threads;
    auto child = ChildProcess::fork([&] {
        beats.read_end.reset();
        die_plainly_on_faults();
        std::vector<std::thread> ts;
        for (int i = 0; i < threads; ++i)
            ts.emplace_back([&, i] {
                for (int n = 0;; ++n) {
                    if (i == 0 && n == 20) {
                        send_value(beats.write_end.get(), Beat{i, 1});
                        volatile std::uintptr_t null_address = 0;
                        store_at(null_address);
                    }
                    send_value(beats.write_end.get(), Beat{i, 0});
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            });
        for (auto& t : ts) t.join();  // never: the process dies first
        return 0;
    });
    beats.write_end.reset();
    // The stream ends (EOF) only when every holder of the write end is gone: all the child's threads.
    std::vector<bool> before(std::size_t(threads), false);
    bool crashing = false;
    while (auto b = receive_value<Beat>(beats.read_end.get())) {
        if (b->crashed) crashing = true;
        else if (!crashing) before[std::size_t(b->thread)] = true;
    }
    r.status = child.wait();
    r.beating_before = int(std::count(before.begin(), before.end(), true));
    return r;
}

// ---------------------------------------------------------------------------------------------
// Verdicts: pure functions, unit-tested in tests/unit/test_thread_memory.cpp.

struct Evidence {
    int threads = 0, distinct_tids = 0;
    bool stacks_disjoint = false;
    double min_stack_distance = 0;
    Independence independence;
    Sharing sharing;
    int counting_threads = 0;
    std::vector<Counting> counting;  // racy, atomic, mutex
    LocalReach local;
    Crash crash;
};

ClaimVerdict decide_t3(const Evidence& e) {
    const std::string identity = fmt::format("{} threads: {} distinct tids, {} stacks at least {} apart", e.threads,
                                             e.distinct_tids, e.stacks_disjoint ? "disjoint" : "OVERLAPPING",
                                             format_value(e.min_stack_distance, "bytes"));
    const std::string independent = fmt::format(
        "a worker's fixed job took {} alone and {} beside a blocked and a spinning sibling",
        format_value(e.independence.alone_ns, "ns"), format_value(e.independence.beside_ns, "ns"));
    if (e.distinct_tids < e.threads || !e.stacks_disjoint || !e.independence.finished)
        return {"T3", Verdict::refuted, identity + "; " + independent};
    const auto& c = e.crash;
    const bool process_died = c.status.signaled();
    if (process_died)
        return {"T3", Verdict::nuanced,
                fmt::format("{}; {}; but they are not isolated: a SIGSEGV in 1 of {} threads ended the whole process ({}), "
                            "all {} threads with it",
                            identity, independent, c.threads, c.status.describe(), c.threads)};
    return {"T3", Verdict::confirmed, fmt::format("{}; {}; the crashing thread's process survived ({})", identity, independent,
                                                  c.status.describe())};
}

ClaimVerdict decide_t4(const Evidence& e) {
    if (!e.sharing.global_seen || !e.sharing.heap_seen)
        return {"T4", Verdict::refuted, "a write by one thread was not seen by another"};
    if (e.counting.size() < 3) return {"T4", Verdict::not_measured, "the counting experiment did not run"};
    const auto& racy = e.counting[0];
    const auto& atomic = e.counting[1];
    const auto& locked = e.counting[2];
    const std::string evidence = fmt::format(
        "one thread's writes to a global ({}) and a heap object ({}) were read by another; {} threads x {} increments of one "
        "counter: load-then-store ended at {} ({} lost, {:.1f}%), fetch_add at {}, a mutex at {}",
        e.sharing.global_addr, e.sharing.heap_addr, e.counting_threads, racy.expected / std::uint64_t(std::max(1, e.counting_threads)),
        racy.final_count, racy.lost(), 100.0 * double(racy.lost()) / double(std::max<std::uint64_t>(1, racy.expected)),
        atomic.final_count, locked.final_count);
    if (atomic.lost() > 0 || locked.lost() > 0)
        return {"T4", Verdict::refuted, "synchronised updates were lost: " + evidence};
    if (racy.lost() > 0)
        return {"T4", Verdict::nuanced, evidence + ": every object is reachable, but reaching it without synchronisation loses updates"};
    return {"T4", Verdict::confirmed, evidence};
}

ClaimVerdict decide_t7(const Evidence& e) {
    const bool heap_shared = e.sharing.global_seen && e.sharing.heap_seen;
    const bool local_reached = e.local.read_by_other == 1 && e.local.seen_by_owner_after == 2;
    const std::string evidence = fmt::format(
        "heap and globals shared: {}; a local at {} on one thread's stack ({}) was read by another thread (it saw {}) "
        "and written (the owner then saw {})",
        heap_shared ? "yes" : "no", e.local.address, e.local.owner_stack, e.local.read_by_other, e.local.seen_by_owner_after);
    if (!heap_shared) return {"T7", Verdict::refuted, evidence};
    if (local_reached)
        return {"T7", Verdict::nuanced, evidence + ": locals are private by name, not by protection; any thread with the address reaches them"};
    return {"T7", Verdict::confirmed, evidence};
}

// ---------------------------------------------------------------------------------------------

struct Options {
    int threads = 0;  // 0: max(4, CPUs)
};
Options g_options;

void add_options(CLI::App& app) {
    app.add_option("--threads", g_options.threads, "Threads in every experiment (default: the allowed CPUs, at least 4)")
        ->check(CLI::Range(2, 256))
        ->type_name("N");
}

Result run(const DemoContext& ctx) {
    Result result;
    Evidence e;
    const int cpus = static_cast<int>(ctx.env.affinity_cpus.size());
    e.threads = g_options.threads > 0 ? g_options.threads : std::max(4, cpus);

    // 1. Identities.
    std::vector<Identity> ids(std::size_t(e.threads));
    {
        std::vector<std::thread> ts;
        std::atomic<int> arrived{0}, running{0};
        for (int i = 0; i < e.threads; ++i)
            ts.emplace_back([&, i] {
                ids[std::size_t(i)] = identify();
                arrived.fetch_add(1);
                while (arrived.load() < e.threads) std::this_thread::yield();  // all alive at once: no reuse
            });
        for (auto& t : ts) t.join();
    }
    auto& it = result.add_table("1. Each thread: its own kernel id and its own stack",
                                {"thread", "tid", "&local", "stack", "stack size"});
    const auto main_id = identify();
    it.rows.push_back({"main", std::to_string(main_id.tid), fmt::format("{:#x}", main_id.local),
                       fmt::format("{:#x}-{:#x}", main_id.stack_low, main_id.stack_high),
                       format_value(double(main_id.stack_high - main_id.stack_low), "bytes")});
    std::vector<pid_t> tids;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto& id = ids[i];
        tids.push_back(id.tid);
        it.rows.push_back({std::to_string(i + 1), std::to_string(id.tid), fmt::format("{:#x}", id.local),
                           fmt::format("{:#x}-{:#x}", id.stack_low, id.stack_high), format_value(double(id.stack_high - id.stack_low), "bytes")});
    }
    std::sort(tids.begin(), tids.end());
    e.distinct_tids = int(std::unique(tids.begin(), tids.end()) - tids.begin());
    auto sorted = ids;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.stack_low < b.stack_low; });
    e.stacks_disjoint = true;
    e.min_stack_distance = 1e30;
    for (std::size_t i = 0; i + 1 < sorted.size(); ++i) {
        if (sorted[i].stack_high > sorted[i + 1].stack_low) e.stacks_disjoint = false;
        e.min_stack_distance = std::min(e.min_stack_distance, double(sorted[i + 1].local) - double(sorted[i].local));
    }
    it.note = "Each thread's locals live on its own stack (glibc maps one per thread, with a guard page between).";

    // 2. Independence.
    const std::uint64_t iterations = ctx.options.quick ? 20'000'000 : 100'000'000;
    e.independence = independence(iterations);
    auto& in = result.add_table("2. One thread blocked, one spinning: does the third notice?", {"the worker's fixed job", "wall time"});
    in.rows.push_back({"alone", format_value(e.independence.alone_ns, "ns")});
    in.rows.push_back({"beside a thread blocked in read() and a thread spinning", format_value(e.independence.beside_ns, "ns")});
    in.note = fmt::format("With {} CPU{} the spinning sibling competes for a CPU{}; the blocked one costs nothing. Neither stops the worker.",
                          cpus, cpus == 1 ? "" : "s", cpus > 2 ? " only if all are busy" : ", so the worker may take longer");

    // 3 and 4. Shared memory and lost updates.
    e.sharing = sharing();
    // Long enough that the threads overlap for many scheduler ticks, not just their first microseconds.
    const std::uint64_t per_thread = std::uint64_t(ctx.repeat(5'000'000, 2'000'000));
    result.config.repeat = int(per_thread);
    e.counting_threads = std::max(2, cpus);
    e.counting = lost_updates(e.counting_threads, per_thread, ctx.env.affinity_cpus);
    auto& ct = result.add_table(fmt::format("3. {} threads x {} increments of one shared counter", e.counting_threads, per_thread),
                                {"how", "expected", "final", "lost", "lost %", "time per increment"});
    for (const auto& c : e.counting)
        ct.rows.push_back({c.how, std::to_string(c.expected), std::to_string(c.final_count), std::to_string(c.lost()),
                           fmt::format("{:.2f}%", 100.0 * double(c.lost()) / double(c.expected)), format_value(c.ns_per_increment, "ns")});
    ct.note = fmt::format("Before this, one thread wrote 42 to a global at {} and 4242 to a heap object at {}; another thread read "
                          "{} and {}. Reaching is free; agreeing costs: the atomic and the mutex pay for every increment.",
                          e.sharing.global_addr, e.sharing.heap_addr, e.sharing.global_seen ? 42 : -1, e.sharing.heap_seen ? 4242 : -1);
    result.add_metric("lost_updates_unsynchronised", double(e.counting[0].lost()), "count", "increments lost by load-then-store");
    result.add_metric("ns_per_increment_racy", e.counting[0].ns_per_increment, "ns", "load-then-store");
    result.add_metric("ns_per_increment_atomic", e.counting[1].ns_per_increment, "ns", "fetch_add");
    result.add_metric("ns_per_increment_mutex", e.counting[2].ns_per_increment, "ns", "std::mutex");

    // 5. Locals.
    e.local = local_reach();
    auto& lt = result.add_table("4. A local on one thread's stack, reached by another through its address",
                                {"address", "owner's stack", "the other thread read", "the owner saw afterwards"});
    lt.rows.push_back({e.local.address, e.local.owner_stack, std::to_string(e.local.read_by_other), std::to_string(e.local.seen_by_owner_after)});
    lt.note = "The owner set it to 1; the other thread read 1 and wrote 2. Nothing in the hardware or the OS stops this: "
              "all threads share one address space, stacks included.";

    // 6. The crash.
    e.crash = crash_in_one_thread();
    auto& cr = result.add_table("5. One thread of four dereferences a null pointer (in a child process)",
                                {"child process ended", "threads beating before the fault", "after the fault"});
    cr.rows.push_back({e.crash.status.describe(), fmt::format("{} of {}", e.crash.beating_before, e.crash.threads),
                       "none: the pipe reached end-of-file, no thread was left to write"});
    cr.note = "Each thread wrote a heartbeat to a pipe every millisecond; the stream ended when the process died: a signal "
              "from a fault is delivered to the process, and its default action ends every thread in it.";

    result.add_verdict(decide_t3(e), fmt::format("{} tids, {} stacks; one thread's SIGSEGV ended all {} threads", e.distinct_tids,
                                                 e.threads, e.crash.threads));
    result.add_verdict(decide_t4(e), fmt::format("another thread's writes seen; unsynchronised increments lost {} of {}, atomic and mutex 0",
                                                 e.counting[0].lost(), e.counting[0].expected));
    result.add_verdict(decide_t7(e), fmt::format("heap shared; a stack local read ({}) and written ({}) by another thread via its address",
                                                 e.local.read_by_other, e.local.seen_by_owner_after));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "thread_memory";
    s.title = "threads: own tids and stacks, one shared address space (locals included), lost updates, shared fate";
    s.claims = {"T3", "T4", "T7"};
    s.default_timeout_s = 120;
    s.add_options = add_options;
    s.run = run;
    return s;
}

}  // namespace proclab::thread_memory

PROCLAB_DEMO_MAIN(proclab::thread_memory::spec)
