"""What the lessons ask of the rows: which cases are plain ipc measurements, how two cases compare beyond their
repetitions' spread, and the words for a comparison. Every figure a headline states comes through here from
the medians of the slide's own rows.
"""
from .. import common, style
from . import slide


def field(case, name):
    """A row field of the case (its median row first, then its repetitions), also those common.cases() does not
    collect into the identity (threads, mix, cpu_threads)."""
    return next((r[name] for r in [case.median] + case.iterations if r and r.get(name) is not None), None)


def plain_ipc(case):
    """An ipc case of raw bytes, closed loop, no server work or lock: what the transport itself costs."""
    i = case.ident
    return (i.get("suite", "ipc") == "ipc" and str(i.get("serializer", "none")) in ("none", "raw")
            and not i.get("shape") and not (common.number(i.get("work_ns")) or 0)
            and str(i.get("lock") or "none") == "none" and not (common.number(i.get("rate")) or 0))


def measured(case, field):
    """The case's median of field when it has one (not failed, positive), else None."""
    v = None if case.failed else case.value(field)
    return v if v is not None and v > 0 else None


def within_noise(a, b, field):
    """True when the repetitions of a and b overlap: the difference of their medians is within the spread."""
    ra, rb = slide.reps_range(a, field), slide.reps_range(b, field)
    if not ra or not rb:
        return False
    return ra[0] <= rb[1] and rb[0] <= ra[1]


def ratio(a, b, field):
    """(a's median / b's median, within noise?) of one field, or (None, False) when one is missing."""
    va, vb = measured(a, field), measured(b, field)
    if va is None or vb is None:
        return None, False
    return va / vb, within_noise(a, b, field)


def times(r):
    """"38x" (or "0.52x")."""
    return style.fmt_factor(r)


def more_or_fewer(r, noun):
    """"2.5x more messages" for a ratio of 2.5, "3.3x fewer messages" for 0.3: a factor below one reads badly."""
    return f"{times(r)} more {noun}" if r >= 1 else f"{times(1 / r)} fewer {noun}"


def prefer(cases, key, order):
    """The case whose `key` value comes first in `order` (others after, in their order), or None."""
    ranked = sorted(cases, key=lambda c: order.index(c.ident.get(key)) if c.ident.get(key) in order else len(order))
    return ranked[0] if ranked else None


def one_model(cases, order=("process", "thread", "async", "async-uring")):
    """The cases of the one model most of them can be compared in: the first of `order` that every transport
    among the cases ran, else the most common."""
    transports = {c.ident.get("transport") for c in cases}
    for model in order:
        if transports and all(any(c.ident.get("transport") == t and c.ident.get("model") == model for c in cases)
                              for t in transports):
            return [c for c in cases if c.ident.get("model") == model]
    models = [c.ident.get("model") for c in cases]
    best = max(set(models), key=models.count) if models else None
    return [c for c in cases if c.ident.get("model") == best]


def points(cases, x_field, field):
    """[(x, median, (lo, hi) of the repetitions)] of the measured cases, for slide.series()."""
    out = []
    for c in cases:
        x, v = common.number(c.ident.get(x_field)), measured(c, field)
        if x and v:
            out.append((x, v, slide.reps_range(c, field)))
    return sorted(out)


def at_most(cases, key):
    """The case with the largest `key` identity value."""
    return max(cases, key=lambda c: c.ident.get(key) or 0) if cases else None
