"""Shared by every suite: reading results.json, grouping rows into cases, drawing lines, finishing and saving.

A *case* is one run_name: its aggregate median row (the value a chart shows) and its iteration rows (which say
whether it failed or ran oversubscribed). Charts draw one line per (transport, model) through cases.
"""
import argparse
import json
import math
import os
import statistics
import sys
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from . import style


class ResultsError(Exception):
    """results.json is missing or not a results file; the message is one line for stderr."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with bad input reported as one line on stderr (exit status 2) instead of the usage text too."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def run_main(main):
    """Runs a script's main() for `sys.exit`. A reader that stops early (`bench compare A B | head`) closes the pipe:
    that is not an error worth a traceback, so the rest of stdout goes to /dev/null and the status is 141, as a
    program killed by SIGPIPE would have."""
    try:
        status = main()
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def guarded(script, what, work):
    """Runs work() for a script's main(): 0, or 2 with one line on stderr when a results file is missing or
    malformed, or `what` cannot be written."""
    try:
        work()
    except ResultsError as e:
        print(f"{script}: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{script}: cannot write {what}: {e}", file=sys.stderr)
        return 2
    return 0


def load_results(run_dir):
    path = Path(run_dir) / "results.json"
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: malformed JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("context"), dict) \
            or not isinstance(doc.get("benchmarks"), list):
        raise ResultsError(f"{path}: not a results file (needs a 'context' object and a 'benchmarks' list)")
    if not all(isinstance(r, dict) for r in doc["benchmarks"]):
        raise ResultsError(f"{path}: malformed JSON: every entry of 'benchmarks' must be an object")
    return doc


def suite_of(doc, run_dir):
    """The suite that wrote results.json: context.suite, else the first row's."""
    suite = doc["context"].get("suite") or next((r.get("suite") for r in doc["benchmarks"] if r.get("suite")), None)
    if not suite:
        raise ResultsError(f"{Path(run_dir) / 'results.json'}: no context.suite")
    return str(suite)


# ---- cases ---------------------------------------------------------------------------------------------------

# The fields that tell cases apart, for results written before context.schema listed them (schema 2 files of
# earlier versions); a file with context.schema uses its own list.
IDENTITY = ("suite", "transport", "model", "serializer", "workload", "wait", "placement", "msg_bytes", "pairs",
            "rate", "work_ns", "shape", "phase", "experiment", "lock", "mix", "layout", "policy", "threads",
            "cpu_threads", "cs_ns", "echo_placement", "check_interval", "switch_interval_us", "cpu_a", "cpu_b",
            "relation", "runtime")


def identity_fields(doc):
    """The identity fields of a results file, in its suite's order: context.schema.identity where the file has
    one, else IDENTITY."""
    schema = doc.get("context", {}).get("schema") or {}
    return tuple(schema.get("identity") or IDENTITY)


def number(v):
    """A finite float, or None for anything else (missing, null, text, NaN)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


class Case:
    def __init__(self, run_name):
        self.run_name = run_name
        self.median = None     # the aggregate median row
        self.iterations = []   # iteration rows
        self.ident = {}

    @property
    def ok_iterations(self):
        return [r for r in self.iterations if not r.get("error_occurred") and not r.get("excluded")]

    @property
    def failed(self):
        """Every repetition failed: no value to plot, but the case must be shown as failed."""
        return self.median is None and not self.ok_iterations and any(r.get("error_occurred") for r in self.iterations)

    @property
    def error(self):
        msgs = [r.get("error_message") for r in self.iterations if r.get("error_occurred")]
        return next((str(m) for m in msgs if m), "failed (no message)" if msgs else "")

    @property
    def failed_repetitions(self):
        return sum(1 for r in self.iterations if r.get("error_occurred"))

    @property
    def oversubscribed(self):
        return bool((self.median or {}).get("oversubscribed")) or any(r.get("oversubscribed") for r in self.iterations)

    @property
    def unstable(self):
        return bool((self.median or {}).get("unstable"))

    @property
    def below_floor(self):
        """A repetition lay beyond its own round's hardware floor (below_floor in its row; the median row says so
        when any did)."""
        return bool((self.median or {}).get("below_floor")) or any(r.get("below_floor") for r in self.ok_iterations)

    def value(self, field):
        """The aggregate median of a field; without aggregate rows (a single repetition), the median of the
        successful iterations."""
        if self.median is not None:
            return number(self.median.get(field))
        values = [v for v in (number(r.get(field)) for r in self.ok_iterations) if v is not None]
        return statistics.median(values) if values else None


def ident_text(case):
    """"experiment:locks lock:ticket threads:4": a case's identity without its suite, for a note."""
    return " ".join(f"{k}:{v}" for k, v in case.ident.items() if k != "suite")


