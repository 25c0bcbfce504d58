#include "sched_latency/load.hpp"

#include "proclab/affinity.hpp"
#include "proclab/handles.hpp"
#include "proclab/work.hpp"

#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::sched_latency {

SpinnerGang::SpinnerGang(int count, std::optional<int> pin_cpu) {
    if (count <= 0) return;
    Pipe ready = Pipe::create();
    children_.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) try {
            children_.push_back(ChildProcess::fork([&] {
                ready.read_end.reset();
                if (pin_cpu) pin_to_cpu(*pin_cpu);
                const char one = 1;
                write_all(ready.write_end.get(), &one, 1);
                ready.write_end.reset();
                for (std::uint64_t seed = 1;; ++seed) busy_work(1'000'000, seed);  // until SIGKILL
                return 0;
            }));
        } catch (const std::system_error& e) {
            failure_ = fmt::format("the load of {} was not reached ({} spinning): the next fork refused: {}", count, i,
                                   start_failure(e.code().value()));
            break;
        }
    ready.write_end.reset();
    for (std::size_t i = 0; i < children_.size(); ++i) {
        char byte = 0;
        if (!read_exact(ready.read_end.get(), &byte, 1)) break;  // a spinner died: its handle still reaps it
    }
}

SpinnerGang::~SpinnerGang() { stop(); }

void SpinnerGang::stop() noexcept {
    for (auto& c : children_) try {
            if (c.running()) c.kill_and_wait();
        } catch (...) {  // already reaped elsewhere: nothing left to do
        }
    children_.clear();
}

}  // namespace proclab::sched_latency
