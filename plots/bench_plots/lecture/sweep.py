"""The pairs sweeps the scaling lessons draw (clients, io_uring, locks and a GIL): choosing one transport and
size, drawing one line per series against the pairs, and the words for a series at the most pairs."""
from .. import style
from . import facts, slide

TRANSPORT_ORDER = ("unix", "tcp", "pipe", "shm")
MODEL_COLORS = {"thread": "#d62728", "process": "#1f77b4", "async": "#2ca02c", "async-uring": "#9467bd"}
SERVING = {"thread": "a thread per client", "process": "a process per client", "async": "one epoll event loop",
           "async-uring": "one io_uring event loop"}


def choose(cases, workload, models, keep):
    """The cases of `workload` whose model is among `models` and keep(case) holds, on the one (transport, size)
    where the most models ran at two or more pair counts; [] when none did."""
    groups = {}
    for c in cases:
        if c.ident.get("workload") == workload and c.ident.get("model") in models and keep(c):
            groups.setdefault((c.ident.get("transport"), c.ident.get("msg_bytes")), []).append(c)

    def swept_models(group):
        return sum(1 for m in models if len({c.ident.get("pairs") for c in group if c.ident.get("model") == m}) >= 2)

    def rank(key):
        transport = key[0]
        return (swept_models(groups[key]), -(TRANSPORT_ORDER.index(transport) if transport in TRANSPORT_ORDER
                                             else len(TRANSPORT_ORDER)), -(key[1] or 0))
    best = max(groups, key=rank, default=None)
    return groups[best] if best and swept_models(groups[best]) >= 2 else []


def beside(cases, chosen, workload, keep):
    """The cases of the other workload on the same transport, size and models as `chosen` (the p99 panel)."""
    if not chosen:
        return []
    c0 = chosen[0]
    models = {c.ident.get("model") for c in chosen}
    return [c for c in cases if c.ident.get("workload") == workload and c.ident.get("model") in models and keep(c)
            and c.ident.get("transport") == c0.ident.get("transport")
            and c.ident.get("msg_bytes") == c0.ident.get("msg_bytes")]


def lines(ax, groups, field):
    """One line per series: groups = [(label, colour, model, cases)]. Returns the end-label entries."""
    entries = []
    for label, color, model, cases in groups:
        ls, marker = style.model_style(model)
        entries.append(slide.series(ax, facts.points(cases, "pairs", field), color, label, ls, marker))
        starved = [c.ident.get("pairs") for c in cases if c.failed]
        if starved:
            slide.bottom_marks(ax, starved, color)
    return entries


def at_pairs(cases, model, pairs, extra=None):
    """The case of `model` at `pairs` (and extra(case), if given), or None."""
    return next((c for c in cases if c.ident.get("model") == model and c.ident.get("pairs") == pairs
                 and (extra is None or extra(c))), None)


def most_pairs(cases, models, field):
    """The largest pair count at which every one of `models` has a measured `field`."""
    counts = [p for p in {c.ident.get("pairs") for c in cases}
              if all(any(facts.measured(c, field) for c in cases if c.ident.get("model") == m
                         and c.ident.get("pairs") == p) for m in models)]
    return max(counts, default=None)


def oversubscribed(ax, cases, what="more busy threads than CPUs"):
    """Shades the pairs from the first oversubscribed one on."""
    over = [c.ident["pairs"] for c in cases if c.oversubscribed and c.ident.get("pairs")]
    if over:
        slide.shade_beyond(ax, min(over) / 2 ** 0.5, what)


def axis(ax, cases, xlabel="pairs (clients), each with its own server side"):
    slide.log2_x(ax, [c.ident.get("pairs") for c in cases])
    ax.set_xlabel(xlabel)


def ideal(ax, cases, model, field, label):
    """Perfect scaling from a model's 1-pair rate, dotted; returns its end-label entry."""
    one = at_pairs(cases, model, 1)
    if not one or not facts.measured(one, field):
        return None
    pairs = sorted({c.ident["pairs"] for c in cases if c.ident.get("pairs")})
    ax.plot(pairs, [one.value(field) * p for p in pairs], color=slide.REFERENCE, linestyle=(0, (1, 2)),
            linewidth=3, zorder=1)
    return (pairs[-1], one.value(field) * pairs[-1], label, slide.REFERENCE)