def cases(doc):
    """Every run_name in results.json as a Case, in first-seen order."""
    by_name = {}
    for row in doc["benchmarks"]:
        run_name = row.get("run_name") or row.get("name")
        if not run_name:
            continue
        case = by_name.setdefault(str(run_name), Case(str(run_name)))
        if row.get("run_type") == "aggregate":
            if row.get("aggregate_name") == "median":
                case.median = row
        else:
            case.iterations.append(row)
    fields = identity_fields(doc)
    for case in by_name.values():
        # The rows carry their identity: a case is never read back from its name.
        for row in [case.median] + case.iterations:
            if row:
                case.ident.update({k: row[k] for k in fields if k not in case.ident and row.get(k) is not None})
    return list(by_name.values())


# What a "?" mark means: harness/stats.hpp's unstable_above_pct (written into context.statistics) over its
# robust spread (results of schema 1 flagged (max - min) / median above 20%).
UNSTABLE_LEGEND = "unstable: repetitions\ndisagree (spread > 10%)"

# The figure that stands for a case when runs are compared or summed up in a sentence:
# (field, higher_is_better, what it is).
LATENCY_METRIC = ("rtt_p50_ns", False, "p50 round trip")
THROUGHPUT_METRICS = (("bytes_per_s", True, "bytes/s"), ("msgs_per_s", True, "messages/s"))
TIME_METRIC = ("real_time", False, "time")
# The serialize suite quotes the measuring thread's CPU time (context.serialize.headline_time): single-threaded
# work that never blocks, where wall time adds other processes' turns.
CPU_TIME_METRIC = ("cpu_time", False, "CPU time")


def primary_metric(case):
    """Latency rows: the median round trip (lower is better); throughput rows: bytes or messages per second
    (higher is better); the serialize suite: cpu_time; anything else (contention): real_time (lower is better)."""
    rows = [r for r in [case.median] + case.iterations if r]

    def has(field):
        return any(number(r.get(field)) is not None for r in rows)

    if case.ident.get("workload") == "latency" and has(LATENCY_METRIC[0]):
        return LATENCY_METRIC
    if case.ident.get("workload") == "throughput":
        for metric in THROUGHPUT_METRICS:
            if has(metric[0]):
                return metric
    if case.ident.get("suite") == "serialize" and has(CPU_TIME_METRIC[0]):
        return CPU_TIME_METRIC
    return TIME_METRIC


def iteration_values(case, field):
    """The field of every successful repetition, in repetition order."""
    return [v for v in (number(r.get(field)) for r in case.ok_iterations) if v is not None]


def select(all_cases, **criteria):
    return [c for c in all_cases if all(c.ident.get(k) == v for k, v in criteria.items())]


def case_label(case):
    """"tcp/process 1 MiB", with ", 4 pairs" when more than one pair."""
    ident = case.ident
    names = [str(ident[k]) for k in ("transport", "model", "serializer", "lock", "policy") if k in ident]
    if "transport" in ident and ident.get("serializer") in ("raw", "none"):
        names.pop(2)  # raw bytes, no serializer: the ipc default, not worth naming
    label = "/".join(names)
    if "msg_bytes" in ident:
        label += " " + style.fmt_size(ident["msg_bytes"])
    return label + (f", {ident['pairs']} pairs" if ident.get("pairs", 1) != 1 else "")


# ---- lines ---------------------------------------------------------------------------------------------------

_EXTRA_DIMS = ("serializer", "wait", "placement", "rate", "lock")


def shade(color, i):
    """The i-th variant of a colour, for lines that differ only in a dimension neither colour nor line style
    shows (an extra dimension): the colour itself, then lighter, darker, much lighter."""
    if i == 0:
        return color
    mix, toward = ((0.5, 1.0), (0.45, 0.0), (0.75, 1.0))[(i - 1) % 3]
    return tuple(c + (toward - c) * mix for c in matplotlib.colors.to_rgb(color))


