// Two views of one Result: an aligned terminal report and JSON (schema in docs/schema.md).
#pragma once

#include "proclab/result.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace proclab {

// 2: metric summaries carry their distribution (docs/schema.md). Files of version 1 are still read.
inline constexpr int kSchemaVersion = 2;
inline constexpr int kOldestReadableSchema = 1;

// Throws std::runtime_error("<what> has schema_version N; this proclab reads 1 to 2") for a
// version outside [kOldestReadableSchema, kSchemaVersion].
void require_readable_schema(int version, std::string_view what);

using Json = nlohmann::ordered_json;

Json to_json(const Summary& s);
Json to_json(const Environment& env);
Json to_json(const Result& r);
std::string render_json(const Result& r);  // pretty-printed, ends with a newline

// The parts of a demo's JSON the runner needs; throws std::runtime_error naming what is missing.
Result result_from_json(const Json& j);

struct RenderStyle {
    bool colour = false;
    int width = 100;  // where long reasons wrap
};

// Colour only on a terminal, and never when NO_COLOR is set to a non-empty value (no-color.org).
bool want_colour(int fd);

std::string render_terminal(const Result& r, const RenderStyle& style);
std::string render_environment(const Environment& env);

// "1.23 µs" for (1234, "ns"); "12.0 MiB" for bytes; plain 3 significant digits otherwise.
std::string format_value(double value, std::string_view unit);

std::string colour_verdict(Verdict v, bool colour);

// Aligned columns; widths measured in characters, not bytes, and ignoring ANSI colour codes.
class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
    void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    std::string render(std::string_view indent = "  ") const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

std::size_t display_width(std::string_view text);

// Greedy word wrap for text printed after a prefix as wide as `indent`: lines end by column
// `width`, and continuation lines start with `indent`.
std::string wrap(std::string_view text, std::size_t width, std::string_view indent);

}  // namespace proclab
