#include "proclab/options.hpp"

#include "proclab/sizes.hpp"
#include "proclab/usage_error.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace proclab {

std::string DemoOption::help_text() const {
    const std::string full_shown = !default_words.empty() ? default_words : full;
    const std::string quick_shown = !quick_words.empty() ? quick_words : quick.value_or("");
    if (full_shown.empty()) return help;
    if (quick_shown.empty() || quick_shown == full_shown) return fmt::format("{} (default: {})", help, full_shown);
    return fmt::format("{} (default: {}; --quick: {})", help, full_shown, quick_shown);
}

std::string DemoOption::resolve(const std::optional<std::string>& given, bool quick_run) const {
    if (given) return *given;
    return quick_run && quick ? *quick : full;
}

void OptionValues::set(const std::string& name, std::string text, bool given) {
    values_[name] = Value{std::move(text), given};
}

const OptionValues::Value& OptionValues::at(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) throw std::logic_error("option " + name + " was not declared");
    return it->second;
}

const std::string& OptionValues::text(const std::string& name) const { return at(name).text; }
bool OptionValues::given(const std::string& name) const { return at(name).given; }

long long OptionValues::integer(const std::string& name) const {
    const auto v = whole_number(text(name));
    if (!v) throw UsageError(fmt::format("{} {}: not a whole number", name, text(name)));
    return *v;
}

double OptionValues::number(const std::string& name) const {
    const auto v = real_number(text(name));
    if (!v) throw UsageError(fmt::format("{} {}: not a number", name, text(name)));
    return *v;
}

}  // namespace proclab
