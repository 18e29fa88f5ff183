"""Charts of the serialize suite: per message shape, the time of each phase per serializer (log axis) with the
bytes on the wire beside it, and one summary of the whole round trip for every shape.

Rows come from results.json only: run_name serialize/serializer:S/shape:H/phase:P, the aggregate median of the
headline time (context.serialize.headline_time: cpu_time, or real_time for older files) and wire_bytes;
ratio_to_raw and unstable (cpu_unstable in older files) are read from the median rows when present.
"""
import math

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, NullLocator

from . import common, style

SHAPES = ("small", "medium", "large")
SHAPE_TITLES = {
    "small": "Small message: time per step and bytes on the wire",
    "medium": "Medium message: time per step and bytes on the wire",
    "large": "Large message: time per step and bytes on the wire",
}
SHAPE_CAPTIONS = {
    "small": "A market tick: 4 integers, a double and a short symbol (48 bytes as a C struct)",
    "medium": "An order book: a nested header and 2 x 20 nested price levels (~1 KiB as a C struct)",
    "large": "1000 int64 of mixed magnitude + 100 strings of 80-100 chars (thekvs/cpp-serializers' record)",
}
# The four steps, serializing side in blues, deserializing side in oranges: dark = the step usually quoted.
PHASES = (
    ("build", "build: C++ struct to library object", "#9ecae1"),
    ("encode", "encode: object to bytes", "#2171b5"),
    ("decode", "decode: bytes to object (validated)", "#e6550d"),
    ("traverse", "traverse: read every field", "#fdae6b"),
)


def _serializers(shape_cases, context):
    """Serializers in the order of the run (the registry's: raw first), from the context or the rows."""
    order = list((context.get("serialize") or {}).get("serializers") or {})
    seen = list(dict.fromkeys(c.ident.get("serializer") for c in shape_cases if c.ident.get("serializer")))
    return [s for s in order if s in seen] + [s for s in seen if s not in order]


def _time_field(context):
    return (context.get("serialize") or {}).get("headline_time", "real_time")


def _time_label(context):
    return "CPU time per message" if _time_field(context) == "cpu_time" else "time per message"


def _unstable(case, context):
    median = case.median or {}
    # Results of schema 1: "unstable" described real_time, cpu_unstable the headline; now unstable describes it.
    if "cpu_unstable" in median and _time_field(context) == "cpu_time":
        return bool(median["cpu_unstable"])
    return case.unstable


def _repetitions(context):
    reps = (context.get("serialize") or {}).get("repetitions")
    what = " of the thread's CPU time" if _time_field(context) == "cpu_time" else ""
    return (f"median of {reps} repetitions" if reps else "median of the repetitions") + what


def _label(case, value, context):
    text = style.fmt_time(value) if value >= 10 else f"{value:.2g} ns"
    ratio = common.number((case.median or {}).get("ratio_to_raw"))
    if ratio is not None and case.ident.get("serializer") != "raw":
        text += f"  x{ratio:.2g}" if ratio < 10 else f"  x{ratio:.0f}"
    return text + (" ?" if _unstable(case, context) else "")


def _time_rows_axis(ax, names, values, label_room, narrow=False):
    """One row per serializer (first at the top) against a log time axis that leaves `label_room` decades to
    the right of the longest bar for its label; a narrow panel labels every other decade only."""
    ax.set_xscale("log")
    lo, hi = math.floor(math.log10(min(values)) - 0.05), math.log10(max(values)) + label_room
    ax.set_xlim(10 ** lo, 10 ** hi)
    common.log_axis(ax.xaxis, style.TIME)
    if narrow and hi - lo > 3:
        ax.xaxis.set_major_locator(FixedLocator([10.0 ** e for e in range(lo, math.ceil(hi) + 1, 2)]))
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.yaxis.set_minor_locator(NullLocator())
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)


