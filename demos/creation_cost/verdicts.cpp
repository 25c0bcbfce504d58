#include "creation_cost/verdicts.hpp"

#include "proclab/render.hpp"

#include <fmt/format.h>

namespace proclab::creation_cost {

ClaimVerdict decide_t8(const Costs& c) {
    if (c.pool_ns <= 0 || c.thread_ns <= 0) return {"T8", Verdict::not_measured, "the thread or the pool measurement is missing"};
    const double ratio = c.thread_ns / c.pool_ns;
    std::string evidence = fmt::format("std::thread create+join median {} against {} to hand an empty task to a running pool ({:.1f}x)",
                                       format_value(c.thread_ns, "ns"), format_value(c.pool_ns, "ns"), ratio);
    if (c.fork_ns > 0) evidence += fmt::format("; fork+exit+wait {} ({:.0f}x the pool)", format_value(c.fork_ns, "ns"), c.fork_ns / c.pool_ns);
    if (c.spawn_ns > 0) evidence += fmt::format("; posix_spawn+wait {}", format_value(c.spawn_ns, "ns"));
    if (ratio < kCostlyRatio && c.interference.exceeds(kInterferenceMargin))
        return {"T8", Verdict::not_measured,
                fmt::format("{}: the hand-off waits for a pool worker to get a CPU, and other load held them: {}", evidence,
                            c.interference.describe())};
    if (ratio <= 1) return {"T8", Verdict::refuted, "creating a thread was no dearer than a pool hand-off: " + evidence};
    if (ratio < kCostlyRatio)
        return {"T8", Verdict::nuanced, fmt::format("{}: dearer, but less than {:.0f}x: a pool pays off only for short tasks", evidence, kCostlyRatio)};
    return {"T8", Verdict::confirmed, evidence};
}

}  // namespace proclab::creation_cost
