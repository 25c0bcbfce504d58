#include "sched_latency/messaging.hpp"

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/handles.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

namespace proclab::sched_latency {

std::string_view name(Transport t) { return t == Transport::pipe ? "pipe" : "socketpair"; }

namespace {

struct Channel2 {
    UniqueFd read_end, write_end;
};

Channel2 open_channel(Transport t) {
    if (t == Transport::pipe) {
        Pipe p = Pipe::create();
        return {std::move(p.read_end), std::move(p.write_end)};
    }
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw_errno("socketpair");
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void send_all(const std::vector<int>& receivers, int loops) {
    std::array<char, kMessageBytes> message{};
    for (int i = 0; i < loops; ++i)
        for (int fd : receivers) write_all(fd, message.data(), message.size());
}

void receive_all(int fd, int loops) {
    std::array<char, kMessageBytes> message{};
    for (int i = 0; i < loops * kFdsPerGroup; ++i)
        if (!read_exact(fd, message.data(), message.size())) throw HarnessError(EPIPE, "read: a sender closed early");
}

}  // namespace

MessagingResult run_messaging(const MessagingConfig& config) {
    MessagingResult r;
    r.tasks = config.groups * kFdsPerGroup * 2;
    r.messages = std::int64_t(config.groups) * kFdsPerGroup * kFdsPerGroup * config.loops;
    std::vector<Channel2> channels;
    for (int g = 0; g < config.groups * kFdsPerGroup; ++g) channels.push_back(open_channel(config.transport));
    // The gate: every task reads one byte of it before it starts; its write end is closed to open it.
    Pipe gate = Pipe::create();
    Pipe ready = Pipe::create();
    // Shared with the tasks (processes too): whether the gate opened to go, or to let them leave
    // because not every task could start.
    Mapping called_off_area = Mapping::anonymous(sizeof(std::atomic<int>), true);
    auto* called_off = new (called_off_area.data()) std::atomic<int>{0};
    // True when the task may go: the gate opened (EOF) and the run was not called off.
    auto wait_gate = [&] {
        const char one = 1;
        write_all(ready.write_end.get(), &one, 1);
        char byte = 0;
        (void)read_exact(gate.read_end.get(), &byte, 1);  // EOF: the gate opened
        return called_off->load(std::memory_order_acquire) == 0;
    };
    auto sender = [&](int group) {
        std::vector<int> fds;
        for (int i = 0; i < kFdsPerGroup; ++i)
            fds.push_back(channels[std::size_t(group * kFdsPerGroup + i)].write_end.get());
        if (wait_gate()) send_all(fds, config.loops);
    };
    // When each receiver read its last message, in memory the parent reads (processes write it too).
    Mapping finished =
        Mapping::anonymous(sizeof(std::atomic<std::int64_t>) * std::size_t(config.groups * kFdsPerGroup), true);
    auto* last_read = static_cast<std::atomic<std::int64_t>*>(finished.data());
    auto receiver = [&](int index) {
        if (!wait_gate()) return;
        receive_all(channels[std::size_t(index)].read_end.get(), config.loops);
        last_read[index].store(now_ns(), std::memory_order_relaxed);
    };
    std::optional<ScopedPin> pin;
    if (config.pin_cpu) pin.emplace(*config.pin_cpu);  // children and threads inherit the mask

    std::vector<ChildProcess> processes;
    std::vector<std::thread> threads;
    std::atomic<bool> thread_failed{false};
    auto start = [&](std::function<void()> body) {
        if (config.kind == Kind::processes)
            processes.push_back(ChildProcess::fork([&] {
                gate.write_end.reset();
                body();
                return 0;
            }));
        else
            threads.emplace_back([&thread_failed, body = std::move(body)] {
                try {
                    body();
                } catch (...) {
                    thread_failed = true;
                }
            });
    };
    try {
        for (int i = 0; i < config.groups * kFdsPerGroup; ++i) start([&, i] { receiver(i); });
        for (int g = 0; g < config.groups; ++g)
            for (int i = 0; i < kFdsPerGroup; ++i) start([&, g] { sender(g); });
    } catch (const std::system_error& e) {
        r.refused = fmt::format("{} {} of {} started, the next refused: {}", processes.size() + threads.size(),
                                name(config.kind), r.tasks, start_failure(e.code().value()));
        called_off->store(1, std::memory_order_release);
        gate.write_end.reset();  // every task started leaves at the gate
        for (auto& p : processes) p.wait();
        for (auto& t : threads) t.join();
        return r;
    }
    for (int i = 0; i < r.tasks; ++i) {
        char byte = 0;
        if (!read_exact(ready.read_end.get(), &byte, 1))
            throw HarnessError(EPIPE, "a messaging task ended before the gate");
    }
    const Nanos t0 = now_ns();
    gate.write_end.reset();
    bool failed = false;
    for (auto& p : processes) {
        const ExitStatus status = p.wait();
        failed = failed || !status.exited() || status.exit_code() != 0;
    }
    for (auto& t : threads) t.join();
    failed = failed || thread_failed;
    r.total_ns = double(now_ns() - t0);
    if (failed) throw HarnessError(EIO, "a messaging process failed");
    std::int64_t latest = t0;
    for (int i = 0; i < config.groups * kFdsPerGroup; ++i)
        latest = std::max(latest, last_read[i].load(std::memory_order_relaxed));
    r.last_read_ns = double(latest - t0);
    return r;
}

}  // namespace proclab::sched_latency
