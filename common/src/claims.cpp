#include "proclab/claims.hpp"

#include "proclab/aggregate.hpp"

#include <algorithm>
#include <array>

namespace proclab {
namespace {
constexpr std::array<ClaimInfo, 13> claims{{
    {"P1", "a program runs in a process; processes isolate programs"},
    {"P2", "processes compete for cores; the OS hands out time slices"},
    {"P3", "processes cannot reach each other's address spaces"},
    {"P4", "even many cores cannot run everything at once"},
    {"T1", "a thread is scheduled independently by the OS"},
    {"T2", "a process runs N threads; in parallel, except in Python"},
    {"T3", "threads are independent instruction sequences"},
    {"T4", "threads can reach any object of other threads"},
    {"T5", "a thread can own objects only it reaches (thread-local)"},
    {"T6", "threads cannot migrate; fork copies, it does not move"},
    {"T7", "threads share the heap; function locals are private"},
    {"T8", "creating a thread is costly, so use a pool"},
    {"T9", "Python threads never run at the same time"},
}};
}  // namespace

std::span<const ClaimInfo> all_claims() { return claims; }

const ClaimInfo* find_claim(std::string_view id) {
    for (const auto& c : claims)
        if (c.id == id) return &c;
    return nullptr;
}

Verdict combine_verdicts(std::span<const Verdict> verdicts) {
    auto has = [&](Verdict v) { return std::find(verdicts.begin(), verdicts.end(), v) != verdicts.end(); };
    if (has(Verdict::refuted)) return Verdict::refuted;
    if (has(Verdict::nuanced)) return Verdict::nuanced;
    if (has(Verdict::confirmed)) return Verdict::confirmed;
    return Verdict::not_measured;
}

}  // namespace proclab