class Drawn:
    """What draw_lines() put on an axis, for the legend and the footnote."""

    def __init__(self):
        self.lines = []        # (transport, model, extra label) of every line drawn, or failed-only group
        self.colors = {}       # line key -> its colour (the transport's, shaded per extra label)
        self.has_data = False  # at least one point was drawn
        self.failed = []       # failed cases (drawn as x at the bottom of the axis)
        self.notes = []        # footnote lines besides failures
        self.hollow = False    # some point was oversubscribed
        self.unstable = False  # some point was unstable
        self.below_floor = False  # some point lay beyond its round's hardware floor
        self.band = False


def _extra_label(dim, value):
    """How a splitting dimension reads in a legend: a blocking wait is what a reader assumes, so it goes unsaid."""
    if dim == "wait":
        return {"block": "", "spin": "spins", "adaptive": "spins, then sleeps"}.get(str(value), f"wait {value}")
    return f"{dim} {value}"


def line_keys(chart_cases):
    """The (transport, model, extra label) of each line draw_lines() would draw through these cases."""
    extra = [d for d in _EXTRA_DIMS if len({c.ident.get(d) for c in chart_cases}) > 1]
    return {_line_key(c, extra) for c in chart_cases}


def _line_key(case, extra):
    return (str(case.ident.get("transport", "?")), str(case.ident.get("model", "?")),
            ", ".join(filter(None, (_extra_label(d, case.ident.get(d)) for d in extra))))


BELOW_FLOOR_COLOR = "#d62728"


def _mark_points(ax, drawn, points, look):
    """A line's markers: hollow where oversubscribed, a red ring where below floor, a "?" where unstable.
    `look` is (marker, color, sideways shift in inches, transform)."""
    marker, color, shift, data = look
    for hollow in (False, True):
        sel = [p for p in points if p[3].oversubscribed == hollow]
        if sel:
            drawn.hollow |= hollow
            ax.plot([p[0] for p in sel], [p[1] for p in sel], linestyle="none", marker=marker, color=color,
                    markerfacecolor="white" if hollow else color,
                    markeredgewidth=style.current()["line"] * 0.8 if hollow else 1, zorder=4, transform=data)
    for p in points:
        if p[3].below_floor:
            drawn.below_floor = True
            ax.plot([p[0]], [p[1]], linestyle="none", marker="o", markersize=style.current()["marker"] * 2.2,
                    markerfacecolor="none", markeredgecolor=BELOW_FLOOR_COLOR, markeredgewidth=1.4, zorder=6,
                    transform=data, gid="below_floor")
        if p[3].unstable:
            drawn.unstable = True
            ax.annotate("?", (p[0], p[1]), xytext=(shift * 72, 7), textcoords="offset points", ha="center",
                        va="bottom", color=color, fontweight="bold", zorder=6)


