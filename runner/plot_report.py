#!/usr/bin/env python3
"""Plots for a proclab report, made from the suite's JSON (proclab report writes both).

Usage: plot_report.py SUITE_JSON OUT_DIR
       plot_report.py --compare COMPARE_JSON OUT_PNG   (from proclab compare --json, two runs)
       plot_report.py --fleet FLEET_JSON OUT_PNG       (from proclab compare --json, a fleet)
Writes one PNG per figure whose data is in the JSON, and prints one line per file written.
Needs matplotlib (Debian: python3-matplotlib); exits 3 with one line when it is missing.

Colours: the Okabe-Ito palette (safe for the common colour-vision deficiencies) for lines and bars,
greys for the isolation grid (a finding, not good and bad), viridis for the heatmap.
"""
import json
import math
import os
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    from cycler import cycler
except ImportError:
    print("matplotlib is not installed (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
    sys.exit(3)


# Okabe & Ito, "Color Universal Design" (2008): distinguishable with deuteranopia, protanopia, tritanopia.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
plt.rcParams["axes.prop_cycle"] = cycler(color=OKABE_ITO)
FLOOR_GREY = "#555555"


def colour(i):
    return OKABE_ITO[i % len(OKABE_ITO)]


def fact(env, key):
    f = env.get(key) or {}
    return f.get("value") or "unknown"


def allowed_cpus(env):
    """The CPU count from the affinity fact, "0-1 (2 CPUs)"."""
    text = fact(env, "affinity_cpus")
    try:
        return int(text.split("(")[1].split()[0])
    except (IndexError, ValueError):
        return 1


def demo_result(suite, name):
    for d in suite.get("demos", []):
        if d.get("name") == name and d.get("result"):
            return d["result"]
    return None


def metric(result, name):
    for m in result.get("metrics", []):
        if m["name"] == name:
            return m["value"]
    return None


def finish(fig, out_dir, name, caption, written):
    fig.text(0.01, 0.01, caption, fontsize=7, color="#555555", ha="left", va="bottom")
    # tight_layout leaves a suptitle where it is: the axes are kept below it.
    top = 1.0
    if fig._suptitle is not None:
        fig.canvas.draw()
        title_box = fig._suptitle.get_window_extent().transformed(fig.transFigure.inverted())
        top = title_box.y0 - 0.01
    fig.tight_layout(rect=(0, 0.05, 1, top))
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    print(path)


def timeline(suite, out_dir, caption, written):
    r = demo_result(suite, "time_slicing")
    tl = (r or {}).get("raw", {}).get("timeline")
    if not tl:
        return
    workers = tl["workers"]
    cpus = sorted({iv[2] for w in workers for iv in w["intervals_ms_cpu"]})
    end = max((iv[1] for w in workers for iv in w["intervals_ms_cpu"]), default=0)
    start = end * 0.25
    stop = min(end, start + 60)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.5 * len(cpus)))
    for i, w in enumerate(workers):
        bars = [(a, b - a, c) for a, b, c in w["intervals_ms_cpu"] if b > start and a < stop]
        for n, (a, width, cpu) in enumerate(bars):
            # Beyond the palette's eight colours, a hatch tells the workers apart.
            ax.broken_barh([(a, width)], (cpu - 0.4, 0.8), facecolor=colour(i), edgecolor="white",
                           hatch=["", "//", "..", "xx"][(i // len(OKABE_ITO)) % 4], label=f"worker {w['tid']}" if n == 0 else None)
    ax.set_xlim(start, stop)
    ax.set_yticks(cpus)
    ax.set_yticklabels([f"CPU {c}" for c in cpus])
    ax.set_xlabel("time since the common start (ms)")
    kind = "threads" if tl.get("threads") else "processes"
    ax.set_title(f"Who ran on which CPU: {tl['k']} CPU-bound {kind} (time_slicing)")
    ax.set_ylabel("CPU")
    ax.set_ylim(min(cpus) - 0.6, max(cpus) + 0.6)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, ncol=1 + len(workers) // (4 * len(cpus) + 4))
    finish(fig, out_dir, "timeline.png", caption, written)


def cpu_share(suite, out_dir, caption, written):
    r = demo_result(suite, "time_slicing")
    steps = [s for s in (r or {}).get("raw", {}).get("steps", []) if not s["threads"]]
    if not steps:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ks = [s["k"] for s in steps]
    for s in steps:
        ax.scatter([s["k"]] * len(s["workers"]), [w["share"] for w in s["workers"]], color=colour(0), alpha=0.4, s=14)
    ax.plot(ks, [s["mean_share"] for s in steps], "o-", color=colour(0), label="measured mean share (dots: each worker)")
    ax.plot(ks, [s["expected_share"] for s in steps], "--", color=colour(3), label="min(1, CPUs / K)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("CPU-bound processes K")
    ax.set_ylabel("share per process (run time / its lifetime)")
    ax.set_title(f"CPU share against the number of workers on {steps[0]['cpus']} CPUs (P4)")
    ax.legend(fontsize=8)
    finish(fig, out_dir, "cpu_share.png", caption, written)


def speedup(suite, out_dir, caption, written):
    """Speedup against N: compute-bound and memory-bound C++ threads, the emulated GIL, CPython;
    beneath it, the share of the wall time in which two or more threads ran (measured overlap)."""
    r = demo_result(suite, "threads_parallel")
    raw = (r or {}).get("raw", {})
    cpp, mem, gil = raw.get("cpp"), raw.get("memory"), raw.get("gil")
    if not cpp and not mem:
        return
    cpus = allowed_cpus(suite.get("environment", {}))
    fig, (ax, ov) = plt.subplots(2, 1, figsize=(7.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    n_all = sorted({p["n"] for p in (cpp or []) + (mem or [])})
    if cpp:
        ax.plot([p["n"] for p in cpp], [cpp[0]["wall_ms"] / p["wall_ms"] for p in cpp], "o-", label="C++ threads, compute-bound")
        ov.plot([p["n"] for p in cpp], [100 * p.get("overlap", 0) for p in cpp], "o-", label="compute-bound")
    if mem:
        top = max(mem, key=lambda p: p.get("bytes_per_s", 0))
        peak = f", peak {top['bytes_per_s'] / 2**30:.1f} GiB/s at N={top['n']}" if top.get("bytes_per_s") else ""
        ax.plot([p["n"] for p in mem], [mem[0]["wall_ms"] / p["wall_ms"] for p in mem], "D-", label=f"C++ threads, memory-bound (streaming{peak})")
        ov.plot([p["n"] for p in mem], [100 * p.get("overlap", 0) for p in mem], "D-", label="memory-bound")
    if gil:
        ax.plot([p["n"] for p in gil], [gil[0]["wall_ms"] / p["wall_ms"] for p in gil], "s-", label="C++ under an emulated GIL")
    py = raw.get("cpython")
    if py:
        ax.plot([1, py["n"]], [1, py["one_s"] / py["threads_s"]], "^-", label=f"CPython {py['version']} threads")
        ax.plot([1, py["n"]], [1, py["one_s"] / py["processes_s"]], "v-", label=f"CPython {py['version']} processes")
        ax.plot([1, py["n"]], [1, py["hash_one_s"] / py["hash_threads_s"]], "x--", label="CPython threads, sha256 (releases the GIL)")
    ax.plot(n_all, [min(k, cpus) for k in n_all], ":", color=FLOOR_GREY, label="ideal: min(N, CPUs)")
    ax.set_ylabel("speedup over N = 1 (x)")
    ax.set_title("Speedup against N threads (T2, T9)")
    ax.legend(fontsize=7)
    ov.set_ylim(0, 105)
    ov.set_title("measured overlap: two or more threads running at the same instant", fontsize=9)
    ov.set_ylabel("2+ threads running\n(% of the wall time)", fontsize=8)
    ov.set_xlabel("threads (or processes) N")
    ov.set_xticks(n_all if len(n_all) <= 24 else n_all[:: max(1, len(n_all) // 16)])
    ov.legend(fontsize=7)
    finish(fig, out_dir, "speedup.png", caption, written)


def creation(suite, out_dir, caption, written):
    r = demo_result(suite, "creation_cost")
    raw = (r or {}).get("raw", {})
    ops = raw.get("operations")
    if ops:
        import textwrap
        fig, ax = plt.subplots(figsize=(10, 1.6 + 0.42 * len(ops)))
        names = [textwrap.fill(o["what"], 44) for o in ops][::-1]
        med = [o["median_ns"] / 1000 for o in ops][::-1]
        p99 = [o["p99_ns"] / 1000 for o in ops][::-1]
        ax.barh(names, med, color=colour(0), label="median")
        ax.scatter(p99, names, color=colour(3), marker="|", s=200, label="p99")
        ax.set_xscale("log")
        ax.set_xlabel("time per operation (µs, log scale)")
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylabel("operation (created, then reaped or joined)")
        ax.set_title("Creating a thread or a process, against a pool hand-off (T8)", fontsize=11)
        ax.legend(fontsize=8)
        finish(fig, out_dir, "creation_costs.png", caption, written)
    sizes = raw.get("fork_vs_size")
    if sizes:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for thp, label in ((False, "fork, 4 KiB pages"), (True, "fork, transparent huge pages")):
            pts = [p for p in sizes if p["thp"] == thp or (thp and p["mib"] == 0)]
            if len(pts) > 1 or not thp:
                ax.plot([p["mib"] for p in pts], [p["fork_ns"] / 1000 for p in pts], "o-", label=label)
        base = [p for p in sizes if not p["thp"]]
        ax.plot([p["mib"] for p in base], [p["vfork_ns"] / 1000 for p in base], "s--", label="vfork")
        ax.plot([p["mib"] for p in base], [p["posix_spawn_ns"] / 1000 for p in base], "^--", label="posix_spawn /bin/true")
        ax.set_yscale("log")
        ax.set_xlabel("memory the parent touched (MiB)")
        ax.set_ylabel("create + exit + wait (µs, log scale)")
        ax.set_title("fork's cost grows with the parent's page tables (T8)")
        ax.legend(fontsize=8)
        finish(fig, out_dir, "fork_vs_size.png", caption, written)


def context_switch(suite, out_dir, caption, written):
    r = demo_result(suite, "context_switch")
    if not r:
        return
    groups = [("pipe", "same_cpu"), ("futex", "same_cpu"), ("pipe", "cross_cpu"), ("futex", "cross_cpu")]
    labels, procs, threads = [], [], []
    for channel, place in groups:
        p = metric(r, f"hop_corrected_processes_{channel}_{place}")
        t = metric(r, f"hop_corrected_threads_{channel}_{place}")
        if p is None or t is None or p <= 0 or t <= 0:  # a log axis has no place for 0
            continue
        labels.append(f"{channel}\n{'one CPU' if place == 'same_cpu' else 'two CPUs'}")
        procs.append(p / 1000)
        threads.append(t / 1000)
    if not labels:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], procs, width=0.4, label="two processes")
    ax.bar([i + 0.2 for i in x], threads, width=0.4, label="two threads")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels)
    ax.set_xlabel("channel and placement")
    ax.set_yscale("log")
    ax.set_ylabel("one hop, channel overhead subtracted (µs, log scale)")
    ax.set_title("Context switch cost: processes vs threads, one CPU vs two (P2, T1)")
    ax.legend(fontsize=8)
    finish(fig, out_dir, "context_switch.png", caption, written)


def working_set(suite, out_dir, caption, written):
    """context_switch's sweep: what a switch costs against each endpoint's working set (lat_ctx -s)."""
    r = demo_result(suite, "context_switch")
    sweep = ((r or {}).get("raw") or {}).get("working_set_sweep")
    points = (sweep or {}).get("points") or []
    if len(points) < 2:
        return
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    # The sizes are evenly spaced categories (0 has no place on a log axis), each labelled with its size.
    xs = list(range(len(points)))

    def series(key):
        """The points a log axis can show: a value of 0 (the warm pass over 0 bytes) is left out."""
        kept = [(x, p[key] / 1000) for x, p in zip(xs, points) if p[key] > 0]
        return [x for x, _ in kept], [v for _, v in kept]

    ax.plot(*series("switch_cost_ns"), "o-", label="switch + cache lost (hop - channel - warm pass)")
    ax.plot(*series("hop_ns"), "s--", alpha=0.8, label="whole hop")
    warm_x, warm_y = series("touch_alone_ns")
    skipped = "" if len(warm_x) == len(points) else " (0 B: nothing to read)"
    ax.plot(warm_x, warm_y, "^:", alpha=0.8, label="the same pass with the cache warm" + skipped)
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels(["0 B" if p["working_set"] == 0 else (f"{p['working_set'] >> 20} MiB" if p["working_set"] >= 2**20 else f"{p['working_set'] >> 10} KiB") for p in points], fontsize=7)
    ax.set_xlabel("working set per endpoint (each side reads it when the token arrives)")
    ax.set_ylabel("µs per hop = half a round trip (log scale)")
    ax.set_title(f"What a switch costs in cache: {sweep.get('endpoints')}, {sweep.get('channel')}, "
                 f"{'one CPU' if sweep.get('same_cpu') else 'two CPUs'} (lmbench lat_ctx -s)", fontsize=10)
    ax.legend(fontsize=7)
    finish(fig, out_dir, "working_set.png", caption, written)


def ipc(suite, out_dir, caption, written):
    """ipc_cost: round-trip latency and bandwidth against message size, one line per way."""
    r = demo_result(suite, "ipc_cost")
    raw = (r or {}).get("raw") or {}
    lat, bw, mem = raw.get("latency") or [], raw.get("bandwidth") or [], raw.get("memcpy") or []
    if not lat:
        return
    ways = []
    for p in lat + bw:
        if p["way"] not in ways:
            ways.append(p["way"])
    colours = {w: colour(i) for i, w in enumerate(ways)}
    sizes_of = {w: {p["size"] for p in lat + bw if p["way"] == w} for w in ways}

    def way_label(way):
        if len(sizes_of[way]) == 1:  # eventfd carries one 8-byte counter: one size only
            return f"{way} ({next(iter(sizes_of[way]))} B only)"
        return way

    def label_sizes(ax, sizes):
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes)
        ax.set_xticklabels([f"{s >> 20}M" if s >= 2**20 else (f"{s >> 10}K" if s >= 1024 else str(s)) for s in sizes], fontsize=7)
        ax.set_xlabel("message size (bytes)")

    def panels(points, value, extra, ylabel, what, file):
        """One panel per placement, one line per way, the floor drawn by extra(ax, place)."""
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharey=True)
        for ax, place, title in ((axes[0], "same_cpu", "both on one CPU"), (axes[1], "two_cpus", "on two CPUs")):
            for way in ways:
                pts = sorted((p for p in points if p["way"] == way and p["placement"] == place), key=lambda p: p["size"])
                if pts:
                    ax.plot([p["size"] for p in pts], [value(p) for p in pts], "o-", ms=3, color=colours[way], label=way_label(way))
            extra(ax, place)
            label_sizes(ax, sorted({p["size"] for p in points}))
            ax.set_yscale("log")
            ax.set_title(f"{what}, {title}", fontsize=10)
        axes[0].set_ylabel(ylabel)
        for ax in axes:
            ax.legend(fontsize=6.5)
        fig.suptitle(f"Crossing between two processes: {what} by way and message size (ipc_cost)", fontsize=11)
        finish(fig, out_dir, file, caption, written)

    def cache_line_floor(ax, place):
        floor = raw.get("handoff_one_way_ns")
        if place == "two_cpus" and floor:
            ax.axhline(2 * floor / 1000, color=FLOOR_GREY, ls=":", label="cache-line round trip (floor)")
        shaped = raw.get("handoff_line_per_direction_one_way_ns")
        if place == "two_cpus" and shaped:
            ax.axhline(2 * shaped / 1000, color=FLOOR_GREY, ls="--", lw=0.8, label="a line per direction (shape of two rings)")

    def memcpy_floor(ax, place):
        if mem:
            pts = sorted(mem, key=lambda p: p["size"])
            ax.plot([p["size"] for p in pts], [p["median_bytes_per_s"] / 2**30 for p in pts], "k:", label="memcpy in one process (floor)")

    panels(lat, lambda p: p["median_ns"] / 1000, cache_line_floor, "median round trip (µs, log scale)", "round trip", "ipc_latency.png")
    if bw:
        panels(bw, lambda p: p["median_bytes_per_s"] / 2**30, memcpy_floor, "GiB/s (log scale)", "bandwidth", "ipc_bandwidth.png")


def isolation(suite, out_dir, caption, written):
    """isolation_matrix: a colour grid, one row per action, one column per relationship."""
    r = demo_result(suite, "isolation_matrix")
    rels = ((r or {}).get("raw") or {}).get("relationships") or []
    if not rels:
        return
    actions = [a["action"] for a in rels[0]["attempts"]]
    # Neutral greys: the matrix is a finding, not good and bad; the text in each cell says what happened.
    shade = {"allowed": 0, "not_tried": 1, "refused": 2}
    grid = [[shade[rel["attempts"][i]["outcome"]] if rel["measured"] else 1 for rel in rels] for i in range(len(actions))]
    from matplotlib.colors import ListedColormap
    fig, ax = plt.subplots(figsize=(3.2 + 1.35 * len(rels), 1.6 + 0.36 * len(actions)))
    ax.imshow(grid, cmap=ListedColormap(["#f0f0f0", "#c8c8c8", "#4d4d4d"]), vmin=0, vmax=2, aspect="auto")
    for i in range(len(actions)):
        for j, rel in enumerate(rels):
            if not rel["measured"]:
                text = "not measured" if i == 0 else ""
            else:
                at = rel["attempts"][i]
                text = "allowed" if at["outcome"] == "allowed" else (at["errno"] or "-")
            dark = rel["measured"] and rel["attempts"][i]["outcome"] == "refused"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "#222222")
    ax.set_yticks(range(len(actions)))
    ax.set_yticklabels(actions, fontsize=7)
    ax.set_xticks(range(len(rels)))
    ax.set_xticklabels([rel["id"].replace("_", "\n") for rel in rels], fontsize=7)
    ax.set_xlabel("the prober's relationship to the target")
    ax.set_ylabel("what the prober tried")
    ax.set_title("Who can do what to whom (isolation_matrix)\nlight: allowed; dark: refused, with the errno", fontsize=10)
    finish(fig, out_dir, "isolation_matrix.png", caption, written)


def core_to_core(suite, out_dir, caption, written):
    """Heatmap of the one-way cache-line hand-off between every pair of CPUs."""
    r = demo_result(suite, "core_to_core")
    raw = (r or {}).get("raw") or {}
    cpus, matrix = raw.get("cpus") or [], raw.get("matrix") or []
    if len(cpus) < 2 or not matrix:
        return
    nan = float("nan")
    values = [[nan if v is None else v for v in row] for row in matrix]
    size = min(12, max(4.5, 3 + 0.35 * len(cpus)))
    fig, ax = plt.subplots(figsize=(max(7.5, size + 2), size + 0.5))
    image = ax.imshow(values, cmap="viridis", interpolation="nearest")
    ax.set_xticks(range(len(cpus)))
    ax.set_yticks(range(len(cpus)))
    step = max(1, len(cpus) // 32)
    ax.set_xticklabels([str(c) if i % step == 0 else "" for i, c in enumerate(cpus)], fontsize=7)
    ax.set_yticklabels([str(c) if i % step == 0 else "" for i, c in enumerate(cpus)], fontsize=7)
    if len(cpus) <= 8:
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                if v == v:
                    ax.text(j, i, f"{v:.0f}", ha="center", va="center", color="white", fontsize=9)
    ax.set_xlabel("CPU")
    ax.set_ylabel("CPU")
    ax.set_title("A cache line's trip between two CPUs, one way (ns)\nblank: same CPU or not measured", fontsize=10)
    fig.colorbar(image, ax=ax, label="ns")
    finish(fig, out_dir, "core_to_core.png", caption, written)


def sched_latency(suite, out_dir, caption, written):
    """sched_latency: the timer lateness distributions (CCDF) per policy and load; wake-up p99 against load."""
    r = demo_result(suite, "sched_latency")
    if not r:
        return
    raw = r.get("raw") or {}
    cells = raw.get("lateness") or []
    if cells:
        policies = []
        loads = sorted({c["load_tasks"] for c in cells})
        styles = ["-", "--", ":", "-."]
        names = {"other": "SCHED_OTHER", "nice-10": "SCHED_OTHER nice -10", "fifo": "SCHED_FIFO 50"}
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        for c in cells:
            if c["policy"] not in policies:
                policies.append(c["policy"])
            pts = c.get("percentiles") or []
            xs, ys = [], []
            for i, v in enumerate(pts[:-1]):  # p100 has nothing beyond it: no place on a log axis
                if v > 0:
                    xs.append(v / 1000)
                    ys.append(1 - i / 100)
            # Below 1 / (wake-ups) a share is not measured: p99.9 only from 1000 wake-ups on.
            if c.get("p99_9", 0) > 0 and len(pts) == 101 and c.get("count", 0) >= 1000:
                xs.append(c["p99_9"] / 1000)
                ys.append(0.001)
            if not xs:
                continue
            load = c["load_tasks"]
            cpus = c.get("cpus", 1)
            load_text = "idle" if load == 0 else f"{load} busy ({load / cpus:g}x CPUs)"
            ax.plot(xs, ys, color=colour(policies.index(c["policy"])), linestyle=styles[loads.index(load) % len(styles)],
                    label=f"{names.get(c['policy'], c['policy'])}, {load_text}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("lateness: woken - deadline (µs, log scale)")
        ax.set_ylabel("share of wake-ups later than x (log scale)")
        ax.set_title("Timer lateness by policy and load (sched_latency, P2)")
        ax.legend(fontsize=7, loc="lower left")
        finish(fig, out_dir, "sched_lateness.png", caption, written)
    wakeups = raw.get("wakeup") or []
    if wakeups:
        loads = sorted({w["load_tasks"] for w in wakeups})
        cpus = allowed_cpus(suite.get("environment", {}))
        series = []
        for w in wakeups:
            key = (w["channel"], w["kind"])
            if key not in series:
                series.append(key)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for i, key in enumerate(series):
            xs, ys = [], []
            for w in wakeups:
                pts = w.get("percentiles") or []
                if (w["channel"], w["kind"]) == key and len(pts) == 101 and pts[99] > 0:
                    xs.append(loads.index(w["load_tasks"]))
                    ys.append(pts[99] / 1000)
            ax.plot(xs, ys, marker="o", color=colour(i), label=f"{key[0]}, two {key[1]}")
        ax.set_xticks(range(len(loads)))
        ax.set_xticklabels(["idle" if l == 0 else f"{l} busy ({l / max(1, cpus):g}x CPUs)" for l in loads])
        ax.set_xlabel("CPU-bound processes beside the waker and the sleeper")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_ylabel("wake-up latency p99 (µs, log scale)")
        ax.set_title("Wake-up p99 against load: threads and processes (sched_latency)")
        ax.legend(fontsize=8)
        finish(fig, out_dir, "wakeup_latency.png", caption, written)


def address_space(suite, out_dir, caption, written):
    """address_space: faults per second per task against N; unmap cost against sibling CPUs."""
    r = demo_result(suite, "address_space")
    if not r:
        return
    raw = r.get("raw") or {}
    faults = raw.get("faults") or []
    if faults:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for i, kind in enumerate(["threads", "processes"]):
            pts = sorted((p["tasks"], p["per_task_per_s"]) for p in faults if p["kind"] == kind and p["per_task_per_s"] > 0)
            if pts:
                ax.plot([n for n, _ in pts], [v / 1e3 for _, v in pts], marker="o", color=colour(i),
                        label=f"{kind} ({'one address space' if kind == 'threads' else 'one each'})")
        ns = sorted({p["tasks"] for p in faults})
        ax.set_xticks(ns)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("tasks faulting at once (N), one per CPU")
        ax.set_ylabel("first-touch faults per second per task (thousands)")
        ax.set_title("Page faults: threads share one address space, processes do not")
        ax.legend(fontsize=8)
        finish(fig, out_dir, "page_faults.png", caption, written)
    unmaps = raw.get("unmap") or []
    if unmaps:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        series = []
        for u in unmaps:
            if u["siblings"] > 0 and (u["op"], u["siblings_kind"]) not in series:
                series.append((u["op"], u["siblings_kind"]))
        labels = {"munmap": "munmap", "madvise_dontneed": "madvise(DONTNEED)"}
        for i, (op, kind) in enumerate(series):
            alone = [u for u in unmaps if u["op"] == op and u["siblings"] == 0]
            pts = [(0, alone[0]["median_ns"])] if alone else []
            pts += sorted((u["siblings"], u["median_ns"]) for u in unmaps if u["op"] == op and u["siblings_kind"] == kind and u["siblings"] > 0)
            ax.plot([s for s, _ in pts], [v / 1e3 for _, v in pts], marker="o", color=colour(i), linestyle="-" if kind == "threads" else "--",
                    label=f"{labels.get(op, op)}, sibling {kind}")
        ax.set_xticks(sorted({u["siblings"] for u in unmaps}))
        ax.set_ylim(bottom=0)
        ax.set_xlabel("siblings spinning on other CPUs")
        ax.set_ylabel("one operation on 64 KiB, median (µs)")
        ax.set_title("Unmapping with siblings running: threads need TLB shootdowns")
        if series:
            ax.legend(fontsize=8)
        finish(fig, out_dir, "unmap_siblings.png", caption, written)


def compare(path, png):
    """proclab compare: each shown metric's ratio to the base run, log scale, beyond noise in colour."""
    with open(path) as f:
        c = json.load(f)
    rows = [m for m in c.get("metrics", []) if m.get("ratio") and (m.get("headline") or m.get("beyond_noise"))]
    rows.sort(key=lambda m: abs(__import__("math").log(m["ratio"])), reverse=True)
    rows = rows[:40][::-1]
    if not rows:
        print("nothing to draw: no shared metric with a ratio", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(8.5, 1.2 + 0.28 * len(rows)))
    labels = [f"{m['run']}: {m['demo']} {m['name']}" for m in rows]
    colours = [colour(3) if m["beyond_noise"] else "#9e9e9e" for m in rows]
    ax.barh(labels, [m["ratio"] - 1 for m in rows], color=colours, left=1)  # from 1 to the ratio
    ax.axvline(1, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.tick_params(axis="y", labelsize=7)
    alpha, effect = c.get("alpha", 0.05), 100 * c.get("min_effect", 0.05)
    ax.set_xlabel(f"ratio to {rows[0]['against']} (log scale); vermilion: beyond noise (Mann-Whitney U p < {alpha}, ratio outside 1 ± {effect:.0f}%)",
                  fontsize=8)
    ax.set_title("proclab compare: the headline metrics and those that moved", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(png)


FLEET_FLOOR = 0.05


def fleet(path, png):
    """proclab compare, a fleet: each machine's ratio to the fleet median per shown metric, log scale; filled: flagged."""
    with open(path) as f:
        c = json.load(f)
    machines = [m["name"] for m in c.get("machines", [])]
    rows = [m for m in c.get("metrics", []) if m.get("shown") and any(x.get("ratio") is not None for x in m["machines"])]
    # The most deviant first (at the top), at most 40.
    def spread(m):
        return max(abs(math.log(max(x["ratio"], FLEET_FLOOR))) for x in m["machines"] if x.get("ratio") is not None)
    rows.sort(key=spread, reverse=True)
    rows = rows[:40][::-1]
    if not rows:
        print("nothing to draw: no metric with a ratio to the fleet median", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(8.5, 1.6 + 0.3 * len(rows)))
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    for i, name in enumerate(machines):
        xs, ys, flagged = [], [], []
        for y, m in enumerate(rows):
            cell = m["machines"][i]
            if cell.get("ratio") is not None and cell.get("value") is not None:
                xs.append(max(cell["ratio"], FLEET_FLOOR))  # a ratio of 0 (or below the floor) is drawn at the floor
                ys.append(y)
                flagged.append(cell.get("flagged", False))
        face = [colour(i) if f else "white" for f in flagged]
        ax.scatter(xs, ys, marker=markers[i % len(markers)], s=36, facecolors=face, edgecolors=colour(i), linewidths=1.2, label=name, zorder=3)
    ax.axvline(1, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{m['demo']}: {m['name']}" for m in rows], fontsize=7)
    ax.grid(axis="y", color="#eeeeee", zorder=0)
    alpha, effect = c.get("alpha", 0.05), 100 * c.get("min_effect", 0.05)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(f"ratio to the fleet median (log scale; below {FLEET_FLOOR:g} drawn at {FLEET_FLOOR:g})\n"
                  f"filled: flagged (Mann-Whitney U against the rest p < {alpha}, and outside 1 ± {effect:.0f}% of the median)", fontsize=8)
    ax.set_title(f"proclab compare: a fleet of {len(machines)} machines", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(png)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--fleet":
        fleet(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 3:
        print("usage: plot_report.py SUITE_JSON OUT_DIR", file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1]) as f:
        suite = json.load(f)
    out_dir = sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    env = suite.get("environment", {})
    caption = (f"proclab {suite.get('proclab_version', '?')} on {fact(env, 'cpu_model')}, CPUs {fact(env, 'affinity_cpus')}, "
               f"kernel {fact(env, 'kernel_release')}, virtual machine: {fact(env, 'hypervisor')}")
    written = []
    for plot in (timeline, cpu_share, speedup, creation, context_switch, working_set, core_to_core, ipc, isolation, sched_latency, address_space):
        plot(suite, out_dir, caption, written)


if __name__ == "__main__":
    main()
