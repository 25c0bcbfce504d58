// A demo's result as JSON and back (docs/schema.md): one symmetric serializer per type, so what a
// demo writes is what the runner, the report, compare and stability read, typed. nlohmann's ADL
// hooks: Json(x) writes, j.get<T>() reads.
//
// Reading is lenient where an older schema wrote less: schema 1 and 2 results carry sentences as
// text (they become literal decisions), tables of strings and no facts.
#pragma once

#include "proclab/result.hpp"

#include <string>
#include <string_view>

namespace proclab {

// 3: decisions carry their facts and sentence templates, tables are typed (columns with units,
// number cells), raw is an object. 4: the environment's facts carry their typed values, a result
// its plots. Files of versions 1 to 3 are still read (their typed values from the facts' text).
inline constexpr int kSchemaVersion = 4;
inline constexpr int kOldestReadableSchema = 1;

// Throws std::runtime_error("<what> has schema_version N; this proclab reads 1 to 4") for a
// version outside [kOldestReadableSchema, kSchemaVersion].
void require_readable_schema(int version, std::string_view what);

void to_json(Json& j, const Summary& s);
void from_json(const Json& j, Summary& s);
void to_json(Json& j, const Environment& env);
void from_json(const Json& j, Environment& env);
void to_json(Json& j, const Unit& u);  // its name
void to_json(Json& j, const Fact& f);
void from_json(const Json& j, Fact& f);
void to_json(Json& j, const RuleInfo& r);
void from_json(const Json& j, RuleInfo& r);
void to_json(Json& j, const Decision& d);
void from_json(const Json& j, Decision& d);
void to_json(Json& j, const Metric& m);
void from_json(const Json& j, Metric& m);
void to_json(Json& j, const Table& t);
void from_json(const Json& j, Table& t);
void to_json(Json& j, const Figure& f);
void from_json(const Json& j, Figure& f);
void to_json(Json& j, const Result& r);
void from_json(const Json& j, Result& r);

std::string render_json(const Result& r);  // pretty-printed, ends with a newline

// A demo's JSON, checked: throws std::runtime_error naming what is missing or unreadable.
Result result_from_json(const Json& j);

}  // namespace proclab