def shape_chart(all_cases, context, shape):
    chart = common.select(all_cases, shape=shape)
    names = _serializers(chart, context)
    if not names:
        return None
    s = style.current()
    # Tall enough that the four bars of every serializer keep their labels apart.
    bar_in = s["small"] * 0.75 * 1.35 / 72
    height = max(s["figsize"][1], 2.8 + len(names) * len(PHASES) * bar_in)
    fig, (ax, wire_ax) = plt.subplots(1, 2, figsize=(s["figsize"][0], height), gridspec_kw={"width_ratios": [3.3, 1]})

    by_key = {(c.ident.get("serializer"), c.ident.get("phase")): c for c in chart}
    bar = 0.8 / len(PHASES)
    failed, notes, values, any_unstable = [], [], [], False
    for row, name in enumerate(names):
        for k, (phase, _, color) in enumerate(PHASES):
            y = row - 0.4 + bar * (k + 0.5)
            c = by_key.get((name, phase))
            if c is None:
                if phase == "build":
                    ax.annotate("no build step: encodes from the C++ struct", (0.005, y), xycoords=("axes fraction", "data"),
                                va="center", ha="left", fontsize=s["small"] * 0.8, color="#666666", fontstyle="italic")
                continue
            v = c.value(_time_field(context))
            if c.failed or v is None or v <= 0:
                failed.append(c)
                ax.annotate(f"{phase} FAILED", (0.005, y), xycoords=("axes fraction", "data"), va="center",
                            ha="left", fontsize=s["small"] * 0.8, color="#c00000", fontweight="bold")
                continue
            if c.failed_repetitions:
                notes.append(f"{name} {phase}: {c.failed_repetitions} repetitions failed ({c.error}), "
                             "value from the others")
            any_unstable |= _unstable(c, context)
            values.append(v)
            ax.barh(y, v, height=bar * 0.92, color=color, zorder=3)
            ax.annotate(_label(c, v, context), (v, y), xytext=(3, 0), textcoords="offset points", va="center", ha="left",
                        fontsize=s["small"] * 0.75, color="#222222", zorder=4)
    if not values:
        return common.discard(fig)
    _time_rows_axis(ax, names, values, label_room=1.1)
    for row in range(1, len(names)):
        ax.axhline(row - 0.5, color="#dddddd", linewidth=0.8, zorder=1)
    ax.set_xlabel(f"{_time_label(context)} (log scale, lower is better)")

    wire = []
    for name in names:
        c = next((by_key[(name, p)] for p, _, _ in PHASES + (("roundtrip", "", ""),) if (name, p) in by_key), None)
        wire.append(common.number(c.value("wire_bytes")) if c else None)
    for row, (name, b) in enumerate(zip(names, wire)):
        if b is None:
            continue
        wire_ax.barh(row, b, height=0.6, color=style.serializer_color(name), zorder=3)
        wire_ax.annotate(style.fmt_size(b) if b >= 1024 else f"{b:.0f} B", (b, row), xytext=(3, 0),
                         textcoords="offset points", va="center", ha="left", fontsize=s["small"] * 0.8)
    wire_ax.set_ylim(len(names) - 0.5, -0.5)
    wire_ax.set_yticks(range(len(names)))
    wire_ax.set_yticklabels([])
    wire_ax.tick_params(axis="y", length=0)
    wire_ax.grid(axis="y", visible=False)
    known = [b for b in wire if b]
    if known:
        wire_ax.set_xlim(0, max(known) * 1.45)
    wire_ax.xaxis.set_major_locator(FixedLocator(_size_ticks(max(known) * 1.45 if known else 1)))
    wire_ax.xaxis.set_major_formatter(style.SIZE)
    wire_ax.set_xlabel("bytes on the wire")

    handles = [Patch(color=color, label=label) for _, label, color in PHASES]
    if any_unstable:
        handles.append(Patch(color="white", label="?: " + common.UNSTABLE_LEGEND.replace("\n", " ")))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=2, frameon=False,
              borderaxespad=0.0, fontsize=matplotlib.rcParams["legend.fontsize"])
    failed_notes = [f"failed: {c.ident.get('serializer')} {c.ident.get('phase')}: {c.error}" for c in failed]
    common.finish(fig, SHAPE_TITLES.get(shape, f"{shape} message: time per step and bytes on the wire"), context,
                  f"{SHAPE_CAPTIONS.get(shape, shape)}. Each step timed alone on one pinned CPU, "
                  f"{_repetitions(context)}; xN = N times raw's time for the same step. Zero-copy formats "
                  "(capnp, flatbuffers) do their work in build and traverse, not in encode and decode.",
                  failed_notes + notes)
    return fig


