"""The end-to-end serialization chart of `bench run ipc --serializers`: where a round trip goes.

One figure per message shape; one panel per transport (and model); in each, one stacked horizontal bar per
serializer: serialize (both encodes) | transport (the rest) | deserialize (both decodes), the medians per round
trip that the ipc rows carry (serialize_ns, transport_ns, deserialize_ns), on a linear time axis: the point is
how the parts compare, and a log axis would hide it. A thin black mark on each bar is the median round trip
itself (rtt_p50_ns), which the label beside the bar quotes: the medians of the parts need not add up to it
exactly (each is the median over the repetitions of its own figure).
"""
import matplotlib
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from . import common, style
from .serialize import SHAPE_CAPTIONS, SHAPES
# (field, legend label, colour): the serializing side in blue, the deserializing side in orange, as in the
# serialize suite's charts; the transport in grey, between them.
PARTS = (
    ("serialize_ns", "serialize: build + encode (request and reply)", "#2171b5"),
    # The rest includes waking a reader that fell asleep while its peer serialized (an adaptive or blocking
    # transport): that is why the grey part grows with a slow serializer.
    ("transport_ns", "transport: the rest (bench's framing, and waking\na reader that slept while its peer serialized)",
     "#b0b0b0"),
    ("deserialize_ns", "deserialize: decode + read every field (both)", "#e6550d"),
)
MAX_PANELS = 6
MODEL_PREFERENCE = ("thread", "process", "async", "async-uring")


def serialized_cases(all_cases):
    """The ipc cases of a --serializers run: those that name a message shape."""
    return [c for c in all_cases if c.ident.get("shape") and c.ident.get("workload", "latency") == "latency"]


def _order(context, names):
    order = list(context.get("serializer_descriptions") or {})
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order),
                                        style.order_key(style.SERIALIZER_COLORS, n)))


def _panels(chart):
    """[(transport, model)] to draw, at most MAX_PANELS, and a note when some were left out."""
    keys = sorted({(str(c.ident.get("transport")), str(c.ident.get("model"))) for c in chart},
                  key=lambda k: (style.order_key(style.TRANSPORT_COLORS, k[0]), style.order_key(style.MODEL_STYLES, k[1])))
    if len(keys) <= MAX_PANELS:
        return keys, None
    best = {}
    for t, m in keys:  # one model per transport: a thread where there is one
        rank = MODEL_PREFERENCE.index(m) if m in MODEL_PREFERENCE else len(MODEL_PREFERENCE)
        if t not in best or rank < best[t][0]:
            best[t] = (rank, m)
    kept = [(t, best[t][1]) for t in dict.fromkeys(t for t, _ in keys)][:MAX_PANELS]
    return kept, f"{len(keys) - len(kept)} more transport/model panels are in results.json, not drawn"


def _values(case):
    parts = [case.value(f) for f, _, _ in PARTS]
    if case.failed or any(v is None or v < 0 for v in parts) or sum(parts) <= 0:
        return None
    return parts


def _percent(share):
    """12%, or 0.3% below one percent (a share that rounds to 0% is still not none)."""
    return f"{share:.1f}%" if share < 1 else f"{share:.0f}%"


def _round_trip(case, parts):
    """The median round trip as measured whole (what the label and the sentences quote); the sum of the parts'
    medians only for rows without it. The two differ where the repetitions disagree."""
    return case.value("rtt_p50_ns") or sum(parts)


def _bar_label(case, parts, raw_total):
    total = _round_trip(case, parts)
    text = f"{style.fmt_time(total)}  {_percent(100 * (parts[0] + parts[2]) / total)} serializing"
    if raw_total and case.ident.get("serializer") != "raw":
        text += f"  {style.fmt_factor(total / raw_total)} raw"
    return text + (" ?" if case.unstable else "")


