// pool_bench: proclab's thread pool beside oneTBB and boost::asio::thread_pool, in one run.
//
// 1. Per-task overhead: N empty tasks submitted from one thread, then waited for; total / N.
//    proclab TaskGroup::run + wait; proclab submit() with a handle per task (allocates a shared
//    state, so it is the slower API); tbb::task_group::run + wait; asio::post + a counter.
// 2. Fork-join: R rounds of a parallel loop over 64 one-element chunks (the latency of a round);
//    proclab parallel_for, tbb::parallel_for, asio (64 posts and a std::latch per round).
// Each figure is the median of several repetitions. proclab and oneTBB run CPUs - 1 workers plus
// the waiting thread, which runs tasks too; asio runs one worker per CPU (its waiter cannot help).
//
// A benchmark, not a test: run it on a quiet machine. Options: --tasks N, --rounds R, --repeat K.

#include "proclab/cli.hpp"
#include "proclab/clock.hpp"
#include "proclab/environment.hpp"
#include "proclab/render.hpp"
#include "proclab/stats.hpp"
#include "creation_cost/thread_pool.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <iostream>
#include <latch>
#include <thread>

#include <fmt/format.h>

#if PROCLAB_HAVE_TBB
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_group.h>
#endif

using namespace proclab;

namespace {

double median_of(int repeat, const std::function<double()>& once) {
    std::vector<double> v;
    for (int i = 0; i < repeat; ++i) v.push_back(once());
    return summarize(v).median;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t tasks = 1'000'000, rounds = 20'000;
    int repeat = 5;
    bool quick = false;
    CLI::App app(
        "pool_bench: proclab's thread pool beside oneTBB and boost::asio::thread_pool (a benchmark: it prints, decides "
        "nothing)",
        "pool_bench");
    cli::apply_conventions(app, "pool_bench");
    app.add_flag("-q,--quick", quick, "A short run: 100,000 tasks, 2,000 rounds, median of 3 (unless given)");
    auto* tasks_option = app.add_option("--tasks", tasks, "Empty tasks per measurement (default: 1000000)")
                             ->check(CLI::Range(1000, 100'000'000));
    auto* rounds_option = app.add_option("--rounds", rounds, "Fork-join rounds per measurement (default: 20000)")
                              ->check(CLI::Range(100, 10'000'000));
    auto* repeat_option =
        app.add_option("--repeat", repeat, "Repetitions, the median reported (default: 5; --quick: 3)")
            ->check(CLI::Range(1, 100));
    app.footer(cli::exit_code_footer({}));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        std::fprintf(stderr, "pool_bench: error: %s\n", e.what());
        return 2;
    }
    if (quick) {
        if (tasks_option->count() == 0) tasks = 100'000;
        if (rounds_option->count() == 0) rounds = 2'000;
        if (repeat_option->count() == 0) repeat = 3;
    }

    const Environment env = probe_environment();
    const unsigned threads = static_cast<unsigned>(env.affinity_cpus.size());
    const auto fact = [&](const char* key) {
        const MachineFact* f = env.find(key);
        return f && f->value ? *f->value : std::string("unknown");
    };
    std::cout << fmt::format(
        "pool_bench · {} · {} CPUs allowed · virtual machine: {} · {} tasks, {} rounds, median of {}\n\n",
        fact("cpu_model"), threads, fact("hypervisor"), tasks, rounds, repeat);

    struct Row {
        std::string what;
        double per_task_ns = -1, per_round_ns = -1;
    };
    std::vector<Row> rows;

