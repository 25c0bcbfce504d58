// `proclab tour`: the notes in order, one stop per demo, for a student. At each stop the claim as
// docs/claims.md words it, a question to predict, the demo run, its verdicts in plain words beside
// the prediction, the one picture that shows it where the demo draws one, and a command line or
// two to try next. Without a terminal on stdin (or with --no-prompt) nothing is asked.
#pragma once

#include "proclab/result.hpp"

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab::suite {

// One answer to a stop's question, and the verdict of the stop's asked claim it amounts to:
// the answer that agrees with the notes' statement implies confirmed, the other refuted.
struct TourChoice {
    std::string_view text;
    Verdict implies = Verdict::confirmed;
};

struct TourStop {
    std::string_view id;  // what `proclab tour STOP` takes
    std::string_view title;
    std::string_view demo;
    std::string_view asked_claim;  // the claim the question tests (the demo may cover others)
    std::string_view question;
    std::vector<TourChoice> choices;
    // Command lines to try next ("{bin}" is the folder the demos run from), each with what it shows.
    struct Try {
        std::string_view command;
        std::string_view shows;
    };
    std::vector<Try> try_this;
};

// The stops, in the notes' order: processes and isolation, time slices, threads and shared
// memory, thread_local, fork, creation costs and pools, the GIL. Together they cover every claim.
const std::vector<TourStop>& tour_stops();
const TourStop* find_stop(std::string_view id);

// A guess against what the machine did.
enum class GuessOutcome {
    held,       // the measured verdict is the one the chosen answer implies
    missed,     // it is the other
    partly,     // nuanced: the statement holds with a qualification the demo names
    undecided,  // not-measured: the machine could not say, and the reason says why
    not_asked,  // no prediction was made
};
GuessOutcome judge_guess(std::optional<std::size_t> choice, const TourStop& stop, Verdict measured);
std::string_view to_string(GuessOutcome g);

// "a" -> 0, "B" -> 1; nothing for an empty line or anything else.
std::optional<std::size_t> parse_choice(std::string_view line, std::size_t choices);

struct TourOptions {
    bool quick = false;
    bool prompt = true;  // ask for predictions (only when stdin is a terminal as well)
    double timeout_s = 120;
    std::vector<std::string> stops;  // empty: every stop
};

// Runs the tour: each stop's demo from `dir`, reading predictions from `in`, writing to `out`.
// Returns the exit code: 0 ran, 3 a demo failed.
int run_tour(const std::filesystem::path& dir, const TourOptions& o, std::istream& in, std::ostream& out, int width);

}  // namespace proclab::suite
