#include "proclab/demo.hpp"
#include "proclab/progress.hpp"

#include "proclab/child.hpp"
#include "proclab/cli.hpp"
#include "proclab/handles.hpp"
#include "proclab/output_file.hpp"
#include "proclab/render.hpp"
#include "proclab/serialize.hpp"
#include "proclab/spawn.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab {
namespace {

void declare_common_options(CLI::App& app, const DemoSpec& spec, RunOptions& o) {
    app.add_option("-j,--json", o.json_path,
                   "Write the result as JSON to FILE, or to stdout instead of the report without FILE or with - "
                   "(default: the report only)")
        ->expected(0, 1)
        ->type_name("[FILE]");
    app.add_flag("-q,--quick", o.quick, "A short run (smoke tests, a first look)");
    if (spec.repeat)
        app.add_option("--repeat", o.repeat, spec.repeat->help())->check(CLI::Range(1, kMaxRepeat))->type_name("N");
    if (spec.trials)
        app.add_option("--trials", o.trials,
                       fmt::format("Independent trials that decide each verdict (default: {}; --quick: {})",
                                   kDefaultTrials, kDefaultQuickTrials))
            ->check(CLI::Range(1, kMaxTrials))
            ->type_name("R");
    app.add_option("--timeout", o.timeout_s,
                   fmt::format("Stop after SECONDS, every child killed and reaped; exit 4 (default: {:g})",
                               spec.default_timeout_s))
        ->check(CLI::Range(kMinTimeoutS, kMaxTimeoutS))
        ->type_name("SECONDS");
    if (!spec.claims.empty()) app.add_flag("--strict", o.strict, "Exit 1 when a claim is refuted");
    app.add_flag("-v,--verbose", o.verbose, "Show why each unknown fact of the machine is unknown, in full");
}

// The spec's rules with the demo named in each.
std::vector<RuleInfo> rules_of(const DemoSpec& spec) {
    std::vector<RuleInfo> rules = spec.rules;
    for (auto& r : rules) r.demo = spec.name;
    return rules;
}

}  // namespace

std::string RepeatSpec::help() const {
    if (full > 0) return fmt::format("{} (default: {}; --quick: {})", counts, full, quick);
    return fmt::format("{} (default: {})", counts, default_text);
}

ParsedCommandLine parse_command_line(const DemoSpec& spec, const std::vector<std::string>& args) {
    ParsedCommandLine parsed;
    parsed.options.timeout_s = spec.default_timeout_s;
    const std::string about = spec.claims.empty() ? "an instrument: it measures, it decides no claim"
                                                  : fmt::format("claims: {}", fmt::join(spec.claims, ", "));
    CLI::App app(fmt::format("{} — {} ({})", spec.name, spec.title, about), spec.name);
    cli::apply_conventions(app, spec.name);
    // Where the page is, in a clone and once installed (a relative path alone means nothing in $HOME).
    app.footer(cli::exit_code_footer({!spec.claims.empty(), "the demo failed", true}) +
               fmt::format("\nDocs: docs/demos/{0}.md in the source tree; installed: share/doc/proclab/demos/{0}.md "
                           "under the prefix (/usr with the .deb)",
                           spec.name));
    declare_common_options(app, spec, parsed.options);
    bool describe = false;
    app.add_flag("--describe", describe, "Print the demo's name, title and claims as JSON")->group("");
    std::map<std::string, std::string> given;
    for (const auto& opt : spec.options) {
        CLI::Option* o = app.add_option(opt.name, given[opt.name], opt.help_text());
        if (!opt.type_name.empty()) o->type_name(opt.type_name);
        if (opt.check) o->check(*opt.check);
    }

    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        parsed.action = ParsedCommandLine::Action::help;
        parsed.text = app.help();
        return parsed;
    } catch (const CLI::CallForVersion& e) {
        parsed.action = ParsedCommandLine::Action::version;
        parsed.text = std::string(e.what()) + "\n";
        return parsed;
    } catch (const CLI::ParseError& e) {
        parsed.action = ParsedCommandLine::Action::usage_error;
        parsed.text = cli::plain_parse_error(e, args);
        return parsed;
    }
    parsed.options.json = app.count("--json") > 0;
    for (const auto& opt : spec.options) {
        const bool was_given = app.count(opt.name) > 0;
        std::string value =
            opt.resolve(was_given ? std::optional(given[opt.name]) : std::nullopt, parsed.options.quick);
        // A default goes through the check a given value went through: one that fails is the
        // demo's own bug, named as such (the unit tests run every demo's defaults).
        if (!was_given && opt.check && !value.empty()) {
            std::string copy = value;
            if (const std::string error = (*opt.check)(copy); !error.empty())
                throw std::logic_error(fmt::format("{}'s default {} fails its own check: {}", opt.name, value, error));
        }
        parsed.values.set(opt.name, std::move(value), was_given);
    }
    if (describe) parsed.action = ParsedCommandLine::Action::describe;
    return parsed;
}

