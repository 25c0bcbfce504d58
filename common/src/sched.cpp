#include "proclab/sched.hpp"

#include "proclab/environment.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace proclab {

std::optional<TaskSchedStats> parse_schedstat(std::string_view text) {
    std::istringstream in{std::string(text)};
    TaskSchedStats s;
    if (!(in >> s.run_ns >> s.wait_ns >> s.timeslices)) return std::nullopt;
    if (s.run_ns < 0 || s.wait_ns < 0 || s.timeslices < 0) return std::nullopt;
    return s;
}

std::optional<std::int64_t> parse_nr_migrations(std::string_view text) {
    constexpr std::string_view key = "se.nr_migrations";
    const auto pos = text.find(key);
    if (pos == std::string_view::npos) return std::nullopt;
    const auto colon = text.find(':', pos);
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string rest(text.substr(colon + 1, text.find('\n', colon) - colon - 1));
    char* end = nullptr;
    const long long v = std::strtoll(rest.c_str(), &end, 10);
    if (end == rest.c_str()) return std::nullopt;
    return v;
}

TaskSchedStats read_task_stats(const std::string& dir) {
    TaskSchedStats s;
    if (auto text = read_small_file(dir + "/schedstat"))
        if (auto parsed = parse_schedstat(*text)) s = *parsed;
    if (auto text = read_small_file(dir + "/status")) {
        if (auto v = status_field(*text, "voluntary_ctxt_switches")) s.voluntary_switches = std::stoll(*v);
        if (auto v = status_field(*text, "nonvoluntary_ctxt_switches")) s.involuntary_switches = std::stoll(*v);
    }
    if (auto text = read_small_file(dir + "/sched"))
        if (auto v = parse_nr_migrations(*text)) s.migrations = *v;
    return s;
}

double jain_fairness(std::span<const double> values) {
    if (values.empty()) throw std::invalid_argument("fairness of no values");
    double sum = 0, squares = 0;
    for (double x : values) {
        sum += x;
        squares += x * x;
    }
    if (squares == 0) return 1;
    return sum * sum / (static_cast<double>(values.size()) * squares);
}

Nanos gap_threshold(std::span<const double> undisturbed_steps_ns) {
    if (undisturbed_steps_ns.empty()) return 20'000;
    std::vector<double> sorted(undisturbed_steps_ns.begin(), undisturbed_steps_ns.end());
    std::sort(sorted.begin(), sorted.end());
    const double jitter = percentile_sorted(sorted, 99.9);
    return static_cast<Nanos>(std::clamp(8 * jitter, 20'000.0, 500'000.0));
}

}  // namespace proclab

namespace proclab {

std::vector<std::int64_t> parse_timer_interrupts(std::string_view text) {
    std::vector<std::int64_t> counts;
    for (const std::string_view line : lines_of(text)) {
        std::istringstream fields{std::string(line)};
        std::string label;
        fields >> label;
        const bool loc = label == "LOC:";
        const bool arch = line.find("arch_timer") != std::string_view::npos;
        if (!loc && !arch) continue;
        std::vector<std::int64_t> row;
        std::string field;
        while (fields >> field && field.find_first_not_of("0123456789") == std::string::npos)
            row.push_back(std::stoll(field));
        if (loc) return row;
        if (counts.empty()) counts = row;  // the first arch_timer line; keep looking for LOC
    }
    return counts;
}

std::optional<std::uint64_t> parse_jiffies(std::string_view text) {
    for (const std::string_view line : lines_of(text)) {
        if (line.rfind("jiffies:", 0) != 0) continue;  // ".last_jiffies" and the like are indented
        try {
            return std::stoull(std::string(line.substr(8)));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

namespace {
std::optional<std::uint64_t> read_jiffies(std::string& why_not) {
    const auto text = read_small_file("/proc/timer_list");
    if (!text) {
        why_not = fmt::format("cannot read /proc/timer_list: {}", std::strerror(errno));
        return std::nullopt;
    }
    auto j = parse_jiffies(*text);
    if (!j) why_not = "no 'jiffies:' line in /proc/timer_list";
    return j;
}
}  // namespace

JiffiesClock::JiffiesClock()
    : start_(read_jiffies(unknown_)), start_ns_(now_ns()) {}  // unknown_ is constructed first (declared first)

std::optional<double> JiffiesClock::tick_ns(std::uint64_t min_ticks) const {
    if (!start_) return std::nullopt;
    std::string why_not;
    const auto now = read_jiffies(why_not);
    const Nanos at = now_ns();
    if (!now || *now <= *start_ || *now < *start_ + min_ticks) return std::nullopt;
    return double(at - start_ns_) / double(*now - *start_);
}

}  // namespace proclab
