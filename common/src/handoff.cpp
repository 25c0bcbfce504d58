#include "proclab/handoff.hpp"

#include "proclab/affinity.hpp"
#include "proclab/clock.hpp"
#include "proclab/handles.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace proclab {

namespace {
struct alignas(64) Line {
    std::atomic<std::uint64_t> token{0};
};
}  // namespace

CacheLineHandoff measure_handoff(int a, int b, int batches, double clock_overhead_ns, HandoffLines lines) {
    if (a == b) throw std::invalid_argument("measure_handoff: the two CPUs must differ");
    if (batches < 1) throw std::invalid_argument("measure_handoff: at least one batch");
    Line first, second;
    // The initiator writes `down` and waits on `up`; the responder the other way round.
    std::atomic<std::uint64_t>& down = first.token;
    std::atomic<std::uint64_t>& up = lines == HandoffLines::one ? first.token : second.token;
    std::atomic<bool> stop{false};
    std::atomic<int> responder_pinned{0};  // 1 pinned, -errno when pinning failed
    std::uint64_t seen_in_order = 0;
    std::vector<double> round_trips;
    {
        std::thread responder([&] {
            try {
                pin_to_cpu(b);
            } catch (const HarnessError& e) {
                responder_pinned.store(-e.code().value(), std::memory_order_release);
                return;
            }
            responder_pinned.store(1, std::memory_order_release);
            std::uint64_t expect = 1;
            while (!stop.load(std::memory_order_relaxed)) {
                const std::uint64_t v = down.load(std::memory_order_acquire);
                if (v == expect) {
                    up.store(v + 1, std::memory_order_release);
                    expect += 2;
                    ++seen_in_order;
                }
            }
        });
        // On every way out of this block, an exception included, the responder is told to stop
        // and joined: a joinable std::thread destroyed would end the process.
        struct StopAndJoin {
            std::atomic<bool>& stop;
            std::thread& thread;
            ~StopAndJoin() {
                stop.store(true, std::memory_order_relaxed);
                thread.join();
            }
        } stop_and_join{stop, responder};
        int pinned = 0;
        while ((pinned = responder_pinned.load(std::memory_order_acquire)) == 0) std::this_thread::yield();
        if (pinned < 0) throw HarnessError(-pinned, "sched_setaffinity(cpu " + std::to_string(b) + ")");

        ScopedPin pin(a);
        std::uint64_t token = 1;
        auto one = [&] {
            down.store(token, std::memory_order_release);
            while (up.load(std::memory_order_acquire) != token + 1) {
            }
            token += 2;
        };
        for (int i = 0; i < 2 * kHandoffBatch; ++i) one();  // warm-up: both threads running, the line hot
        round_trips.reserve(static_cast<std::size_t>(batches));
        for (int r = 0; r < batches; ++r) {
            const Nanos t0 = now_ns();
            for (int i = 0; i < kHandoffBatch; ++i) one();
            round_trips.push_back(std::max(0.0, double(now_ns() - t0) - clock_overhead_ns) / kHandoffBatch);
        }
    }
    const Summary s = summarize(round_trips);
    return CacheLineHandoff{a, b, s.median / 2, s.p90 / 2, s.min / 2, seen_in_order};
}

}  // namespace proclab
