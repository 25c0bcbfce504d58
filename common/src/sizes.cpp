#include "proclab/sizes.hpp"

#include "proclab/usage_error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace proclab {

std::optional<long long> whole_number(std::string_view text) {
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

std::optional<double> real_number(std::string_view text) {
    // std::from_chars for double needs GCC 11's libstdc++ at least; strtod needs a terminated copy.
    const std::string copy(text);
    char* end = nullptr;
    const double v = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::vector<std::string_view> split_list(std::string_view text) {
    std::vector<std::string_view> items;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find(',', start);
        items.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return items;
        start = end + 1;
    }
}

std::optional<std::vector<std::size_t>> parse_byte_list(std::string_view text, std::size_t min_bytes,
                                                        std::size_t max_bytes) {
    std::vector<std::size_t> sizes;
    for (std::string_view part : split_list(text)) {
        if (part.empty()) return std::nullopt;
        std::size_t multiplier = 1;
        if (part.back() == 'K' || part.back() == 'k') multiplier = std::size_t(1) << 10;
        if (part.back() == 'M' || part.back() == 'm') multiplier = std::size_t(1) << 20;
        if (part.back() == 'G' || part.back() == 'g') multiplier = std::size_t(1) << 30;
        if (multiplier != 1) part.remove_suffix(1);
        const auto number = whole_number(part);
        if (!number || *number < 0 || std::size_t(*number) > max_bytes / multiplier) return std::nullopt;
        const std::size_t value = std::size_t(*number) * multiplier;
        if (value < min_bytes) return std::nullopt;
        sizes.push_back(value);
    }
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    return sizes;
}

std::string byte_label(std::size_t bytes) {
    if (bytes >= (std::size_t(1) << 30) && bytes % (std::size_t(1) << 30) == 0)
        return fmt::format("{} GiB", bytes >> 30);
    if (bytes >= (std::size_t(1) << 20) && bytes % (std::size_t(1) << 20) == 0)
        return fmt::format("{} MiB", bytes >> 20);
    if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes >> 10);
    return fmt::format("{} B", bytes);
}

std::string byte_id(std::size_t bytes) {
    std::string s = byte_label(bytes);
    s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
    return s;
}

std::vector<std::string> parse_choice_list(std::string_view option, std::string_view text,
                                           std::initializer_list<std::string_view> allowed) {
    std::vector<std::string> out;
    for (auto item : split_list(text)) {
        if (std::find(allowed.begin(), allowed.end(), item) == allowed.end())
            throw UsageError(fmt::format("{} {}: '{}' is not one of {}", option, text, item, fmt::join(allowed, ", ")));
        if (std::find(out.begin(), out.end(), item) == out.end()) out.emplace_back(item);
    }
    return out;
}

}  // namespace proclab
