#include "ipc_cost/experiments.hpp"

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/handles.hpp"
#include "proclab/sizes.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace proclab::ipc_cost {

namespace {

constexpr std::uint64_t kDownSeed = 0x9e3779b97f4a7c15ULL;  // initiator -> peer check messages
constexpr std::uint64_t kUpSeed = 0xc2b2ae3d27d4eb4fULL;    // peer -> initiator, after a good one
constexpr std::uint64_t kBadSeed = 0x165667b19e3779f9ULL;   // peer -> initiator, after a bad one

std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Keeps a copy from being optimised away: the compiler must assume the bytes are read.
inline void keep(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

enum class Op : std::uint32_t { latency, bandwidth, check, quit };
struct Command {
    Op op;
    std::uint32_t pad = 0;
    std::uint64_t size = 0;
    std::uint64_t count = 0;
};

std::vector<std::byte> touched_buffer(std::size_t size) {
    std::vector<std::byte> b(std::max<std::size_t>(size, 8));
    std::memset(b.data(), 0x5a, b.size());  // every page faulted in before anything is timed
    return b;
}

// The peer: pinned to its CPU, it answers the parent's commands on the channel until told to quit.
int serve(Channel& channel, int control_fd, int cpu, std::size_t max_size) {
    pin_to_cpu(cpu);
    channel.keep_side(Side::responder);
    auto buffer = touched_buffer(max_size);
    std::byte* buf = buffer.data();
    while (const auto cmd = receive_value<Command>(control_fd)) {
        const std::size_t size = cmd->size;
        switch (cmd->op) {
            case Op::latency:
                for (std::uint64_t i = 0; i < cmd->count; ++i) {
                    channel.receive(Side::responder, buf, size);
                    channel.send(Side::responder, buf, size);
                }
                break;
            case Op::bandwidth: {
                std::uint64_t out_of_order = 0;
                for (std::uint64_t i = 0; i < cmd->count; ++i) {
                    channel.receive(Side::responder, buf, size);
                    if (size >= 8) {
                        std::uint64_t stamp;
                        std::memcpy(&stamp, buf, sizeof stamp);
                        out_of_order += stamp != i + 1;
                    }
                }
                std::uint64_t ack = out_of_order + 1;  // never 0
                channel.send(Side::responder, reinterpret_cast<const std::byte*>(&ack), sizeof ack);
                break;
            }
            case Op::check:
                for (std::uint64_t i = 0; i < cmd->count; ++i) {
                    channel.receive(Side::responder, buf, size);
                    const bool good = matches_pattern(buf, size, kDownSeed, i);
                    fill_pattern(buf, size, good ? kUpSeed : kBadSeed, i);
                    channel.send(Side::responder, buf, size);
                }
                break;
            case Op::quit: return 0;
        }
    }
    return 0;  // the parent closed the control pipe
}

// One way, one placement: the channel, the forked peer serving it, the parent pinned.
class Session {
public:
    Session(WayId way, const Placement& placement, std::size_t max_size)
        : channel_(open_channel(way, std::min(max_size, info(way).max_message))), control_(Pipe::create()) {
        peer_ = ChildProcess::fork([&] {
            control_.write_end.reset();
            return serve(*channel_, control_.read_end.get(), placement.responder_cpu, max_size);
        });
        control_.read_end.reset();
        channel_->keep_side(Side::initiator);
        pin_.emplace(placement.initiator_cpu);
        buffer_ = touched_buffer(max_size);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() {
        // Told to quit; a peer that does not end within a second is killed. Reaped either way.
        try {
            send_value(control_.write_end.get(), Command{Op::quit});
        } catch (...) {}
        control_.write_end.reset();
        if (!peer_.wait_for(std::chrono::seconds(1))) peer_.kill_and_wait();
    }

    void command(Op op, std::size_t size, std::uint64_t count) {
        send_value(control_.write_end.get(), Command{op, 0, size, count});
    }
    Channel& channel() { return *channel_; }
    std::byte* buffer() { return buffer_.data(); }
    std::string how() const { return channel_->how(); }

    // One timed round trip of `size` bytes there and back, ns.
    void round_trip(std::size_t size) {
        channel_->send(Side::initiator, buffer_.data(), size);
        channel_->receive(Side::initiator, buffer_.data(), size);
    }

private:
    std::unique_ptr<Channel> channel_;
    Pipe control_;
    ChildProcess peer_;
    std::optional<ScopedPin> pin_;
    std::vector<std::byte> buffer_;
};

CheckOutcome run_check(Session& s, WayId way, const std::vector<std::size_t>& sizes, int per_size) {
    int messages = 0;
    std::vector<std::size_t> checked;
    for (std::size_t size : sizes) {
        if (size > info(way).max_message || (way == WayId::eventfd && size != 8)) continue;
        s.command(Op::check, size, std::uint64_t(per_size));
        for (int i = 0; i < per_size; ++i) {
            fill_pattern(s.buffer(), size, kDownSeed, std::uint64_t(i));
            s.channel().send(Side::initiator, s.buffer(), size);
            s.channel().receive(Side::initiator, s.buffer(), size);
            if (!matches_pattern(s.buffer(), size, kUpSeed, std::uint64_t(i))) {
                const bool peer_saw_bad = matches_pattern(s.buffer(), size, kBadSeed, std::uint64_t(i));
                return {false, fmt::format("message {} of {} B arrived {}", i, size,
                                           peer_saw_bad ? "damaged or out of order at the peer"
                                                        : "damaged or out of order on the way back")};
            }
            ++messages;
        }
        checked.push_back(size);
    }
    return {true, fmt::format("{} messages, {} per size, every byte compared both ways", 2 * messages, per_size)};
}

std::size_t largest(const std::vector<std::size_t>& sizes) {
    return sizes.empty() ? 8 : *std::max_element(sizes.begin(), sizes.end());
}

std::uint64_t clamp_count(double budget_s, double per_item_s, std::uint64_t lo, std::uint64_t hi) {
    if (per_item_s <= 0) return hi;
    return std::clamp<std::uint64_t>(std::uint64_t(budget_s / per_item_s), lo, hi);
}

// The sizes the deadline left out, in words.
std::string left_out(const std::vector<std::size_t>& sizes) {
    std::vector<std::string> labels;
    for (std::size_t size : sizes) labels.push_back(byte_label(size));
    return fmt::format("{}", fmt::join(labels, ", "));
}

}  // namespace

bool Budget::past_deadline() const { return deadline > 0 && now_ns() >= deadline; }

void fill_pattern(std::byte* data, std::size_t size, std::uint64_t seed, std::uint64_t index) {
    std::uint64_t state = splitmix(seed ^ (index * 0x100000001b3ULL));
    for (std::size_t off = 0; off < size; off += 8) {
        state = splitmix(state);
        std::uint64_t word = off == 0 ? (state | 1) : state;  // first word never 0 (eventfd)
        if (off == 0 && word == UINT64_MAX) word -= 2;
        std::memcpy(data + off, &word, std::min<std::size_t>(8, size - off));
    }
}

bool matches_pattern(const std::byte* data, std::size_t size, std::uint64_t seed, std::uint64_t index) {
    std::byte expected[4096];
    std::vector<std::byte> big;
    std::byte* e = expected;
    if (size > sizeof expected) {
        big.resize(size);
        e = big.data();
    }
    fill_pattern(e, size, seed, index);
    return std::memcmp(e, data, size) == 0;
}

CheckOutcome check_way(WayId way, const Placement& placement, const std::vector<std::size_t>& sizes,
                       int messages_per_size) {
    Session s(way, placement, largest(sizes));
    return run_check(s, way, sizes, messages_per_size);
}

WayRun measure_way(WayId way, const Placement& placement, const std::vector<std::size_t>& sizes, const Budget& budget) {
    WayRun run;
    run.way = way;
    run.placement = placement;
    if (budget.past_deadline()) {
        run.available = false;
        run.out_of_time = true;
        run.reason = "the time budget ran out before this way";
        return run;
    }
    std::optional<Session> session;
    try {
        session.emplace(way, placement, largest(sizes));
    } catch (const NotAvailable& e) {
        run.available = false;
        run.reason = e.what();
        return run;
    }
    Session& s = *session;
    run.how = s.how();
    const auto check = run_check(s, way, sizes, 3);
    run.intact = check.intact;
    run.check_detail = check.detail;
    if (!run.intact) return run;  // a way that damages data has no cost worth reporting

    // eventfd's message is the counter itself: its first 8 bytes must not be 0 (fill_pattern's are not).
    fill_pattern(s.buffer(), largest(sizes), kDownSeed, 0);
    std::vector<std::size_t> latency_left_out, bandwidth_left_out;
    for (std::size_t size : sizes) {
        if (size > info(way).max_message || (way == WayId::eventfd && size != 8)) continue;
        if (budget.past_deadline()) {
            latency_left_out.push_back(size);
            continue;
        }
        // Warm-up, which also sizes the timed run to the budget: a few round trips, and more only
        // when those were quick (on a loaded machine one can take milliseconds).
        const Stopwatch w;
        std::uint64_t warm = 0;
        auto warm_up = [&](std::uint64_t n) {
            s.command(Op::latency, size, n);
            for (std::uint64_t i = 0; i < n; ++i) s.round_trip(size);
            warm += n;
        };
        warm_up(size >= (1u << 20) ? 2 : 5);
        if (size < (1u << 20) && w.elapsed_s() < budget.latency_s_per_size / 4) warm_up(45);
        const std::uint64_t count =
            budget.fixed_round_trips > 0
                ? std::uint64_t(budget.fixed_round_trips)
                : clamp_count(budget.latency_s_per_size, w.elapsed_s() / double(warm), 5, 200'000);
        std::vector<double> samples;
        samples.reserve(count);
        s.command(Op::latency, size, count);
        for (std::uint64_t i = 0; i < count; ++i) {
            const Nanos t0 = now_ns();
            s.round_trip(size);
            samples.push_back(double(now_ns() - t0));
        }
        run.latency.push_back({size, summarize(subtract_overhead(samples, budget.clock_overhead_ns))});
    }
    if (!latency_left_out.empty()) run.cut_short = "round trips of " + left_out(latency_left_out);
    if (!info(way).streams) return run;

    std::uint64_t out_of_order = 0;
    auto stream = [&](std::size_t size, std::uint64_t n) {
        s.command(Op::bandwidth, size, n);
        const Nanos t0 = now_ns();
        for (std::uint64_t i = 0; i < n; ++i) {
            if (size >= 8) {
                const std::uint64_t stamp = i + 1;
                std::memcpy(s.buffer(), &stamp, sizeof stamp);
            }
            s.channel().send(Side::initiator, s.buffer(), size);
        }
        std::uint64_t ack = 0;
        s.channel().receive(Side::initiator, reinterpret_cast<std::byte*>(&ack), sizeof ack);
        out_of_order += ack - 1;
        return double(now_ns() - t0);
    };
    for (std::size_t size : sizes) {
        if (budget.past_deadline()) {
            bandwidth_left_out.push_back(size);
            continue;
        }
        const double warm_ns = stream(size, 2);
        const std::uint64_t n = clamp_count(budget.bandwidth_s_per_sample, warm_ns / 2e9, 4, 1'000'000);
        std::vector<double> rates;
        for (int r = 0; r < budget.bandwidth_samples; ++r)
            rates.push_back(double(size) * double(n) / (stream(size, n) / 1e9));
        run.bandwidth.push_back({size, summarize(rates), n});
    }
    if (!bandwidth_left_out.empty())
        run.cut_short += (run.cut_short.empty() ? "" : "; ") + ("bandwidth of " + left_out(bandwidth_left_out));
    if (out_of_order != 0) {
        run.intact = false;
        run.check_detail += fmt::format("; {} streamed messages arrived out of order", out_of_order);
    }
    return run;
}

std::vector<BandwidthPoint> measure_memcpy(const std::vector<std::size_t>& sizes, const Budget& budget) {
    const std::size_t max_size = largest(sizes);
    auto src = touched_buffer(max_size), dst = touched_buffer(max_size);
    std::vector<BandwidthPoint> out;
    for (std::size_t size : sizes) {
        auto copies = [&](std::uint64_t n) {
            const Nanos t0 = now_ns();
            for (std::uint64_t i = 0; i < n; ++i) {
                std::memcpy(dst.data(), src.data(), size);
                keep(dst.data());
            }
            return double(now_ns() - t0);
        };
        const double warm_ns = copies(3);
        const std::uint64_t n = clamp_count(budget.bandwidth_s_per_sample, warm_ns / 3e9, 4, 100'000'000);
        std::vector<double> rates;
        for (int r = 0; r < budget.bandwidth_samples; ++r)
            rates.push_back(double(size) * double(n) / (copies(n) / 1e9));
        out.push_back({size, summarize(rates), n});
    }
    return out;
}

}  // namespace proclab::ipc_cost
