#include "proclab/units.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace proclab {

std::optional<Unit> Unit::parse(std::string_view name) {
    const auto at = std::find(std::begin(kUnits), std::end(kUnits), name);
    if (at == std::end(kUnits)) return std::nullopt;
    return Unit(static_cast<std::size_t>(at - std::begin(kUnits)));
}

std::optional<Unit> Unit::read(std::string_view name) {
    if (name == "per s") return Unit("/s");  // schema 1-3 files wrote a rate so
    return parse(name);
}

std::string counted(long long n, std::string_view noun, std::string_view plural_form) {
    if (n == 1) return fmt::format("1 {}", noun);
    return plural_form.empty() ? fmt::format("{} {}s", n, noun) : fmt::format("{} {}", n, plural_form);
}

bool is_known_unit(std::string_view name) { return Unit::parse(name).has_value(); }

std::string format_value(double value, Unit unit) {
    if (!std::isfinite(value)) return fmt::format("{} {}", value, unit.name());
    if (unit == "ns") {
        const double a = std::fabs(value);
        if (a >= 1e9) return fmt::format("{:.3g} s", value / 1e9);
        if (a >= 1e6) return fmt::format("{:.3g} ms", value / 1e6);
        if (a >= 1e3) return fmt::format("{:.3g} µs", value / 1e3);
        return fmt::format("{:.3g} ns", value);
    }
    if (unit == "bytes") {
        const double a = std::fabs(value);
        if (a >= 1024.0 * 1024 * 1024) return fmt::format("{:.3g} GiB", value / (1024.0 * 1024 * 1024));
        if (a >= 1024.0 * 1024) return fmt::format("{:.3g} MiB", value / (1024.0 * 1024));
        if (a >= 1024.0) return fmt::format("{:.3g} KiB", value / 1024.0);
        return fmt::format("{} B", value);
    }
    if (unit == "B/s") {
        const double a = std::fabs(value);
        if (a >= 1024.0 * 1024 * 1024) return fmt::format("{:.3g} GiB/s", value / (1024.0 * 1024 * 1024));
        if (a >= 1024.0 * 1024) return fmt::format("{:.3g} MiB/s", value / (1024.0 * 1024));
        if (a >= 1024.0) return fmt::format("{:.3g} KiB/s", value / 1024.0);
        return fmt::format("{:.3g} B/s", value);
    }
    if (unit == "/s") {  // a rate of events: 443k/s, 1.2M/s
        const double a = std::fabs(value);
        if (a >= 1e9) return fmt::format("{:.3g}G/s", value / 1e9);
        if (a >= 1e6) return fmt::format("{:.3g}M/s", value / 1e6);
        if (a >= 1e3) return fmt::format("{:.3g}k/s", value / 1e3);
        return fmt::format("{:.3g}/s", value);
    }
    if (unit == "count") return fmt::format("{:.0f}", value);
    if (unit == "x") return std::fabs(value) >= 100 ? fmt::format("{:.0f}x", value) : fmt::format("{:.3g}x", value);
    if (unit == "fraction") {
        const double p = 100 * value;
        return std::fabs(p) >= 10 || p == 0 ? fmt::format("{:.0f}%", p) : fmt::format("{:.1f}%", p);
    }
    if (unit.empty() || unit == "ratio") return fmt::format("{:.3g}", value);
    return fmt::format("{:.3g} {}", value, unit.name());
}

}  // namespace proclab
