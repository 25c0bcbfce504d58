#!/usr/bin/env python3
"""Keeps proclab's docs equal to the program.

Where a page quotes something that can drift (the options of a program, run times, a progress
line), the text sits between two markers and is generated here:

    <!-- BEGIN generated: options context_switch -->
    ...
    <!-- END generated -->

Kinds: `options PROGRAM [SUBCOMMAND]` (from `PROGRAM [SUBCOMMAND] --help`), `run-times`,
`run-time DEMO` and `progress-line` (from the recorded runs: docs/sample-report/suite.json, the full suite, and
tests/data/recorded/suite-quick.json, the quick one; each labelled with its machine and date).

    scripts/docs.py update --bin build/release/bin   rewrite every generated block
    scripts/docs.py check --bin build/release/bin    exit 1 on any drift (ctest runs this):
        a generated block that differs from what would be generated now; an option named in a page
        that its program does not have; a demo's option left out of its page; a page that speaks
        of how the project was made (issues, closing notes, sessions) instead of the program
    scripts/docs.py selftest                         plants each kind of mismatch and expects it caught
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL_RUN = "docs/sample-report/suite.json"
QUICK_RUN = "tests/data/recorded/suite-quick.json"

# Every page a reader gets. The sample report is program output, checked by its own tests.
def doc_pages(root):
    pages = [root / "README.md"] + sorted((root / "docs").glob("*.md")) + sorted((root / "docs" / "demos").glob("*.md"))
    pages.append(root / "docs" / "sample-report" / "README.md")
    return [p for p in pages if p.exists()]

BLOCK = re.compile(r"(<!-- BEGIN generated: (?P<what>[^>]*?) -->\n)(?P<body>.*?)(<!-- END generated -->)", re.S)

# Options every demo shares, explained once in docs/commands.md; a demo's page need not repeat them.
COMMON_DEMO_OPTIONS = {"--help", "--version", "--json", "--quick", "--timeout", "--verbose", "--strict"}
# The harness's internal entry points (not in --help): a demo re-executing itself, the runner asking.
INTERNAL_DEMO_OPTIONS = {"--child", "--describe"}
# The VM lab (deploy/vm/proclab-vm), a script of proclab's with a page of its own.
LAB = "proclab-vm"
LAB_SCRIPT = Path(__file__).resolve().parent.parent / "deploy" / "vm" / LAB
LAB_PAGE = "vm-lab"

# Programs that are not proclab's: their options are theirs (cmake --build, perf bench -l ...).
FOREIGN = ["cmake", "setpriv", "ctest", "perf", "stress-ng", "cyclictest", "hackbench", "taskset", "apt-get", "apt", "git", "python3", "chromium", "tmux",
           "dpkg", "cyclictest", "hackbench", "gcc", "g++", "valgrind", "lmbench", "lat_ctx", "bw_pipe", "sysbench", "nproc",
           "ansible-playbook", "pip", "setarch", "unshare", "docker", "systemd-run", "sudo", "strace", "ldd", "help2man", "man"]

# A page speaks of the program, its measurements and their machine; never of how it was made.
HISTORY = re.compile(r"\bissues?\s*#\s*\d+|\bissue\s+\d+\b|\bclosing notes?\b|\b(this|the|previous|last|a|our)\s+session\b", re.I)


# ---------------------------------------------------------------------------------------------
# Options, as each program's --help lists them.

def parse_help(text):
    """[(names, value, description)] of the Options section of a CLI11 help text."""
    options = []
    in_options = False
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            in_options = line.startswith("Options")
            continue
        if not in_options:
            continue
        m = re.match(r"^  (-\S.*?)(?:\s{2,}(.*))?$", line)
        if m:
            head, desc = m.group(1), (m.group(2) or "")
            # CLI11 leaves one space when the option column overflows: "--cpu CPU:INT in [0 - 1023] The CPU ..."
            overflow = re.match(r"^(.*? in \[[^\]]*\]) (\S.*)$", head)
            if not desc and overflow:
                head, desc = overflow.group(1), overflow.group(2)
            names = re.findall(r"(?:^|,)(--?[\w-]+)", head.split(" ")[0])
            value = head[len(head.split(" ")[0]):].strip()
            options.append([names, value, desc])
        elif options and line.startswith(" " * 10) and line.strip():
            options[-1][2] = (options[-1][2] + " " + line.strip()).strip()
    return options


def run_help(bin_dir, program, subcommand=None):
    args = [str(Path(bin_dir) / program)] + ([subcommand] if subcommand else []) + ["--help"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    if out.returncode != 0:
        raise SystemExit(f"docs.py: {' '.join(args)} ended {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def long_names(options):
    return {n for names, _, _ in options for n in names if n.startswith("--")}


def options_table(options):
    rows = ["| option | what it sets |", "|--------|--------------|"]
    for names, value, desc in options:
        if "--help" in names or "--version" in names:
            continue
        value = re.sub(r":.*$", "", value)  # "N:INT in [1 - 10]" -> "N"; the range is in the description
        shown = ", ".join(f"`{n}`" for n in names) + (f" `{value}`" if value else "")
        rows.append(f"| {shown} | {desc.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


class Programs:
    """The options of every proclab program, read once from --help."""

    def __init__(self, bin_dir, demos):
        self.bin_dir = bin_dir
        self.demos = demos
        self.cache = {}

    def options(self, program, subcommand=None):
        key = (program, subcommand)
        if key not in self.cache:
            if program == LAB:
                # The VM lab is a script: its options are the ones its --help (its own header) names.
                text = subprocess.run([str(LAB_SCRIPT), "--help"], capture_output=True, text=True, timeout=60).stdout
                text = text.split("Options:", 1)[-1]
                self.cache[key] = [([o], "", "") for o in sorted(set(re.findall(r"^  (--[a-z][\w-]*)", text, re.M)))]
            else:
                self.cache[key] = parse_help(run_help(self.bin_dir, program, subcommand))
        return self.cache[key]

    def subcommands(self):
        text = run_help(self.bin_dir, "proclab")
        part = text.split("Subcommands:", 1)[-1]
        return re.findall(r"^  (\w+)\s", part, re.M)

    def names(self, program, subcommand=None):
        return long_names(self.options(program, subcommand))

    def all_names(self):
        names = set()
        for d in self.demos:
            names |= self.names(d)
        for s in self.subcommands():
            names |= self.names("proclab", s)
        return names


def demo_names(bin_dir):
    """The demos, as `proclab list` names them."""
    out = subprocess.run([str(Path(bin_dir) / "proclab"), "list"], capture_output=True, text=True, timeout=120)
    # A row starts at the table's indent; a wrapped description continues further in.
    return [line.split()[0] for line in out.stdout.splitlines()[2:] if line.strip() and not line.startswith("   ")]


# ---------------------------------------------------------------------------------------------
# Figures from the recorded runs.

def load_run(root, rel):
    with open(root / rel) as f:
        return json.load(f)


def fact(run, key):
    f = run.get("environment", {}).get(key, {})
    return f.get("value") or "unknown"


def machine_line(run):
    return (f"{fact(run, 'cpu_model')}, {fact(run, 'affinity_cpus')}, virtual machine: {fact(run, 'hypervisor')}, "
            f"kernel {fact(run, 'kernel_release')}")


def recorded_date(run, rel):
    date = run.get("recorded_at")
    if not date:
        raise SystemExit(f"docs.py: {rel} has no recorded_at (regenerate it with this proclab)")
    return date[:10]


def suite_seconds(run):
    return sum(d.get("wall_s", 0) for d in run.get("demos", []))


def format_quantity(value, unit):
    if unit == "ns":
        for scale, name in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {name}"
        return f"{value:.3g} ns"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "ratio":
        return f"{value:.3g}"
    if unit == "/s":  # a rate of events, as common/render.cpp shows it
        for scale, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= scale:
                return f"{value / scale:.3g}{name}/s"
        return f"{value:.3g}/s"
    return f"{value:.3g} {unit}"


def recorded_demo(run, rel, demo):
    """A demo's verdicts and headline figures in a recorded run, with the run's machine and date."""
    found = [d for d in run["demos"] if d["name"] == demo]
    if not found or not found[0].get("result"):
        raise SystemExit(f"docs.py: {rel} has no result of {demo}")
    result = found[0]["result"]
    metrics = ([m for m in result.get("metrics", []) if m.get("headline")] or result.get("metrics", []))[:6]
    lines = [f"From the recorded full run in [the sample report](../sample-report/report.md) "
             f"({recorded_date(run, rel)}; {machine_line(run)}):", ""]
    for c in result.get("claims", []):
        lines.append(f"- {c['id']} **{c['verdict']}**: {c.get('summary') or c.get('reason', '')}")
    for m in metrics:
        lines.append(f"- {m['description']}: {format_quantity(m['value'], m.get('unit', ''))} (`{m['name']}`)")
    return "\n".join(lines) + "\n"


def generate(what, root, programs):
    parts = what.split()
    if parts[0] == "options":
        return options_table(programs.options(*parts[1:]))
    if parts[0] == "common-options":  # what every demo takes
        common = None
        for d in programs.demos:
            names = {tuple(o[0]) for o in programs.options(d)}
            common = names if common is None else common & names
        rows = []
        for names, value, desc in programs.options(programs.demos[0]):
            if tuple(names) not in common:
                continue
            descs = {o[2] for d in programs.demos for o in programs.options(d) if o[0] == names}
            if len(descs) > 1:  # the same option, a default of each demo's own (--timeout)
                desc = re.sub(r" \(default: [^)]*\)$", "", desc) + " (default: each demo's own, in its --help)"
            rows.append([names, value, desc])
        return options_table(rows)
    full, quick = load_run(root, FULL_RUN), load_run(root, QUICK_RUN)
    if parts[0] == "run-times":
        return (f"Measured ({recorded_date(full, FULL_RUN)}, {machine_line(full)}): the suite of {len(full['demos'])} demos "
                f"ran in {suite_seconds(full):.0f} s, with `--quick` in {suite_seconds(quick):.0f} s "
                f"(recorded {recorded_date(quick, QUICK_RUN)}); `proclab report` then runs the crosscheck and draws the plots.\n")
    if parts[0] == "recorded":
        return recorded_demo(full, FULL_RUN, parts[1])
    if parts[0] == "run-time":  # one demo's, full and --quick
        def wall(run, rel):
            found = [d for d in run["demos"] if d["name"] == parts[1]]
            if not found:
                raise SystemExit(f"docs.py: {rel} has no run of {parts[1]}")
            return found[0]["wall_s"]
        dates = sorted({recorded_date(full, FULL_RUN), recorded_date(quick, QUICK_RUN)})
        return (f"Run time: {wall(full, FULL_RUN):.2g} s in full, {wall(quick, QUICK_RUN):.2g} s with `--quick` "
                f"(recorded {' and '.join(dates)}; {machine_line(full)}).\n")
    if parts[0] == "progress-line":
        first = quick["demos"][0]
        return (f"`[1/{len(quick['demos'])}] {first['name']} --quick ... {first['status']} ({first['wall_s']:.2f} s)`\n")
    raise SystemExit(f"docs.py: unknown generated block '{what}'")


# ---------------------------------------------------------------------------------------------
# The checks.

def program_of_page(page, demos):
    if page.parent.name == "docs" and page.stem == LAB_PAGE:
        return LAB
    return page.stem if page.parent.name == "demos" and page.stem in demos else None


def mentioned_options(text):
    """(line number, line, position, option) for each --option a page names outside generated blocks."""
    stripped = BLOCK.sub(lambda m: m.group(1) + "\n" * m.group("body").count("\n") + m.group(4), text)
    for n, line in enumerate(stripped.splitlines(), 1):
        for m in re.finditer(r"(?<![\w-])--([a-z][\w-]*)", line):
            yield n, line, m.start(), "--" + m.group(1)


def program_in_context(line, pos, demos, subcommands):
    """The program whose option sits at `pos` of `line`: the last one named before it on the line."""
    before = line[:pos]
    found = None
    pattern = r"(?:bin/|/|^|[\s`(])(" + "|".join(map(re.escape, sorted(demos + FOREIGN + ["proclab", "setup.sh", LAB], key=len, reverse=True))) + r")(?=[\s`]|$)( \w+)?"
    for m in re.finditer(pattern, before):
        name, sub = m.group(1), (m.group(2) or "").strip()
        if name == "proclab":
            found = ("proclab", sub if sub in subcommands else None)
        elif name == "setup.sh":
            found = ("proclab", "report")
        elif name == LAB:
            # After its " -- " the arguments are proclab's own.
            found = ("proclab", None) if " -- " in before[m.end():] else (LAB, None)
        elif name in FOREIGN:
            found = ("foreign", None)
        else:
            found = (name, None)
    return found


def check(root, programs, out):
    problems = []
    demos = programs.demos
    subcommands = programs.subcommands()
    every_option = programs.all_names()
    for page in doc_pages(root):
        rel = page.relative_to(root)
        text = page.read_text()
        for m in BLOCK.finditer(text):
            want = generate(m.group("what"), root, programs)
            if m.group("body") != want:
                problems.append(f"{rel}: the generated block '{m.group('what')}' differs from the program (scripts/docs.py update)")
        for n, line in enumerate(text.splitlines(), 1):
            h = HISTORY.search(line)
            if h:
                problems.append(f"{rel}:{n}: speaks of how the project was made ('{h.group(0)}'), not of the program")
        own = program_of_page(page, demos)
        for n, line, pos, option in mentioned_options(text):
            context = program_in_context(line, pos, demos, subcommands)
            if context and context[0] == "foreign":
                continue
            if context and context[0] == "proclab" and context[1] is None:
                known = every_option
            elif context:
                known = programs.names(*[c for c in context if c]) | (INTERNAL_DEMO_OPTIONS if context[0] in demos else set())
            elif own:
                known = programs.names(own) | programs.names("proclab", "run") | INTERNAL_DEMO_OPTIONS
            else:
                known = every_option
            if re.search(r"\bno `?$", line[:pos]):  # "there is no `--trials`": the page says the option is absent
                if option in known:
                    problems.append(f"{rel}:{n}: says there is no {option}, which the program has")
                continue
            if option not in known:
                where = " ".join(c for c in context if c) if context else (own or "any proclab program")
                problems.append(f"{rel}:{n}: names {option}, which {where} does not have")
        if own:
            listed = {o for _, _, _, o in mentioned_options(text)}
            for m in BLOCK.finditer(text):
                if m.group("what").split()[:2] == ["options", own]:
                    listed |= set(re.findall(r"`(--[\w-]+)", m.group("body")))
            for option in sorted(programs.names(own) - COMMON_DEMO_OPTIONS - listed):
                problems.append(f"{rel}: leaves out {option}, an option of {own} (add the block 'options {own}')")
    for d in demos:
        if not (root / "docs" / "demos" / f"{d}.md").exists():
            problems.append(f"docs/demos/{d}.md: missing (every demo has a page)")
    for p in problems:
        print(p, file=out)
    return problems


def update(root, programs):
    for page in doc_pages(root):
        text = page.read_text()
        new = BLOCK.sub(lambda m: m.group(1) + generate(m.group("what"), root, programs) + m.group(4), text)
        if new != text:
            page.write_text(new)
            print(f"updated {page.relative_to(root)}")


# ---------------------------------------------------------------------------------------------
# The self-test: each check must catch its own kind of mismatch, planted in a copy of the docs.

def selftest(bin_dir):
    import io
    import shutil

    programs = Programs(bin_dir, demo_names(bin_dir))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        for rel in ["README.md", "docs", FULL_RUN, QUICK_RUN]:
            src = ROOT / rel
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, copy / rel, dirs_exist_ok=True)
            else:
                shutil.copy(src, copy / rel)
        baseline = check(copy, programs, io.StringIO())
        if baseline:
            print("selftest: the docs do not pass to begin with:\n  " + "\n  ".join(baseline))
            return 1
        page = copy / "docs" / "demos" / "context_switch.md"
        original = page.read_text()
        plants = {
            "an option the program does not have": (original + "\nRun `context_switch --round-trips 5`.\n", "--round-trips"),
            "an option left out": ("\n".join(line for line in BLOCK.sub("", original).splitlines() if "--cpu-pair" not in line),
                                   "leaves out --cpu-pair"),
            "a stale generated block": (original.replace("(default: both)", "(default: all)", 1), "generated block"),
            "a mention of an issue": (original + "\nSee issue #9 for the numbers.\n", "issue #9"),
            "a mention of a session": (original + "\nThis session measured 12 us.\n", "This session"),
        }
        failures = 0
        for name, (text, expect) in plants.items():
            page.write_text(text)
            out = io.StringIO()
            found = check(copy, programs, out)
            caught = any(expect in p for p in found)
            print(f"selftest: {name}: {'caught' if caught else 'MISSED'}")
            failures += not caught
        page.write_text(original)
        return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["check", "update", "selftest"])
    parser.add_argument("--bin", default=str(ROOT / "build" / "release" / "bin"), help="where the built programs are")
    a = parser.parse_args()
    if not (Path(a.bin) / "proclab").exists():
        print(f"docs.py: no proclab in {a.bin} (build first, or give --bin)", file=sys.stderr)
        return 2
    if a.action == "selftest":
        return selftest(a.bin)
    programs = Programs(a.bin, demo_names(a.bin))
    if a.action == "update":
        update(ROOT, programs)
        return 0
    return 1 if check(ROOT, programs, sys.stdout) else 0


if __name__ == "__main__":
    sys.exit(main())
