// The units a figure carries (a metric, a table column, a fact), and the one way each is written
// for people. Below both the evidence (sentences quote figures) and the views (tables show them),
// so the model does not depend on a view to say "1.23 µs".
#pragma once

#include <string>
#include <string_view>

namespace proclab {

// Every unit in use. "/s" is a rate of events (443k/s), "B/s" of bytes; "x" a factor (3.2x);
// "fraction" a share shown as a percentage; "ratio" a plain number that is a ratio; "count" a
// whole number; "CPUs" CPUs' worth of time; "" none.
inline constexpr std::string_view kUnits[] = {"ns", "bytes",    "B/s",   "/s",   "count",
                                              "x",  "fraction", "ratio", "CPUs", ""};
bool is_known_unit(std::string_view unit);

// "1.23 µs" for (1234, "ns"); "12.0 MiB" for bytes; plain 3 significant digits otherwise.
std::string format_value(double value, std::string_view unit);

}  // namespace proclab