def draw_lines(ax, chart_cases, x_field, y_field, *, band_field=None):
    """One line per (transport, model) through the aggregate medians of `y_field` against `x_field`.

    Colour = transport, line style and marker = model. Optional shaded band from the line up to `band_field`.
    Oversubscribed points are hollow, unstable ones get a "?" above them, points beyond their round's hardware
    floor (below_floor) a red ring, failed cases an x at the bottom.
    If serializer/wait/placement/rate/lock vary among the cases, they split lines too, appear in the labels and
    shade the transport's colour among its own lines (its first value the colour itself, the others lighter or
    darker).
    When every case sits at one x (a run of one message size), the points are spread sideways so that close
    values do not hide each other, and the band becomes a bar from the point up to `band_field`.
    """
    drawn = Drawn()
    one_column = len({number(c.ident.get(x_field)) for c in chart_cases}) == 1
    extra = [d for d in _EXTRA_DIMS if len({c.ident.get(d) for c in chart_cases}) > 1]
    groups = {}
    for c in chart_cases:
        groups.setdefault(_line_key(c, extra), []).append(c)
    extra_order = sorted({k[2] for k in groups}, key=lambda label: (label.replace("lock none", ""), label))
    bottom = blended_transform_factory(ax.transData, ax.transAxes)
    band_alpha = max(0.04, 0.13 * min(1.0, 6 / max(1, len(groups))))  # many overlapping bands turn to mud
    ordered = sorted(groups, key=lambda k: (style.order_key(style.TRANSPORT_COLORS, k[0]),
                                            style.order_key(style.MODEL_STYLES, k[1]), extra_order.index(k[2])))
    for index, key in enumerate(ordered):
        # One column: each series a little to the side of the last (in inches, so the same on any axis scale).
        shift = 0.18 * (index - (len(ordered) - 1) / 2) if one_column else 0.0
        data = ax.transData + ScaledTranslation(shift, 0, ax.figure.dpi_scale_trans) if shift else ax.transData
        # Shaded only among the lines of one transport: one whose extra label never varies (shm-spin always
        # "spins") keeps the colour its legend key shows.
        own = [e for e in extra_order if any(k[0] == key[0] and k[2] == e for k in groups)]
        color = shade(style.transport_color(key[0]), own.index(key[2]))
        drawn.colors[key] = color
        linestyle, marker = style.model_style(key[1])
        points = []
        for c in groups[key]:
            x, y = number(c.ident.get(x_field)), c.value(y_field)
            if c.failed:
                drawn.failed.append(c)
                if x is not None and x > 0:
                    ax.plot([x], [0.02], transform=bottom, marker="x", color=color, linestyle="none", clip_on=False,
                            markersize=style.current()["marker"] * 1.8, markeredgewidth=style.current()["line"],
                            zorder=5)
            elif x is not None and x > 0 and y is not None and y > 0:
                points.append((x, y, c.value(band_field) if band_field else None, c))
                if c.failed_repetitions:
                    drawn.notes.append(f"{case_label(c)}: {c.failed_repetitions} of "
                                       f"{c.failed_repetitions + len(c.ok_iterations)} repetitions failed "
                                       f"({c.error}), value from the others")
        if points or any(c.failed for c in groups[key]):
            drawn.lines.append(key)  # in the legend, also when only its x marks are on the chart
        if not points:
            continue
        drawn.has_data = True
        points.sort(key=lambda p: p[0])
        if shift:  # matplotlib leaves lines drawn through a shifted transform out of the autoscaled range
            ax.update_datalim([(p[0], p[1]) for p in points] + [(p[0], p[2]) for p in points if p[2]])
        ax.plot([p[0] for p in points], [p[1] for p in points], color=color, linestyle=linestyle, zorder=3,
                transform=data)
        _mark_points(ax, drawn, points, (marker, color, shift, data))
        band_pts = [p for p in points if p[2] is not None]
        if one_column and band_pts:
            drawn.band = True
            p = band_pts[0]
            ax.plot([p[0], p[0]], [p[1], p[2]], color=color, alpha=0.45, linewidth=style.current()["line"] * 2.2,
                    solid_capstyle="butt", zorder=2, transform=data)
        elif len(band_pts) > 1:
            drawn.band = True
            ax.fill_between([p[0] for p in band_pts], [p[1] for p in band_pts], [p[2] for p in band_pts],
                            color=color, alpha=band_alpha, linewidth=0, zorder=2)
    return drawn


def failure_notes(drawn_list):
    """Footnote lines for failed cases, first those then the other notes, without duplicates."""
    lines = []
    for drawn in drawn_list:
        lines += [f"failed: {case_label(c)}: {c.error}" for c in drawn.failed]
    for drawn in drawn_list:
        lines += drawn.notes
    return list(dict.fromkeys(lines))


def legend_place(inside):
    """Where a legend goes: filling its axes (inside=True: an empty slot of a grid of panels) or beside them."""
    return {"loc": "center left", "bbox_to_anchor": (0.0, 0.5)} if inside else \
        {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}


