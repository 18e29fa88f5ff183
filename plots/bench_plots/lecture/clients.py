"""Lesson 4, threads, processes and one event loop as the clients grow past the cores: messages/s and p99."""
from .. import style
from . import facts, slide, sweep

NAME = "clients"
TITLE = "Threads, processes and one event loop as clients grow"
NEEDS = "a pairs sweep (throughput, no work, no lock) of the thread, process and async models on one transport"
FLAGS = "bench run ipc --transports unix --models thread,process,async --sizes 64 --cores 128"
MODELS = ("thread", "process", "async")


def select(cases, context):
    """The throughput sweep (it needs the event loop and another model), and the latency rows beside it."""
    chosen = sweep.choose(cases, "throughput", MODELS, facts.plain_ipc)
    models = {c.ident.get("model") for c in chosen}
    if "async" not in models or len(models) < 2:
        return []
    return chosen + sweep.beside(cases, chosen, "latency", facts.plain_ipc)


def cannot_show(chosen, context):
    return None


def _compare(chosen):
    """(pairs, the event loop's case, the best other model's case) at the most pairs all of them ran."""
    chosen = [c for c in chosen if c.ident.get("workload") == "throughput"]
    models = [m for m in MODELS if any(c.ident.get("model") == m for c in chosen)]
    n = sweep.most_pairs(chosen, models, "msgs_per_s")
    cases = [sweep.at_pairs(chosen, m, n) for m in models]
    loop = next((c for c in cases if c.ident.get("model") == "async"), None)
    others = [c for c in cases if c is not loop]
    best = max(others, key=lambda c: c.value("msgs_per_s"), default=None)
    return n, loop, best


def headline(chosen, context):
    n, loop, best = _compare(chosen)
    r, noise = facts.ratio(loop, best, "msgs_per_s")
    figures = f"{style.fmt_rate(loop.value('msgs_per_s'))} against {style.fmt_rate(best.value('msgs_per_s'))}"
    if noise:
        return f"With {n} clients, one event loop on one thread is within noise of {sweep.SERVING[best.ident['model']]}: {figures} messages/s"
    return (f"With {n} clients, one event loop on one thread delivered {facts.more_or_fewer(r, 'messages/s')} than "
            f"{sweep.SERVING[best.ident['model']]}: {figures}")


def notes(chosen, context):
    n, loop, best = _compare(chosen)
    return ("Each client is a pinned thread of bench streaming to its own server side: a thread per client, a "
            "forked process per client, or one event loop that serves every client from a single thread. Left, "
            "messages per second of all clients together; right, the 99th percentile round trip of the same "
            "set-up ping-ponging. Beyond as many busy threads as CPUs (shaded), threads and processes only take "
            "turns, and every turn is a context switch; the event loop never switches, it just finds more "
            "sockets ready each time it asks. The dotted line is perfect scaling of one client's rate. Point at "
            f"{n} clients: how close the lines are, and at the p99 on the right.")


def draw(sl, chosen, context):
    tp, lat = sl.axes(ncols=2)
    latency = [c for c in chosen if c.ident.get("workload") == "latency"]
    throughput = [c for c in chosen if c.ident.get("workload") == "throughput"]
    for ax, cases, field, fmt, ylabel in ((tp, throughput, "msgs_per_s", style.RATE, "messages/s, all clients"),
                                         (lat, latency, "rtt_p99_ns", style.TIME, "round trip p99 (ping-pong)")):
        groups = [(sweep.SERVING[m], sweep.MODEL_COLORS[m], m, [c for c in cases if c.ident.get("model") == m])
                  for m in MODELS]
        entries = sweep.lines(ax, [g for g in groups if g[3]], field)
        if ax is tp:
            entries.append(sweep.ideal(ax, cases, "thread", field, "ideal: 1 client x clients"))
        if not cases:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no latency rows for this sweep", ha="center", transform=ax.transAxes,
                    fontsize=slide.PT["label"])
            continue
        sweep.axis(ax, cases, "clients")
        slide.log_y(ax, fmt)
        ax.set_ylabel(ylabel)
        sweep.oversubscribed(ax, cases)
        slide.end_labels(ax, entries)
