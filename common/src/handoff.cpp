#include "proclab/handoff.hpp"

#include "proclab/affinity.hpp"
#include "proclab/clock.hpp"
#include "proclab/handles.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proclab/sizes.hpp"
#include "proclab/units.hpp"

namespace proclab {

namespace {
struct alignas(64) Line {
    std::atomic<std::uint64_t> token{0};
};

// The NUMA node a page of this process lives on, as the kernel says (move_pages with no target
// nodes only reports); -1 where it cannot say (no NUMA support, seccomp).
int node_of_page(void* page) {
    void* pages[1] = {page};
    int status[1] = {-1};
    if (::syscall(SYS_move_pages, 0, 1UL, pages, nullptr, status, 0) != 0) return -1;
    return status[0] >= 0 ? status[0] : -1;
}
}  // namespace

CacheLineHandoff measure_handoff(int a, int b, int batches, double clock_overhead_ns, HandoffLines lines) {
    if (a == b) throw std::invalid_argument("measure_handoff: the two CPUs must differ");
    if (batches < 1) throw std::invalid_argument("measure_handoff: at least one batch");
    // The lines live on a fresh page that CPU `a`'s thread touches first, so the kernel's local
    // allocation puts them on a's node: the initiator owns the line, as in c2clat. A line on the
    // caller's stack would sit wherever that stack was first touched, on a NUMA machine perhaps
    // the other node, and every pair's figure would carry that trip.
    ScopedPin pin(a);
    const Mapping page = Mapping::anonymous(4096, /*shared=*/false);  // one page: both lines
    auto* first = new (page.data()) Line{};
    auto* second = new (static_cast<char*>(page.data()) + sizeof(Line)) Line{};
    const int line_node = node_of_page(page.data());
    // The initiator writes `down` and waits on `up`; the responder the other way round.
    std::atomic<std::uint64_t>& down = first->token;
    std::atomic<std::uint64_t>& up = lines == HandoffLines::one ? first->token : second->token;
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

        std::uint64_t token = 1;
        auto one = [&] {
            down.store(token, std::memory_order_release);
            while (up.load(std::memory_order_acquire) != token + 1) {}
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
    return CacheLineHandoff{a, b, s.median / 2, s.p90 / 2, s.min / 2, seen_in_order, line_node};
}

std::vector<std::pair<int, int>> suite_floor_pairs(const std::vector<int>& allowed, std::size_t max_pairs) {
    std::vector<std::pair<int, int>> pairs;
    for (std::size_t i = 1; i < allowed.size() && pairs.size() < max_pairs; ++i)
        pairs.emplace_back(allowed[0], allowed[i]);
    return pairs;
}

std::string encode_line_floors(const std::vector<CacheLineHandoff>& measured) {
    std::string text;
    for (const auto& h : measured) {
        if (h.one_way_min_ns <= 0) continue;  // a pair that gave no figure: the demo measures its own
        text += fmt::format("{}{}-{}:{:.1f}", text.empty() ? "" : ",", h.a, h.b, h.one_way_min_ns);
    }
    return text;
}

namespace {
constexpr long long kMaxCpuId = 1 << 20;  // far above any CPU id; keeps the cast to int exact
}  // namespace

std::vector<SharedFloor> decode_line_floors(std::string_view text) {
    std::vector<SharedFloor> floors;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const auto dash = item.find('-'), colon = item.find(':');
        if (dash == std::string_view::npos || colon == std::string_view::npos || colon < dash) continue;
        const auto a = whole_number(item.substr(0, dash)), b = whole_number(item.substr(dash + 1, colon - dash - 1));
        const auto ns = real_number(item.substr(colon + 1));
        if (!a || !b || !ns || *a < 0 || *b < 0 || *a == *b || *a > kMaxCpuId || *b > kMaxCpuId || *ns <= 0) continue;
        floors.push_back(SharedFloor{static_cast<int>(*a), static_cast<int>(*b), *ns});
    }
    return floors;
}

std::optional<double> LineFloor::drift() const {
    if (!suite_min_ns || *suite_min_ns <= 0 || own.one_way_min_ns <= 0) return std::nullopt;
    return own.one_way_min_ns / *suite_min_ns - 1;
}

bool LineFloor::uses_suite() const {
    if (!suite_min_ns || *suite_min_ns <= 0) return false;
    return own.one_way_min_ns <= 0 || own.one_way_min_ns >= *suite_min_ns * (1 - kFloorBelowSuite);
}

std::string LineFloor::describe() const {
    const auto d = drift();
    if (!d) return fmt::format("{}, this run's fastest batch", format_value(floor_ns(), "ns"));
    if (uses_suite())
        return fmt::format(
            "{}, the suite's, measured once before the demos (this demo's own fastest batch: {}, {:+.0f}%)",
            format_value(floor_ns(), "ns"), format_value(own.one_way_min_ns, "ns"), 100 * *d);
    const double above = *suite_min_ns / own.one_way_min_ns;
    return fmt::format("{}, this demo's own fastest batch: the suite's {} is {} it, so it was no floor",
                       format_value(floor_ns(), "ns"), format_value(*suite_min_ns, "ns"),
                       above < 2 ? fmt::format("{:.0f}% above", 100 * (above - 1)) : fmt::format("{:.3g}x", above));
}

LineFloor line_floor_from(const CacheLineHandoff& own, std::string_view shared_text) {
    LineFloor f{own, std::nullopt};
    for (const auto& s : decode_line_floors(shared_text))
        if ((s.a == own.a && s.b == own.b) || (s.a == own.b && s.b == own.a)) f.suite_min_ns = s.one_way_min_ns;
    return f;
}

LineFloor line_floor(int a, int b, int batches, double clock_overhead_ns, std::optional<std::string_view> shared_text) {
    const CacheLineHandoff own = measure_handoff(a, b, batches, clock_overhead_ns);
    if (shared_text) return line_floor_from(own, *shared_text);
    const char* env = std::getenv(kLineFloorsVariable);
    return line_floor_from(own, env ? env : "");
}

}  // namespace proclab