def legend(ax, drawn_list, *, band_label=None, panel_per_transport=False, inside=False):
    """Legend outside the right edge: one entry per line (or, with many lines, colours and styles separately),
    then what the special marks mean. Two columns (and if need be a smaller font) when one would not fit.
    With a panel per transport (its title names it) the colours need no key: the models and marks only.
    inside=True: the legend fills `ax` instead (an empty slot of a grid of panels, its axis turned off)."""
    keys = list(dict.fromkeys(k for d in drawn_list for k in d.lines))
    colors = {k: c for d in drawn_list for k, c in d.colors.items()}
    size, width = style.current()["marker"], style.current()["line"]

    def line(transport, model, color=None):
        ls, marker = style.model_style(model)
        return Line2D([], [], color=color or style.transport_color(transport), linestyle=ls, marker=marker)

    def section(title, entries):
        return [(Line2D([], [], linestyle="none"), title, True)] + [(h, text, False) for h, text in entries]

    # An extra label that only ever goes with its transport (shm's "spins, then sleeps") splits no line of
    # its own: with many lines it can go beside the transport's colour, and the legend stays two short keys.
    extra_of = {}
    for t, m, extra in keys:
        extra_of.setdefault(t, set()).add(extra)
    splits = len(keys) != len({(t, m) for t, m, _ in keys}) or any(len(e) > 1 for e in extra_of.values())
    by_model = True  # the models as a key of their own (line style, marker), not in every entry
    if panel_per_transport and not any(k[2] for k in keys):
        lines = []
    elif len(keys) <= 10 or splits:
        by_model = False
        lines = section("transport / model", [(line(t, m, colors.get((t, m, extra))),
                                               f"{t} / {m}" + (f" ({extra})" if extra else ""))
                                              for t, m, extra in keys])
    else:
        lines = section("transport (colour)", [(Line2D([], [], color=style.transport_color(t), linewidth=5),
                                                f"{t} ({extra})" if extra else t)
                                               for t, (extra,) in extra_of.items()])
    models = section("model (line, marker)", [(line(None, m, color="#333333"), m)
                                              for m in dict.fromkeys(k[1] for k in keys)]) if by_model else []
    marks = []
    if band_label and any(d.band for d in drawn_list):
        marks.append((Patch(color="#555555", alpha=0.25, linewidth=0), band_label))
    if any(d.hollow for d in drawn_list):
        marks.append((Line2D([], [], linestyle="none", marker="o", color="#333333", markerfacecolor="white",
                             markeredgewidth=width * 0.8), "hollow: oversubscribed\n(more threads than CPUs)"))
    if any(d.unstable for d in drawn_list):
        marks.append((Line2D([], [], linestyle="none", marker="$?$", color="#333333", markersize=size * 1.4),
                      UNSTABLE_LEGEND))
    if any(d.below_floor for d in drawn_list):
        marks.append((Line2D([], [], linestyle="none", marker="o", markerfacecolor="none",
                             markeredgecolor=BELOW_FLOOR_COLOR, markeredgewidth=1.4, markersize=size * 1.6),
                      "ringed: beyond its round's\nhardware floor (not to be\ntrusted; below_floor_reason)"))
    if any(d.failed for d in drawn_list):
        marks.append((Line2D([], [], linestyle="none", marker="x", color="#333333", markeredgewidth=width,
                             markersize=size * 1.3), "failed (see note below)"))
    others = models + (section("marks", marks) if marks else [])

    def rows(column):
        return sum(text.count("\n") + 1 for _, text, _ in column)

    fontsize = matplotlib.rcParams["legend.fontsize"]
    budget = ax.figure.get_size_inches()[1] * 72 * 0.68 / (fontsize * 1.5)  # rows that fit beside the axes
    columns = [lines + others]
    if rows(columns[0]) > budget * 1.25:  # a little too tall: a smaller font will do
        columns = [lines, others] if others else [lines[:(len(lines) + 1) // 2], lines[(len(lines) + 1) // 2:]]
        blank = (Line2D([], [], linestyle="none"), "", False)
        n = max(len(c) for c in columns)
        columns = [c + [blank] * (n - len(c)) for c in columns]
    scale = min(1.0, budget / max(rows(c) for c in columns))
    entries = [e for c in columns for e in c]
    leg = ax.legend([e[0] for e in entries], [e[1] for e in entries], ncol=len(columns), borderaxespad=0.0,
                    frameon=False, handlelength=2.6, fontsize=fontsize * scale, columnspacing=1.2,
                    **legend_place(inside))
    for text, entry in zip(leg.get_texts(), entries):
        if entry[2]:
            text.set_fontweight("bold")
    return leg


# ---- the hardware floor ---------------------------------------------------------------------------------------

def _round_floors(context, key):
    """The key of every round's floor (context.rounds[i].floor, measured before that round's cases)."""
    values = [number((r.get("floor") or {}).get(key)) for r in context.get("rounds") or [] if isinstance(r, dict)]
    return [v for v in values if v]


def _start_floor(context, key):
    return number((context.get("floor") or {}).get(key))


def latency_floor(context):
    """(ns, how many rounds) of the cache-line round trip to draw: the LOWEST of the rounds' floors, so that no
    unflagged median crosses it (each repetition is at or above its own round's floor); the run-start figure
    (0 rounds) for results written before floors were measured per round."""
    rounds = _round_floors(context, "c2c_round_trip_ns")
    if rounds:
        return min(rounds), len(rounds)
    start = _start_floor(context, "c2c_round_trip_ns")
    one_way = _start_floor(context, "c2c_one_way_ns")
    start = start or (2 * one_way if one_way else None)
    return (start, 0) if start else (None, 0)


def streaming_ceiling(context):
    """(GB/s, how many rounds) of cross-core streaming to draw: the HIGHEST of the rounds' figures, as above."""
    rounds = _round_floors(context, "xcore_gbps")
    if rounds:
        return max(rounds), len(rounds)
    start = _start_floor(context, "xcore_gbps")
    return (start, 0) if start else (None, 0)


def floor_source(rounds, extreme):
    """How a floor line's label says where its figure comes from."""
    return f"{extreme} of {rounds} rounds" if rounds > 1 else ("its round" if rounds == 1 else "run start")


# ---- axes ----------------------------------------------------------------------------------------------------

def log_axis(axis, fmt):
    """Log scale with readable major ticks 1-2-5 or decades depending on the range, labelled by `fmt`.
    Call after everything is plotted (it reads the autoscaled range)."""
    axis.axes.autoscale_view()
    lo, hi = sorted(axis.get_view_interval())
    subs = (1.0,)
    if lo > 0 and hi > 0:
        def ticks(subs):
            return sum(1 for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
                       for m in subs if lo <= m * 10.0 ** e <= hi)
        # The sparsest labelling that still gives at least 4 labels.
        candidates = [(1.0,), (1.0, 3.0), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0, 7.0), tuple(range(1, 10))]
        subs = next((c for c in candidates if ticks(c) >= 4), candidates[-1])
    axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=30))
    axis.set_major_formatter(fmt)
    axis.set_minor_locator(LogLocator(base=10, subs="auto", numticks=30))
    axis.set_minor_formatter(NullFormatter())


