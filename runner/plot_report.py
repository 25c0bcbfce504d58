#!/usr/bin/env python3
"""Draws proclab's plots. Each plot is data a demo (or the runner) wrote: panels with axes, series
and cells, a caption (common/include/proclab/plot.hpp, docs/schema.md "plots"). This script knows
no demo: a new plot touches only the demo that owns it.

Usage: plot_report.py SUITE_JSON OUT_DIR    every plot of every demo in a suite's JSON, one PNG each
       plot_report.py --plot PLOT_JSON OUT_PNG   one plot (proclab compare --plot writes these)
Prints one line per file written. Needs matplotlib (Debian: python3-matplotlib); exits 3 with one
line when it is missing, 2 on bad input.

Colours: the Okabe-Ito palette (safe for the common colour-vision deficiencies) for series, grey for
floors and references, listed colours or viridis for cells.
"""
import json
import math
import os
import sys
import textwrap

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    from matplotlib.colors import ListedColormap
except ImportError:
    print("matplotlib is not installed (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
    sys.exit(3)


# Okabe & Ito, "Color Universal Design" (2008): distinguishable with deuteranopia, protanopia, tritanopia.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
GREY = "#555555"
LABEL_WIDTH = 44  # a tick label longer than this wraps


def colour(i):
    return OKABE_ITO[i % len(OKABE_ITO)]


def numbers(values):
    """JSON null (a value JSON cannot hold, or a gap) as NaN, which matplotlib leaves out."""
    return [math.nan if v is None else v for v in values or []]


def plain(value, _pos=None):
    return f"{value:g}"


def set_axis(ax, which, spec):
    axis = ax.xaxis if which == "x" else ax.yaxis
    if spec.get("label"):
        # A long label (a rule in words) in a smaller size, so that it fits under the axes.
        longest = max(len(line) for line in spec["label"].split("\n"))
        (ax.set_xlabel if which == "x" else ax.set_ylabel)(spec["label"], fontsize=8 if longest > 70 else None)
    scale = spec.get("scale", "linear")
    if scale != "linear":
        (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=2 if scale == "log2" else 10)
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None or hi is not None:
        (ax.set_xlim if which == "x" else ax.set_ylim)(lo, hi)
    ticks = spec.get("ticks")
    if ticks is not None:
        axis.set_ticks(ticks)
        labels = spec.get("tick_labels") or [plain(t) for t in ticks]
        size = 7 if len(ticks) > 6 or max((len(t) for t in labels), default=0) > 12 else None
        axis.set_ticklabels([t if "\n" in t else textwrap.fill(t, LABEL_WIDTH) for t in labels], fontsize=size)
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    elif scale != "linear":
        # Plain numbers, not powers of ten; where the axis spans less than three decades its major
        # ticks alone would leave one label or none, so 2x and 5x are labelled too.
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(plain))
        low, high = ax.get_xlim() if which == "x" else ax.get_ylim()
        if low > 0 and high / low < 1000:
            axis.set_minor_locator(matplotlib.ticker.LogLocator(base=10, subs=(2, 5)))
            axis.set_minor_formatter(matplotlib.ticker.FuncFormatter(plain))
        else:
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def draw_series(ax, index, s):
    c = GREY if s.get("grey") else colour(s.get("colour", index))
    mark, label, alpha = s["mark"], s.get("label") or None, s.get("alpha", 1)
    x, y = numbers(s.get("x")), numbers(s.get("y"))
    line, marker = s.get("line", "-"), s.get("marker") or None
    if mark == "line":
        ax.plot(x, y, linestyle=line or "None", marker=marker, ms=4 if marker else None, color=c, alpha=alpha, label=label)
    elif mark == "scatter":
        colours = {"facecolors": "white", "edgecolors": c, "linewidths": 1.2} if s.get("hollow") else {"color": c}
        ax.scatter(x, y, s=s.get("width") or None, marker=marker or "o", alpha=alpha, label=label, zorder=3, **colours)
    elif mark in ("bars", "hbars"):
        base = s.get("base", 0)
        if mark == "bars":
            bars = ax.bar(x, [v - base for v in y], width=s.get("width") or 0.8, bottom=base, color=c, alpha=alpha, label=label)
        else:
            bars = ax.barh(y, [v - base for v in x], height=s.get("width") or 0.8, left=base, color=c, alpha=alpha, label=label)
        if s.get("value_labels"):
            values = y if mark == "bars" else x
            ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], fontsize=7, padding=2)
    elif mark == "hline":
        ax.axhline(y[0], color=c, linestyle=line or "-", lw=1, alpha=alpha, label=label)
    elif mark == "vline":
        ax.axvline(x[0], color=c, linestyle=line or "-", lw=1, alpha=alpha, label=label)
    elif mark == "intervals":
        for n, (start, end, row) in enumerate(s.get("intervals", [])):
            ax.broken_barh([(start, end - start)], (row - 0.4, 0.8), facecolor=c, edgecolor="white", hatch=s.get("hatch") or None,
                           label=label if n == 0 else None)
    else:
        raise ValueError(f"unknown mark {mark!r}")