def _draw_bar(ax, row, case, parts, raw_total):
    """One serializer's stacked bar of the round trip's parts, the measured round trip's tick and the label;
    returns where the bar (or the tick) ends."""
    left = 0.0
    for v, (_, _, color) in zip(parts, PARTS):
        ax.barh(row, v, left=left, height=0.62, color=color, edgecolor="white", linewidth=0.6, zorder=3)
        left += v
    rtt = case.value("rtt_p50_ns")
    if rtt:
        ax.plot([rtt, rtt], [row - 0.4, row + 0.4], color="black", linewidth=style.current()["line"] * 0.7,
                zorder=4)
    end = max(left, rtt or 0)
    ax.annotate(_bar_label(case, parts, raw_total), (end, row), xytext=(5, 0), textcoords="offset points",
                va="center", ha="left", fontsize=style.current()["small"] * 0.8, color="#222222", zorder=5)
    return end


def _panel_axes(ax, names, right, title):
    """A panel's axes: one row per serializer, top to bottom, a linear time axis with room for the labels."""
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.set_xlim(0, (right or 1) * 1.75)  # room for the labels right of the longest bar
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=3))
    ax.xaxis.set_major_formatter(style.TIME)
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlabel("time per round trip (linear)")


def shape_chart(all_cases, context, shape):
    chart = common.select(serialized_cases(all_cases), shape=shape)
    if not chart:
        return None
    panels, left_out = _panels(chart)
    s = style.current()
    ncols = min(2, len(panels))
    nrows = -(-len(panels) // ncols)
    names = _order(context, {str(c.ident.get("serializer")) for c in chart})
    # A row of its own above the panels for the legend (matplotlib 3.6's constrained layout places no figure
    # legend), then the panels, tall enough for one bar and its label per serializer.
    fig = plt.figure(figsize=(s["figsize"][0], max(s["figsize"][1], 3.6 + nrows * (0.9 + 0.55 * len(names)))))
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[0.9] + [0.9 + 0.55 * len(names)] * nrows)
    legend_ax = fig.add_subplot(grid[0, :])
    legend_ax.axis("off")
    axes = [fig.add_subplot(grid[1 + i // ncols, i % ncols]) for i in range(nrows * ncols)]
    failed, notes, drew, any_unstable, wire = [], [], False, False, {}
    for ax, (transport, model) in zip(axes, panels):
        panel = {str(c.ident.get("serializer")): c for c in chart
                 if str(c.ident.get("transport")) == transport and str(c.ident.get("model")) == model}
        raw = _values(panel["raw"]) if "raw" in panel else None
        raw_total = _round_trip(panel["raw"], raw) if raw else None
        right = 0.0
        for row, name in enumerate(names):
            c = panel.get(name)
            if c is None:
                continue
            parts = _values(c)
            if parts is None:
                failed.append(c)
                ax.annotate("FAILED (see note below)", (0.01, row), xycoords=("axes fraction", "data"), va="center",
                            ha="left", fontsize=s["small"] * 0.85, color="#c00000", fontweight="bold")
                continue
            drew = True
            any_unstable |= c.unstable
            if c.failed_repetitions:
                notes.append(f"{transport}/{model} {name}: {c.failed_repetitions} repetitions failed ({c.error}), "
                             "values from the others")
            wire[name] = common.number(c.value("wire_bytes"))
            right = max(right, _draw_bar(ax, row, c, parts, raw_total))
        _panel_axes(ax, names, right, f"{transport}, {model} model")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if not drew and not failed:
        return common.discard(fig)
    handles = [Patch(color=color, label=label) for _, label, color in PARTS]
    handles.append(Line2D([], [], color="black", linewidth=style.current()["line"] * 0.7,
                          label="median round trip, measured whole"))
    if any_unstable:
        handles.append(Patch(color="white", label="?: " + common.UNSTABLE_LEGEND.replace("\n", " ")))
    legend_ax.legend(handles=handles, loc="center left", ncol=2, frameon=False, borderaxespad=0.0,
                     fontsize=matplotlib.rcParams["legend.fontsize"])
    sizes = ", ".join(f"{n} {style.fmt_size(b) if b >= 1024 else f'{b:.0f} B'}" for n, b in wire.items() if b)
    where = {"cross": "ends on different cores", "same": "both ends on one core", "os": "ends unpinned"}.get(
        context.get("placement"), "")
    models = list(dict.fromkeys(m for _, m in panels))
    transports = list(dict.fromkeys(t for t, _ in panels))
    title_where = (f"{' vs '.join(transports)}, {models[0]} model" if len(models) == 1 and len(transports) <= 3
                   else "per transport and model")
    caption = (f"{SHAPE_CAPTIONS.get(shape, shape)}. The client encodes, the server decodes and reads every field, "
               f"encodes its reply, the client decodes that; medians per round trip"
               f"{', ' + where if where else ''}." + (f" On the wire: {sizes}." if sizes else ""))
    common.finish(
        fig, f"{shape.capitalize()} message round trip: {title_where}", context, caption,
        [f"failed: {c.ident.get('transport')}/{c.ident.get('model')} {c.ident.get('serializer')}: {c.error}"
         for c in failed] + notes + ([left_out] if left_out else []))
    return fig


# Chart name (the file name, without extension) -> function(cases, context) returning a figure or None.
CHARTS = {f"ipc_serialize_{shape}": (lambda all_cases, context, shape=shape: shape_chart(all_cases, context, shape))
          for shape in SHAPES}


def plot(all_cases, context, run_dir, formats):
    """Draws the chart of every shape that has data; returns the written paths."""
    paths = []
    for name, chart in CHARTS.items():
        fig = chart(all_cases, context)
        if fig is not None:
            paths += common.save(fig, run_dir, name, formats)
    return paths


# ---- sentences for plots/report.py ---------------------------------------------------------------------------

def describe(chart_name, all_cases, context):
    """What the chart of one shape shows, computed from the same medians; no number is written here."""
    shape = chart_name.removeprefix("ipc_serialize_")
    chart = common.select(serialized_cases(all_cases), shape=shape)
    if not chart:
        return []
    said = []
    panels, _ = _panels(chart)
    for transport, model in panels[:2]:
        rows, trips = {}, {}
        for c in chart:
            if (str(c.ident.get("transport")), str(c.ident.get("model"))) == (transport, model):
                parts = _values(c)
                if parts:
                    rows[str(c.ident.get("serializer"))] = parts
                    trips[str(c.ident.get("serializer"))] = _round_trip(c, parts)
        if not rows:
            continue
        fast = min(trips, key=trips.get)
        slow = max(trips, key=trips.get)

        def share(n):
            return 100 * (rows[n][0] + rows[n][2]) / sum(rows[n])

        text = (f"Over {transport} ({model} model) a {shape} message's round trip took "
                f"{style.fmt_time(trips[fast])} with {fast}, {_percent(share(fast))} of it serializing")
        if slow != fast:
            text += (f", and {style.fmt_time(trips[slow])} with {slow} "
                     f"({style.fmt_factor(trips[slow] / trips[fast])} as long), {_percent(share(slow))} serializing")
        said.append(text + ".")
        if slow != fast and rows[slow][1] > 1.5 * rows[fast][1]:
            said.append(f"The transport part itself grew on {transport}, from {style.fmt_time(rows[fast][1])} with "
                        f"{fast} to {style.fmt_time(rows[slow][1])} with {slow}: what waiting for a busy peer costs "
                        f"depends on how long it is busy, so the transport's share is not a constant of the transport.")
    failed = [c for c in chart if c.failed]
    if failed:
        said.append(f"{len(failed)} case{'s' if len(failed) > 1 else ''} failed: "
                    + "; ".join(f"{common.case_label(c)} ({c.error})" for c in failed) + ".")
    return said