def log2_axis(axis, values, fmt, max_ticks=9):
    """Log base 2 with ticks at the values the data has (every 2nd, 3rd... if there are too many)."""
    axis.axes.set_xscale("log", base=2) if axis is axis.axes.xaxis else axis.axes.set_yscale("log", base=2)
    values = sorted(set(v for v in values if v and v > 0))
    values = values[::math.ceil(len(values) / max_ticks)] if values else values
    axis.set_major_locator(FixedLocator(values))
    # On the x axis a label too close to the one before it (eventfd's 32 B beside 64 B) goes a line lower,
    # instead of printing over it.
    labels, lowered = {}, False
    span = math.log(values[-1] / values[0]) if len(values) > 1 else 0
    for prev, v in zip([None] + values, values):
        lowered = (axis is axis.axes.xaxis and prev is not None and not lowered
                   and math.log(v / prev) < 0.09 * span)
        labels[v] = ("\n" if lowered else "") + fmt(v)
    axis.set_major_formatter(FuncFormatter(lambda v, pos: labels.get(v, fmt(v))))
    axis.set_minor_locator(NullLocator())


def reference_line(ax, y, label):
    """A grey horizontal line with its label written on it (left end), e.g. a hardware floor. Returns both (the
    line and its label), for labels placed later to keep off them."""
    line = ax.axhline(y, color="#666666", linestyle=(0, (2, 2)), linewidth=style.current()["line"] * 0.8, zorder=1)
    text = ax.annotate(label, (0.01, y), xycoords=("axes fraction", "data"), xytext=(0, 3),
                       textcoords="offset points", ha="left", va="bottom", color="#444444",
                       fontsize=style.current()["small"], zorder=1)
    return line, text


