// A demo's own options, declared once: each is {name, the value of a full run, the value of a
// --quick run, its check, its help}. The harness builds the command line from the table, writes
// "(default: X; --quick: Y)" into the help from those same values, and resolves every option
// before the demo runs: the value given, or the run's default. A default is checked as a given
// value is (a unit test runs every demo's), so the help, the code and a user's input cannot
// disagree, and a demo never has to guess whether a value was given: sched_latency once compared
// --channels with its full default, and `--quick --channels futex,pipe` measured futex only.
#pragma once

#include <CLI/Error.hpp>  // Validators.hpp uses it without including it (CLI11 2.1)
#include <CLI/Validators.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace proclab {

struct DemoOption {
    std::string name = {};                     // "--channels"
    std::string help = {};                     // what it chooses and its range, without the defaults
    std::string full = {};                     // a full run's value, as a user would write it; "" for none
    std::optional<std::string> quick = {};     // a --quick run's value, where it differs from `full`
    std::string type_name = {};                // "LIST", "N"; empty: CLI11's own
    std::optional<CLI::Validator> check = {};  // CLI::Range, CLI::IsMember: for a given value and the defaults alike
    std::string default_words = {};            // the default in words, where `full` is "" or says less ("all three")
    std::string quick_words = {};              // the same for --quick ("futex, at the largest load only")

    // help + " (default: X; --quick: Y)", or " (default: X)" where --quick changes nothing.
    std::string help_text() const;
    // The value of a run: `given` when there is one, else the run's default.
    std::string resolve(const std::optional<std::string>& given, bool quick) const;
};

// Every declared option's value for this run, resolved before run().
class OptionValues {
public:
    void set(const std::string& name, std::string text, bool given);
    // The value; a name the demo did not declare is a bug in the demo: std::logic_error.
    const std::string& text(const std::string& name) const;
    bool given(const std::string& name) const;
    // The value as a number; one that is not a number is the user's error: UsageError naming the option.
    long long integer(const std::string& name) const;
    double number(const std::string& name) const;

private:
    struct Value {
        std::string text;
        bool given = false;
    };
    const Value& at(const std::string& name) const;
    std::map<std::string, Value> values_;
};

}  // namespace proclab
