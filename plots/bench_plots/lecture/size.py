"""Lesson 2, size: messages/s and bytes/s against message size, where the per-message cost ends and copying
begins, beside memcpy from memory and the cross-core streaming floor."""
from .. import common, style
from . import facts, slide

NAME = "size"
TITLE = "Size: per-message cost, then copying"
NEEDS = "one-pair throughput rows (no work, no lock) at two or more message sizes"
FLAGS = "bench run ipc --sizes 64,1K,4K,64K,1M --transports shm,pipe,unix,tcp --models process --filter workload:throughput"
PREFERENCE = ("shm-spin", "shm", "pipe", "unix", "tcp", "zmq-ipc")
MAX_TRANSPORTS = 5


def select(cases, context):
    pool = [c for c in cases if facts.plain_ipc(c) and c.ident.get("workload") == "throughput"
            and c.ident.get("pairs", 1) == 1 and c.ident.get("transport") in PREFERENCE]
    pool = facts.one_model(pool) if pool else []
    swept = [t for t in PREFERENCE
             if len({c.ident.get("msg_bytes") for c in pool if c.ident.get("transport") == t}) >= 2]
    return [c for c in pool if c.ident.get("transport") in swept[:MAX_TRANSPORTS]]


def cannot_show(chosen, context):
    return None


def _ends(chosen):
    """(transport, case at its smallest size, at its largest) of the transport with the most bytes/s at the
    largest size any ran."""
    big = max(c.ident["msg_bytes"] for c in chosen if facts.measured(c, "bytes_per_s"))
    best = max((c for c in chosen if c.ident["msg_bytes"] == big and facts.measured(c, "bytes_per_s")),
               key=lambda c: c.value("bytes_per_s"))
    own = [c for c in chosen if c.ident.get("transport") == best.ident.get("transport")
           and facts.measured(c, "msgs_per_s")]
    return best.ident.get("transport"), min(own, key=lambda c: c.ident["msg_bytes"]), best


def _knee(chosen, transport, small):
    """The largest size at which the transport still delivers at least half its smallest size's messages/s:
    up to there the per-message cost rules."""
    own = sorted((c for c in chosen if c.ident.get("transport") == transport and facts.measured(c, "msgs_per_s")),
                 key=lambda c: c.ident["msg_bytes"])
    knee = small
    for c in own:
        if c.value("msgs_per_s") * 2 < small.value("msgs_per_s"):
            break
        knee = c
    return knee


def headline(chosen, context):
    transport, small, big = _ends(chosen)
    knee = _knee(chosen, transport, small)
    size = style.fmt_size
    rate = style.fmt_bytes_rate(big.value("bytes_per_s"))
    if knee is not small:
        kept, _ = facts.ratio(small, knee, "msgs_per_s")
        return (f"Per-message cost rules up to {size(knee.ident['msg_bytes'])}: {transport}'s messages/s there are "
                f"within {facts.times(kept)} of {size(small.ident['msg_bytes'])}'s; at "
                f"{size(big.ident['msg_bytes'])} copying rules, at {rate}")
    grew = big.ident["msg_bytes"] / small.ident["msg_bytes"]
    fell, _ = facts.ratio(small, big, "msgs_per_s")
    rose, _ = facts.ratio(big, small, "bytes_per_s")
    return (f"By {size(big.ident['msg_bytes'])} copying rules: from {size(small.ident['msg_bytes'])} to {size(big.ident['msg_bytes'])} "
            f"({facts.times(grew)} the bytes) {transport}'s messages/s fell {facts.times(fell)}, its bytes/s rose "
            f"only {facts.times(rose)}, to {rate}")


def notes(chosen, context):
    transport, small, big = _ends(chosen)
    return (f"Left, messages per second; right, the same rows as bytes per second, one pair streaming one way. "
            f"Small messages cost a fixed amount each (a system call, a wake-up, the bookkeeping), so messages/s "
            f"stays nearly flat while bytes/s climbs with the size. Where the left line starts to fall, copying "
            f"the bytes has become the cost, and bytes/s bends towards the references on the right: memcpy from "
            f"memory and the cross-core streaming floor. Point at {transport}: how little its messages/s drops "
            f"from {style.fmt_size(small.ident['msg_bytes'])}, then where its bytes/s meets the references.")


def draw(sl, chosen, context):
    left, right = sl.axes(ncols=2)
    transports = [t for t in PREFERENCE if any(c.ident.get("transport") == t for c in chosen)]
    sizes = sorted({c.ident["msg_bytes"] for c in chosen})
    for ax, field, fmt, ylabel in ((left, "msgs_per_s", style.RATE, "messages per second"),
                                   (right, "bytes_per_s", style.BYTES_RATE, "bytes per second")):
        labels = []
        for t in transports:
            own = [c for c in chosen if c.ident.get("transport") == t]
            labels.append(slide.series(ax, facts.points(own, "msg_bytes", field), style.transport_color(t), t))
        slide.log2_x(ax, sizes, style.fmt_size)
        ax.set_yscale("log")
        ax.set_xlabel("message size (incl. 32-byte header)")
        ax.set_ylabel(ylabel + " (band: repetitions)")
        if ax is right:
            floor = context.get("floor") or {}
            refs = sorted((gbps, label) for key, label in (("memcpy_mem_gbps", "memcpy from memory"),
                                                           ("xcore_gbps", "cross-core streaming"))
                          if (gbps := common.number(floor.get(key))))
            # The lower reference's label goes under its line, so two references close together keep apart.
            for i, (gbps, label) in enumerate(refs):
                slide.reference(ax, gbps * 1e9, f"{label}: {style.fmt_bytes_rate(gbps * 1e9)}",
                                below=len(refs) > 1 and i == 0)
            slide.log_pad(ax, 3)
        common.log_axis(ax.yaxis, fmt)
        slide.end_labels(ax, labels)
