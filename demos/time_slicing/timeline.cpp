#include "time_slicing/timeline.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace proclab::time_slicing {

char worker_letter(std::size_t i) {
    static constexpr std::string_view letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    return i < letters.size() ? letters[i] : '*';
}

Figure timeline(const StepResult& s, const std::vector<int>& cpus) {
    // 64 columns of 0.5 ms: with the lane labels, a line fits an 80-column terminal.
    constexpr int kColumns = 64;
    const double wall = double(s.wall_ns);
    const double window = std::min(wall, 32e6);
    const double start = std::max(0.0, std::min(wall * 0.25, wall - window));
    const double column = window / kColumns;

    Figure f;
    f.title = fmt::format("Timeline: K={} {} on CPU{} {}, {:.0f}-{:.0f} ms after the start ({:.2f} ms per column)", s.k,
                          s.threads ? "threads" : "processes", cpus.size() == 1 ? "" : "s", format_cpu_list(cpus),
                          start / 1e6, (start + window) / 1e6, column / 1e6);
    auto running_at = [&](const WorkerResult& w, double t, int* cpu) {
        const Nanos abs = s.go_at + static_cast<Nanos>(t);
        for (const auto& iv : w.intervals)
            if (iv.start <= abs && abs <= iv.end) {
                *cpu = iv.cpu;
                return true;
            }
        return false;
    };
    std::string ruler(kColumns, ' ');
    for (int c = 0; c < kColumns; c += 16) {
        const auto label = fmt::format("|{:.0f}ms", (start + c * column) / 1e6);
        ruler.replace(static_cast<std::size_t>(c), std::min(label.size(), ruler.size() - static_cast<std::size_t>(c)),
                      label);
    }
    f.lines.push_back(fmt::format("{:<10} {}", "", ruler));
    for (int cpu : cpus) {
        std::string lane(kColumns, '.');
        for (int c = 0; c < kColumns; ++c) {
            const double t = start + (c + 0.5) * column;
            for (std::size_t i = 0; i < s.workers.size(); ++i) {
                int where = -1;
                if (running_at(s.workers[i], t, &where) && where == cpu) {
                    lane[static_cast<std::size_t>(c)] = worker_letter(i);
                    break;
                }
            }
        }
        f.lines.push_back(fmt::format("{:<10} {}", fmt::format("CPU {}", cpu), lane));
    }
    const std::size_t shown = std::min<std::size_t>(s.workers.size(), 16);
    for (std::size_t i = 0; i < shown; ++i) {
        std::string lane(kColumns, '.');
        for (int c = 0; c < kColumns; ++c) {
            int where = -1;
            if (running_at(s.workers[i], start + (c + 0.5) * column, &where))
                lane[static_cast<std::size_t>(c)] = where >= 0 && where < 10 ? static_cast<char>('0' + where) : '#';
        }
        f.lines.push_back(fmt::format("{:<10} {}", fmt::format("{} {}", worker_letter(i), s.workers[i].tid), lane));
    }
    f.note = fmt::format(
        "CPU lanes: the letter of the worker running there ('.' = none of them). Worker lanes: the CPU the worker ran "
        "on "
        "('.' = waiting for a CPU). {}The run intervals come from each worker's clock gaps, not from a kernel trace.",
        s.workers.size() > shown ? fmt::format("Only the first {} of {} workers get a lane. ", shown, s.workers.size())
                                 : "");
    return f;
}

}  // namespace proclab::time_slicing
