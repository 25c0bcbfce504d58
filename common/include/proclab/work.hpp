// The CPU-bound work the demos burn: a chain of 64-bit multiply-adds (an LCG step) that the
// compiler can neither remove nor vectorise, so its time scales with `iterations` and nothing else.
#pragma once

#include <cstdint>

namespace proclab {

__attribute__((noinline)) inline std::uint64_t busy_work(std::uint64_t iterations, std::uint64_t seed = 1) {
    std::uint64_t x = seed;
    for (std::uint64_t i = 0; i < iterations; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        asm volatile("" : "+r"(x));  // the value must exist each step: the work is the point
    }
    return x;
}

}  // namespace proclab