int demo_main(int argc, char** argv, const DemoSpec& spec) {
    const std::vector<std::string> args(argv + 1, argv + argc);

    if (args.size() >= 2 && args[0] == "--child") {
        auto mode = spec.child_modes.find(args[1]);
        if (mode == spec.child_modes.end()) {
            std::fprintf(stderr, "%s: error: unknown child mode '%s'\n", spec.name.c_str(), args[1].c_str());
            return kExitUsage;
        }
        try {
            return mode->second(std::vector<std::string>(args.begin() + 2, args.end()));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s --child %s: error: %s\n", spec.name.c_str(), args[1].c_str(), e.what());
            return kExitHarness;
        }
    }

    ParsedCommandLine parsed;
    try {
        parsed = parse_command_line(spec, args);
    } catch (const std::exception& e) {  // a default that fails its own check: the demo's bug, not the user's
        std::fprintf(stderr, "%s: error: %s\n", spec.name.c_str(), cli::one_line(e.what()).c_str());
        return kExitHarness;
    }
    switch (parsed.action) {
        case ParsedCommandLine::Action::usage_error:
            std::fprintf(stderr, "%s: error: %s (see --help)\n", spec.name.c_str(), parsed.text.c_str());
            return kExitUsage;
        case ParsedCommandLine::Action::help:
        case ParsedCommandLine::Action::version: std::fputs(parsed.text.c_str(), stdout); return kExitOk;
        case ParsedCommandLine::Action::describe:
            std::cout << Json{{"demo", spec.name},
                              {"title", spec.title},
                              {"claims", spec.claims},
                              {"rules", rules_of(spec)}}
                             .dump()
                      << "\n";
            return kExitOk;
        case ParsedCommandLine::Action::run: break;
    }
    const RunOptions& options = parsed.options;

    std::optional<OutputFile> json_file;
    if (options.json && !options.json_to_stdout()) {
        json_file.emplace(options.json_path);
        if (!json_file->error().empty()) {
            std::fprintf(stderr, "%s: error: --json: %s\n", spec.name.c_str(), json_file->error().c_str());
            return kExitUsage;
        }
    }

    cleanup::install_handlers(spec.name);
    cleanup::arm_timeout(options.timeout_s);
    try {
        DemoContext ctx;
        ctx.options = options;
        ctx.values = parsed.values;
        if (spec.repeat) ctx.repeat_spec = *spec.repeat;
        ctx.clock = calibrate_clock();
        ctx.env = probe_environment();
        ctx.self_exe = self_executable();

        const Stopwatch wall;
        progress::start(spec.name);
        Result result = spec.run(ctx);
        progress::done();
        result.wall_time_s = wall.elapsed_s();
        cleanup::disarm_timeout();

        result.demo = spec.name;
        result.title = spec.title;
        result.claims = spec.claims;
        result.rules = rules_of(spec);
        result.proclab_version = PROCLAB_VERSION;
        result.environment = ctx.env;
        result.clock = ctx.clock;
        result.config.quick = options.quick;
        result.config.timeout_s = options.timeout_s;
        result.complete_verdicts();

        if (json_file) json_file->commit(render_json(result));
        if (options.json_to_stdout()) {
            std::cout << render_json(result) << std::flush;
        } else {
            std::cout << render_terminal(result, RenderStyle{.colour = want_colour(STDOUT_FILENO),
                                                             .width = terminal_width(STDOUT_FILENO),
                                                             .verbose = options.verbose})
                      << std::flush;
        }
        return options.strict && result.any_refuted() ? kExitRefuted : kExitOk;
    } catch (const UsageError& e) {
        cleanup::disarm_timeout();
        progress::done();
        cleanup::emergency_cleanup();
        std::fprintf(stderr, "%s: error: %s (see --help)\n", spec.name.c_str(), cli::one_line(e.what()).c_str());
        return kExitUsage;
    } catch (const HarnessError& e) {
        cleanup::disarm_timeout();
        progress::done();
        std::fprintf(stderr, "%s: error: %s (%s)\n", spec.name.c_str(), cli::one_line(e.what()).c_str(),
                     errno_name(e.code().value()).c_str());
    } catch (const std::exception& e) {
        cleanup::disarm_timeout();
        progress::done();
        std::fprintf(stderr, "%s: error: %s\n", spec.name.c_str(), cli::one_line(e.what()).c_str());
    }
    cleanup::emergency_cleanup();
    return kExitHarness;
}

}  // namespace proclab