# ---- figure --------------------------------------------------------------------------------------------------

_LINE = 1.3  # line height in font sizes


def figure(ncols=1, sharey=False, nrows=1):
    """A figure and its axes as a flat list, row by row."""
    fig, axes = plt.subplots(nrows, ncols, sharey=sharey, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def hosts_title(title, context):
    """A two-host run (bench run ipc --peer) says which way the data went: "A to B: <title>", A the client
    (where round trips are measured), B the machine that ran bench serve."""
    peer = context.get("peer") or {}
    if not peer.get("host_name"):
        return title
    return f"{context.get('host_name') or 'client'} to {peer['host_name']}: {title}"


def finish(fig, title, context, caption=None, notes=(), max_notes=4):
    """Title, caption (what exactly is plotted) and machine subtitle on top; footnotes (failures, caveats) and
    provenance at the bottom; the axes are laid out (constrained layout) in the space between."""
    s = style.current()
    width_in, height_in = fig.get_size_inches()
    machine, warning = style.subtitle(context)
    title = hosts_title(title, context)

    def wrap(text, size):
        return textwrap.wrap(text, width=max(20, int(width_in * 72 / (size * 0.55))))

    def fit(text, size):  # one line, truncated
        lines = wrap(text, size)
        return lines[0] + (" ..." if len(lines) > 1 else "") if lines else ""

    y = 1.0 - 0.012
    head = [(line, s["title"], "bold", "black") for line in wrap(title, s["title"])]
    head += [(line, s["small"] + 1, "normal", "#222222") for line in wrap(caption or "", s["small"] + 1)]
    head += [(line, s["small"], "normal", "#555555") for line in wrap(machine, s["small"])]
    if warning:
        head += [(line, s["small"], "bold", "#c00000") for line in wrap(warning, s["small"])]
    for text, size, weight, color in head:
        fig.text(0.012, y, text, ha="left", va="top", fontsize=size, fontweight=weight, color=color)
        y -= size * _LINE / (height_in * 72)
    top = y - 0.01

    notes = list(notes)
    if len(notes) > max_notes:
        notes = notes[:max_notes - 1] + [f"... and {len(notes) - max_notes + 1} more (see results.json)"]
    foot = [fit(n, s["small"] * 0.9) for n in notes]
    provenance = " · ".join(str(v) for v in (
        f"bench {context['git_revision']}" if context.get("git_revision") else None,
        context.get("date"), context.get("command_line")) if v)
    y = 0.012
    for text in reversed(foot):
        fig.text(0.012, y, text, ha="left", va="bottom", fontsize=s["small"] * 0.9, color="#333333")
        y += s["small"] * 0.9 * _LINE / (height_in * 72)
    # Wrapped: a long command line would otherwise run off the left edge.
    for text in reversed(wrap(provenance, s["small"] * 0.8) if provenance else []):
        fig.text(0.988, y, text, ha="right", va="bottom", fontsize=s["small"] * 0.8, color="#888888")
        y += s["small"] * 0.8 * _LINE / (height_in * 72)
    bottom = y + 0.005
    fig.set_layout_engine("constrained", rect=(0.0, bottom, 1.0, top - bottom), w_pad=0.08, h_pad=0.08)


def discard(fig):
    """Closes a figure that will not be saved (no data); returns None for the chart functions."""
    plt.close(fig)


def save(fig, run_dir, name, formats):
    """Writes name.<fmt> for every format into run_dir; returns the paths."""
    paths = []
    for fmt in formats:
        path = Path(run_dir) / f"{name}.{fmt}"
        # No dates or versions in the files: the same results.json gives byte-identical charts.
        metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt)
        fig.savefig(path, format=fmt, metadata=metadata)
        paths.append(str(path))
    plt.close(fig)
    return paths


def draw_suite(doc, run_dir, formats, suite, charts):
    """Every chart of `charts` (name -> function(cases, context) returning a figure or None) over the cases of
    `suite`, saved into run_dir; returns the written paths. The body of each suite module's plot()."""
    all_cases = [c for c in cases(doc) if c.ident.get("suite", suite) == suite]
    paths = []
    for name, chart in charts.items():
        fig = chart(all_cases, doc["context"])
        if fig is not None:
            paths += save(fig, run_dir, name, formats)
    return paths