def _size_ticks(top):
    """0 and one or two round sizes below `top`: decimal steps under 1 KiB, binary ones above."""
    steps = [1, 2, 5, 10, 20, 50, 100, 200, 500] + [1024 * 2 ** k for k in range(20)]
    step = next((st for st in steps if top / st <= 2.6), steps[-1])
    return [step * k for k in range(int(top // step) + 1)]


def roundtrip_chart(all_cases, context):
    """Small multiples: the whole round trip (build + encode + decode + traverse) per serializer, one panel per
    shape, so the shapes can be compared at a glance."""
    shapes = [h for h in SHAPES if common.select(all_cases, shape=h, phase="roundtrip")]
    if not shapes:
        return None
    s = style.current()
    fig, axes = common.figure(ncols=len(shapes))
    failed = []
    drew = False
    for ax, shape in zip(axes, shapes):
        chart = common.select(all_cases, shape=shape, phase="roundtrip")
        names = _serializers(chart, context)
        by_name = {c.ident.get("serializer"): c for c in chart}
        values = []
        for row, name in enumerate(names):
            c = by_name[name]
            v = c.value(_time_field(context))
            if c.failed or v is None or v <= 0:
                failed.append(c)
                ax.annotate("FAILED", (0.02, row), xycoords=("axes fraction", "data"), va="center",
                            fontsize=s["small"] * 0.8, color="#c00000", fontweight="bold")
                continue
            values.append(v)
            ax.barh(row, v, height=0.7, color=style.serializer_color(name), zorder=3)
            ax.annotate(_label(c, v, context), (v, row), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize=s["small"] * 0.75)
        if not values:
            continue
        drew = True
        _time_rows_axis(ax, names, values, label_room=1.2, narrow=True)
        ax.set_title(shape, loc="left")
        ax.set_xlabel("per message (log scale)")
    if not drew:
        return common.discard(fig)
    common.finish(fig, "Round trip per message, by serializer and shape", context,
                  f"build + encode + decode + traverse of one message on one pinned CPU, {_repetitions(context)}; "
                  "xN = N times raw's round trip; lower is better",
                  [f"failed: {c.ident.get('serializer')} {c.ident.get('shape')}: {c.error}" for c in failed])
    return fig


# ---- sentences for plots/report.py ---------------------------------------------------------------------------

def _measured(all_cases, context, **criteria):
    """[(serializer, case, headline time)] of the successful cases matching the criteria."""
    field = _time_field(context)
    out = []
    for c in common.select(all_cases, **criteria):
        v = c.value(field)
        if not c.failed and v is not None and v > 0:
            out.append((c.ident.get("serializer"), c, v))
    return out


def _vs_raw(case):
    ratio = common.number((case.median or {}).get("ratio_to_raw"))
    return f" ({style.fmt_factor(ratio)} raw's)" if ratio is not None and case.ident.get("serializer") != "raw" else ""


def _describe_shape(all_cases, context, shape):
    what = "CPU time" if _time_field(context) == "cpu_time" else "time"
    trips = sorted(_measured(all_cases, context, shape=shape, phase="roundtrip"), key=lambda p: p[2])
    said = []
    if trips:
        (fast, fc, ft), (slow, sc, st) = trips[0], trips[-1]
        said.append(f"A whole round trip of one {shape} message (build, encode, decode and read every field) took "
                    f"{style.fmt_time(ft)} of {what} with {fast}{_vs_raw(fc)} and {style.fmt_time(st)} with {slow}"
                    f"{_vs_raw(sc)}.")
    decodes = {name: v for name, _, v in _measured(all_cases, context, shape=shape, phase="decode")}
    reads = {name: v for name, _, v in _measured(all_cases, context, shape=shape, phase="traverse")}
    lazy = [n for n in ("capnp", "flatbuffers") if n in decodes and n in reads and reads[n] > decodes[n]]
    if lazy:
        said.append("Zero-copy formats move the work: " + "; ".join(
            f"{n} decodes in {style.fmt_time(decodes[n])} but reading every field then takes "
            f"{style.fmt_time(reads[n])}" for n in lazy) + ".")
    wire = {}
    for name, c, _ in _measured(all_cases, context, shape=shape):
        b = common.number(c.value("wire_bytes"))
        if b:
            wire[name] = b
    if len(set(wire.values())) > 1:
        def size(b):
            return style.fmt_size(b) if b >= 1024 else f"{b:.0f} B"

        def who(b):
            return " and ".join(n for n in wire if wire[n] == b)

        lo, hi = min(wire.values()), max(wire.values())
        said.append(f"On the wire the message took {size(lo)} with {who(lo)} and {size(hi)} with {who(hi)}"
                    + (f"; raw's fixed layout {size(wire['raw'])}" if wire.get("raw") not in (None, lo, hi) else "")
                    + ".")
    return said


def _describe_roundtrip(all_cases, context):
    said = []
    for shape in SHAPES:
        trips = {n: (c, v) for n, c, v in _measured(all_cases, context, shape=shape, phase="roundtrip")}
        if "raw" in trips and len(trips) > 1:
            others = sorted((v, n) for n, (c, v) in trips.items() if n != "raw")
            said.append(f"{shape.capitalize()} message: raw's round trip took {style.fmt_time(trips['raw'][1])}, the "
                        f"others {style.fmt_factor(others[0][0] / trips['raw'][1])} ({others[0][1]}) to "
                        f"{style.fmt_factor(others[-1][0] / trips['raw'][1])} ({others[-1][1]}) as long.")
    return said


def describe(chart_name, doc):
    """The sentences plots/report.py prints under chart `chart_name` of this run, computed from the rows."""
    all_cases = [c for c in common.cases(doc) if c.ident.get("suite", "serialize") == "serialize"]
    if chart_name == "serialize_roundtrip":
        return _describe_roundtrip(all_cases, doc["context"])
    shape = chart_name.removeprefix("serialize_")
    return _describe_shape(all_cases, doc["context"], shape) if shape in SHAPES else []


# Chart name (the file name, without extension) -> function(cases, context) returning a figure or None.
CHARTS = {
    **{f"serialize_{shape}": (lambda all_cases, context, shape=shape: shape_chart(all_cases, context, shape))
       for shape in SHAPES},
    "serialize_roundtrip": roundtrip_chart,
}


def plot(doc, run_dir, formats):
    """Draws every serialize chart that has data; returns the written paths."""
    return common.draw_suite(doc, run_dir, formats, "serialize", CHARTS)
