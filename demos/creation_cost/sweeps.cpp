#include "creation_cost/sweeps.hpp"

#include "creation_cost/operations.hpp"

#include "proclab/clock.hpp"
#include "proclab/environment.hpp"
#include "proclab/handles.hpp"
#include "creation_cost/thread_pool.hpp"
#include "proclab/work.hpp"

#include <thread>
#include <vector>

#include <sys/mman.h>

namespace proclab::creation_cost {

// ---------------------------------------------------------------------------------------------
// 2. fork against the parent's size.

void time_at_size(SizePoint& p, SizePass pass, int count, double clock_overhead, const std::string& program) {
    Mapping region;
    if (p.mib > 0) {
        region = Mapping::anonymous(p.mib << 20, false);
        ::madvise(region.data(), region.size(), p.huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        auto* bytes = static_cast<volatile char*>(region.data());
        for (std::size_t off = 0; off < region.size(); off += 4096) bytes[off] = 1;  // every page present
    }
    if (pass == SizePass::fork) {
        p.parent_rss_bytes = parent_conditions().rss_bytes;
        p.fork_ns = time_each(2, count, clock_overhead, fork_exit_wait).median;
    } else {
        p.vfork_ns = time_each(2, count, clock_overhead, vfork_exit_wait).median;
        p.spawn_ns = time_each(2, count, clock_overhead, [&] { posix_spawn_wait(program); }).median;
    }
}

std::optional<std::size_t> available_mib() {
    auto text = read_small_file("/proc/meminfo");
    if (!text) return std::nullopt;
    if (auto v = status_field(*text, "MemAvailable")) return std::stoull(*v) / 1024;  // "12345 kB"
    return std::nullopt;
}

bool thp_offered() {
    auto text = read_small_file("/sys/kernel/mm/transparent_hugepage/enabled");
    return text && (text->find("[always]") != std::string::npos || text->find("[madvise]") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// 3. A pool against a thread per task.

TaskSizePoint pool_vs_threads(std::uint64_t iterations, int tasks, unsigned cpus) {
    TaskSizePoint p{0, tasks, 0, 0};
    {
        const Nanos t0 = now_ns();
        for (int i = 0; i < 20; ++i) (void)busy_work(iterations);
        p.work_ns = double(now_ns() - t0) / 20;
    }
    {
        ThreadPool pool;
        const Nanos t0 = now_ns();
        TaskGroup group(pool);
        for (int i = 0; i < tasks; ++i) group.run([iterations] { (void)busy_work(iterations); });
        group.wait();
        p.pool_ns = double(now_ns() - t0) / tasks;
    }
    {
        const Nanos t0 = now_ns();
        for (int done = 0; done < tasks;) {
            std::vector<std::thread> batch;
            for (unsigned k = 0; k < cpus && done < tasks; ++k, ++done)
                batch.emplace_back([iterations] { (void)busy_work(iterations); });
            for (auto& t : batch) t.join();
        }
        p.threads_ns = double(now_ns() - t0) / tasks;
    }
    return p;
}

}  // namespace proclab::creation_cost
