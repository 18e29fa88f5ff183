"""Lesson 6, serialization against transport: encode, transport and decode of one round trip stacked per
serializer over one transport, a small and a large message."""
from matplotlib.ticker import MaxNLocator

from .. import style
from ..ipc_serialize import PARTS, serialized_cases
from . import facts, slide

NAME = "serialization"
TITLE = "Serialization against transport"
NEEDS = "ipc rows of --serializers (serialize_ns, transport_ns, deserialize_ns) over one transport"
FLAGS = "bench run ipc --serializers raw,protobuf,capnp,json --transports shm --models thread"
ORDER = ("raw", "protobuf", "capnp", "flatbuffers", "msgpack", "json")
TRANSPORTS = ("shm", "shm-spin", "unix", "pipe", "tcp")
SHAPES = ("small", "large")
PART_NAMES = ("serialize (both encodes)", "transport (the rest)", "deserialize (both decodes)")


def _parts(case):
    parts = [facts.measured(case, f) for f, _, _ in PARTS]
    return None if any(p is None for p in parts) else parts


def select(cases, context):
    pool = [c for c in serialized_cases(cases) if c.ident.get("shape") in SHAPES
            and c.ident.get("serializer") in ORDER]
    keys = sorted({(c.ident.get("transport"), c.ident.get("model")) for c in pool},
                  key=lambda k: (TRANSPORTS.index(k[0]) if k[0] in TRANSPORTS else len(TRANSPORTS), k[1] != "thread"))
    if not keys:
        return []
    chosen = [c for c in pool if (c.ident.get("transport"), c.ident.get("model")) == keys[0]]
    return chosen if len({c.ident.get("serializer") for c in chosen}) >= 2 else []


def cannot_show(chosen, context):
    return None


def _by(chosen, shape):
    return {c.ident.get("serializer"): c for c in chosen if c.ident.get("shape") == shape}


def headline(chosen, context):
    shape = next(s for s in reversed(SHAPES) if _by(chosen, s))
    rows = {k: c for k, c in _by(chosen, shape).items() if _parts(c)}
    raw = rows.get("raw")
    slow = max(rows.values(), key=lambda c: c.value("rtt_p50_ns"))
    where = f"{shape} message over {chosen[0].ident.get('transport')}"
    pct = f"{slow.value('serialization_pct'):.0f}%"
    if raw is None or slow is raw:
        return f"A {where}: {slow.ident['serializer']} spends {pct} of its round trip serializing"
    r, noise = facts.ratio(slow, raw, "rtt_p50_ns")
    if noise:
        return f"A {where}: every serializer is within noise of raw bytes"
    return (f"A {where}: {slow.ident['serializer']}'s round trip is {facts.times(r)} raw bytes' "
            f"({style.fmt_time(slow.value('rtt_p50_ns'))} against {style.fmt_time(raw.value('rtt_p50_ns'))}), "
            f"{pct} of it serializing")


def notes(chosen, context):
    return ("Each bar is one round trip: the client encodes the request, the server decodes it, reads every "
            "field, encodes its reply, and the client decodes that. Blue is both encodes, orange both decodes, "
            "grey everything else: the transport, bench's framing, and waking a reader that fell asleep while "
            "its peer serialized. The dotted line is raw bytes, no serializer at all. For a small message the "
            "transport dominates and the choice of serializer hardly shows; for a large one a text format "
            "spends most of the round trip turning numbers into digits and back. Point at the grey part: it "
            "is not constant, it grows when the peer is slow.")


def _panel(ax, rows):
    names = [n for n in ORDER if n in rows]
    right = 0.0
    for row, name in enumerate(names):
        parts = _parts(rows[name])
        if parts is None:
            ax.annotate("failed", (0.01, row), xycoords=("axes fraction", "data"), va="center",
                        fontsize=slide.PT["series"], color=slide.CAVEAT, fontweight="bold")
            continue
        left = 0.0
        for v, (_, _, color) in zip(parts, PARTS):
            ax.barh(row, v, left=left, height=0.62, color=color, edgecolor="white", zorder=3)
            left += v
        rtt, span = rows[name].value("rtt_p50_ns"), slide.reps_range(rows[name], "rtt_p50_ns")
        if span:
            ax.errorbar([rtt], [row], xerr=[[rtt - span[0]], [span[1] - rtt]], color="black", capsize=7,
                        linewidth=2, zorder=4)
        end = max(left, (span or (0, rtt))[1])
        right = max(right, end)
        ax.annotate(f"{style.fmt_time(rtt)}, {rows[name].value('serialization_pct'):.0f}% serializing", (end, row),
                    xytext=(10, 0), textcoords="offset points", va="center", fontsize=slide.PT["series"],
                    fontweight="bold", color="#222222")
    if "raw" in rows and _parts(rows["raw"]):
        ax.axvline(rows["raw"].value("rtt_p50_ns"), color=slide.REFERENCE, linestyle=(0, (1, 2)), linewidth=3,
                   zorder=5)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -1.7)  # a free row on top: the key goes there, clear of every bar's label
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.set_xlim(0, (right or 1) * 1.9)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=3))
    ax.xaxis.set_major_formatter(style.TIME)
    ax.set_xlabel("time per round trip (linear; whisker: repetitions)")


def draw(sl, chosen, context):
    shapes = [s for s in SHAPES if _by(chosen, s)]
    axes = sl.axes(ncols=len(shapes))
    for ax, shape in zip(axes, shapes):
        rows = _by(chosen, shape)
        _panel(ax, rows)
        wire = max((rows[n].value("wire_bytes") or 0 for n in rows), default=0)
        ax.set_title(f"{shape} message (up to {style.fmt_size(wire)} on the wire)", loc="left", fontweight="bold",
                     fontsize=slide.PT["label"])
    # The key, once, top right of the last panel: above the short bars, where no label reaches.
    key = [(name, color) for (_, _, color), name in zip(PARTS, PART_NAMES)]
    key[1] = (key[1][0], "#808080")  # the transport's light grey, a shade darker to read as text
    for i, (name, color) in enumerate(key + [("dotted line: raw bytes, no serializer", slide.REFERENCE)]):
        axes[-1].annotate(name, (0.99, 0.99), xytext=(0, -i * slide.px(slide.PT["series"]) * 1.1),
                          textcoords="offset pixels", xycoords="axes fraction", va="top", ha="right",
                          fontsize=slide.PT["series"], color=color, fontweight="bold")
