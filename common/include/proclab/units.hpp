// The units a figure carries (a metric, a table column, a fact), and the one way each is written
// for people. Below both the evidence (sentences quote figures) and the views (tables show them),
// so the model does not depend on a view to say "1.23 µs".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace proclab {

// Every unit in use. "/s" is a rate of events (443k/s), "B/s" of bytes; "x" a factor (3.2x);
// "fraction" a share shown as a percentage; "ratio" a plain number that is a ratio; "count" a
// whole number; "CPUs" CPUs' worth of time; "" none.
inline constexpr std::string_view kUnits[] = {"ns", "bytes",    "B/s",   "/s",   "count",
                                              "x",  "fraction", "ratio", "CPUs", ""};

// One of kUnits. A literal is checked while compiling (Unit u = "ns"; a misspelt "per s" does not
// build); a name read from a file goes through parse() or read().
class Unit {
public:
    constexpr Unit() = default;  // none: a plain number, or a column of text
    consteval Unit(const char* name) : index_(index_of(name)) {}

    // The unit of that name, or nothing where proclab has none of that name.
    static std::optional<Unit> parse(std::string_view name);
    // As parse, also taking the spellings of older files ("per s" for "/s").
    static std::optional<Unit> read(std::string_view name);

    constexpr std::string_view name() const { return kUnits[index_]; }
    constexpr bool empty() const { return name().empty(); }
    constexpr bool operator==(const Unit&) const = default;

private:
    static constexpr std::size_t kNone = std::size(kUnits) - 1;
    static consteval std::size_t index_of(std::string_view name) {
        for (std::size_t i = 0; i < std::size(kUnits); ++i)
            if (kUnits[i] == name) return i;
        throw "not one of units.hpp's kUnits";  // a compile error, in a consteval call
    }
    explicit constexpr Unit(std::size_t index) : index_(index) {}
    std::size_t index_ = kNone;
};

bool is_known_unit(std::string_view name);

// A count with its noun, the noun plural unless the count is one: "1 CPU", "2 CPUs", "0 faults".
// `plural_form` where adding "s" is wrong ("2 threads per core" is counted("thread per core", ...)).
std::string counted(long long n, std::string_view noun, std::string_view plural_form = {});

// "1.23 µs" for (1234, "ns"); "12.0 MiB" for bytes; plain 3 significant digits otherwise.
std::string format_value(double value, Unit unit);

}  // namespace proclab