def draw_cells(fig, ax, cells):
    values = [numbers(row) for row in cells["values"]]
    palette = cells.get("palette")
    if palette:
        image = ax.imshow(values, cmap=ListedColormap(palette), vmin=0, vmax=len(palette) - 1, aspect="auto", interpolation="nearest")
    else:
        image = ax.imshow(values, cmap="viridis", interpolation="nearest")
    for i, row in enumerate(cells.get("text") or []):
        for j, text in enumerate(row):
            if not text:
                continue
            v = values[i][j]
            r, g, b, _ = image.cmap(image.norm(v)) if v == v else (1, 1, 1, 1)
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "#222222")
    ax.set_xticks(range(len(cells["columns"])))
    ax.set_xticklabels(cells["columns"], fontsize=7)
    ax.set_yticks(range(len(cells["rows"])))
    ax.set_yticklabels(cells["rows"], fontsize=7)
    if cells.get("colour_bar"):
        fig.colorbar(image, ax=ax, label=cells["colour_bar"])


def draw_panel(fig, ax, panel):
    for i, s in enumerate(panel.get("series", [])):
        draw_series(ax, i, s)
    if panel.get("cells"):
        draw_cells(fig, ax, panel["cells"])
    set_axis(ax, "x", panel.get("x", {}))
    set_axis(ax, "y", panel.get("y", {}))
    if panel.get("title"):
        ax.set_title(panel["title"], fontsize=10)
    legend = panel.get("legend", "best")
    handles, _ = ax.get_legend_handles_labels()
    if legend and handles:
        size = panel.get("legend_size", 7)
        if legend == "outside":
            ax.legend(fontsize=size, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, ncol=1 + len(handles) // 20)
        else:
            ax.legend(fontsize=size, loc=legend)


def draw(plot, path, footer=None):
    panels = plot.get("panels") or []
    if not panels:
        return False
    side = plot.get("side_by_side", False)
    rows, cols = (1, len(panels)) if side else (len(panels), 1)
    extra = {}
    if plot.get("ratios"):
        extra["gridspec_kw"] = {("width_ratios" if side else "height_ratios"): plot["ratios"]}
    width, height = plot.get("size", [7, 4.5])
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False, sharex=plot.get("share_x", False),
                             sharey=plot.get("share_y", False), **extra)
    for ax, panel in zip(axes.flatten(), panels):
        draw_panel(fig, ax, panel)
    if plot.get("title"):
        fig.suptitle(plot["title"], fontsize=11)
    bottom = 0
    if footer:
        fig.text(0.01, 0.01, footer, fontsize=7, color=GREY, ha="left", va="bottom")
        bottom = 0.05
    # tight_layout leaves a suptitle where it is: the axes are kept below it.
    top = 1.0
    if fig._suptitle is not None:
        fig.canvas.draw()
        title_box = fig._suptitle.get_window_extent().transformed(fig.transFigure.inverted())
        top = title_box.y0 - 0.01
    fig.tight_layout(rect=(0, bottom, 1, top))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)
    return True


def fact(env, key):
    f = env.get(key) or {}
    return f.get("value") or "unknown"


def suite_plots(suite_path, out_dir):
    with open(suite_path) as f:
        suite = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    env = suite.get("environment", {})
    footer = (f"proclab {suite.get('proclab_version', '?')} on {fact(env, 'cpu_model')}, CPUs {fact(env, 'affinity_cpus')}, "
              f"kernel {fact(env, 'kernel_release')}, virtual machine: {fact(env, 'hypervisor')}")
    for demo in suite.get("demos", []):
        for plot in (demo.get("result") or {}).get("plots", []):
            name = os.path.basename(plot.get("file", ""))
            if name.endswith(".png"):
                draw(plot, os.path.join(out_dir, name), footer)


def main():
    try:
        if len(sys.argv) == 4 and sys.argv[1] == "--plot":
            with open(sys.argv[2]) as f:
                plot = json.load(f)
            if not draw(plot, sys.argv[3]):
                print("nothing to draw: the plot has no panel", file=sys.stderr)
            return
        if len(sys.argv) != 3:
            print("usage: plot_report.py SUITE_JSON OUT_DIR | --plot PLOT_JSON OUT_PNG", file=sys.stderr)
            sys.exit(2)
        suite_plots(sys.argv[1], sys.argv[2])
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"plot_report.py: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
