// sched_latency's probes on the real kernel: a policy the caller may not set is refused with its
// reason (never silently replaced), the sleepers and the messaging tasks really run and are
// reaped, and the load's spinners are gone after stop().
#include "sched_latency/load.hpp"
#include "sched_latency/messaging.hpp"
#include "sched_latency/probes.hpp"

#include "proclab/child.hpp"

#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/resource.h>

#include <sys/wait.h>
#include <unistd.h>

using namespace proclab;
using namespace proclab::sched_latency;

TEST_CASE("an unprivileged thread is refused SCHED_FIFO and nice -10, with the reason", "[os][sched_latency]") {
    if (::geteuid() != 0) {
        WARN("not root: cannot drop to another uid here");
        return;
    }
    auto child = ChildProcess::fork([] {
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 4;
        const rlimit none{0, 0};
        ::setrlimit(RLIMIT_RTPRIO, &none);
        ::setrlimit(RLIMIT_NICE, &none);
        const std::string fifo = apply_policy(Policy::fifo);
        const std::string nice = apply_policy(Policy::nice_minus_10);
        if (fifo.find("EPERM") == std::string::npos || fifo.find("RLIMIT_RTPRIO") == std::string::npos) return 5;
        if (nice.find("EACCES") == std::string::npos || nice.find("RLIMIT_NICE") == std::string::npos) return 6;
        if (!apply_policy(Policy::other).empty()) return 7;
        return 0;
    });
    CHECK(child.wait().describe() == "exit 0");
}

TEST_CASE("timer lateness and wake-ups are measured by a real sleeper, and the sleeper process is reaped",
          "[os][sched_latency]") {
    const auto lateness = measure_timer_lateness(LatenessConfig{Policy::other, 1'000'000, 20'000'000, std::nullopt}, 0);
    CHECK(lateness.refused.empty());
    CHECK(lateness.ns.size() == 20);
    for (double ns : lateness.ns) CHECK(ns >= 0);
    for (Channel channel : {Channel::futex, Channel::pipe}) {
        const auto w = measure_wakeup(WakeupConfig{channel, Kind::processes, 1'000'000, 20'000'000, std::nullopt}, 0);
        CHECK(w.ns.size() == 20);
    }
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);  // no child left, zombie or running
}

TEST_CASE("hackbench's shape delivers every message, and leaves no task behind", "[os][sched_latency]") {
    for (Kind kind : {Kind::processes, Kind::threads})
        for (Transport t : {Transport::pipe, Transport::socket}) {
            const auto r = run_messaging(MessagingConfig{1, 5, kind, t, std::nullopt});
            CHECK(r.messages == 20 * 20 * 5);
            CHECK(r.tasks == 40);
            CHECK(r.total_ns > 0);
        }
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
}

TEST_CASE("the load's spinners run until stop(), then are gone", "[os][sched_latency]") {
    SpinnerGang gang(2, std::nullopt);
    CHECK(gang.size() == 2);
    gang.stop();
    CHECK(gang.size() == 0);
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
}