    {
        ThreadPool pool;  // CPUs - 1 workers and the waiting thread, like oneTBB's arena
        Row r{"proclab ThreadPool (TaskGroup / parallel_for)"};
        r.per_task_ns = median_of(repeat, [&] {
            const Nanos t0 = now_ns();
            TaskGroup group(pool);
            for (std::size_t i = 0; i < tasks; ++i) group.run([] {});
            group.wait();
            return double(now_ns() - t0) / double(tasks);
        });
        std::atomic<long> sink{0};
        r.per_round_ns = median_of(repeat, [&] {
            const Nanos t0 = now_ns();
            for (std::size_t k = 0; k < rounds; ++k)
                pool.parallel_for(0, 64, 1, [&](std::size_t i) { sink.fetch_add(long(i), std::memory_order_relaxed); });
            return double(now_ns() - t0) / double(rounds);
        });
        rows.push_back(r);
        Row h{"proclab ThreadPool (submit, a handle per task)"};
        const std::size_t handle_tasks = std::min<std::size_t>(tasks, 200'000);
        h.per_task_ns = median_of(repeat, [&] {
            const Nanos t0 = now_ns();
            std::vector<TaskHandle<void>> handles;
            handles.reserve(handle_tasks);
            for (std::size_t i = 0; i < handle_tasks; ++i) handles.push_back(pool.submit([] {}));
            for (auto& hd : handles) hd.get();
            return double(now_ns() - t0) / double(handle_tasks);
        });
        rows.push_back(h);
    }
#if PROCLAB_HAVE_TBB
    {
        oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism, threads);
        Row r{"oneTBB (task_group / parallel_for)"};
        r.per_task_ns = median_of(repeat, [&] {
            const Nanos t0 = now_ns();
            oneapi::tbb::task_group group;
            for (std::size_t i = 0; i < tasks; ++i) group.run([] {});
            group.wait();
            return double(now_ns() - t0) / double(tasks);
        });
        std::atomic<long> sink{0};
        r.per_round_ns = median_of(repeat, [&] {
            const Nanos t0 = now_ns();
            for (std::size_t k = 0; k < rounds; ++k)
                oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, 64, 1), [&](const auto& range) {
                    for (auto i = range.begin(); i != range.end(); ++i)
                        sink.fetch_add(long(i), std::memory_order_relaxed);
                });
            return double(now_ns() - t0) / double(rounds);
        });
        rows.push_back(r);
    }
#endif
    {
        boost::asio::thread_pool pool(threads);
        Row r{"boost::asio::thread_pool (post)"};
        r.per_task_ns = median_of(repeat, [&] {
            std::atomic<std::size_t> left{tasks};
            const Nanos t0 = now_ns();
            for (std::size_t i = 0; i < tasks; ++i)
                boost::asio::post(pool, [&left] {
                    if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) left.notify_all();
                });
            for (std::size_t v; (v = left.load(std::memory_order_acquire)) != 0;) left.wait(v);
            return double(now_ns() - t0) / double(tasks);
        });
        std::atomic<long> sink{0};
        const std::size_t asio_rounds = std::max<std::size_t>(100, rounds / 10);
        r.per_round_ns = median_of(repeat, [&] {
            const Nanos t0 = now_ns();
            for (std::size_t k = 0; k < asio_rounds; ++k) {
                std::latch done(64);
                for (std::size_t i = 0; i < 64; ++i)
                    boost::asio::post(pool, [&, i] {
                        sink.fetch_add(long(i), std::memory_order_relaxed);
                        done.count_down();
                    });
                done.wait();
            }
            return double(now_ns() - t0) / double(asio_rounds);
        });
        pool.join();
        rows.push_back(r);
    }

    const double base_task = rows.front().per_task_ns, base_round = rows.front().per_round_ns;
    TextTable t({"pool", "per empty task", "vs proclab", "per fork-join round (64 chunks)", "vs proclab"});
    for (const auto& r : rows)
        t.add_row({r.what, format_value(r.per_task_ns, "ns"), fmt::format("{:.2f}x", r.per_task_ns / base_task),
                   r.per_round_ns >= 0 ? format_value(r.per_round_ns, "ns") : "-",
                   r.per_round_ns >= 0 ? fmt::format("{:.2f}x", r.per_round_ns / base_round) : "-"});
    std::cout << t.render();
#if !PROCLAB_HAVE_TBB
    std::cout << "\noneTBB not measured: libtbb-dev was not found when this was built (apt-get install libtbb-dev).\n";
#endif
    std::cout << "\n'vs proclab' > 1 means slower than proclab's pool. asio's fork-join ran a tenth of the rounds (it "
                 "is slow).\n";
    return 0;
}
