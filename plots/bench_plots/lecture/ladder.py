"""Lesson 1, the latency ladder: one 64 B round trip per family of mechanism, beside the cache-line floor."""
from .. import common, style
from . import facts, slide

NAME = "latency-ladder"
TITLE = "The latency ladder"
NEEDS = "one-pair 64 B latency rows (no work, no lock) of at least two transport families"
FLAGS = "bench run ipc --sizes 64 --transports shm-spin,shm-eventfd,pipe,unix,tcp,zmq-ipc --models process"
# Family -> its transports in order of preference, with the message size each is asked at (eventfd carries only
# bench's 32-byte header, so it runs at 32 B).
FAMILIES = (
    ("shared-memory ring", (("shm-spin", 64), ("shm", 64), ("mmap", 64))),
    ("futex / eventfd wake-up", (("shm-eventfd", 64), ("eventfd", 32))),
    ("pipe", (("pipe", 64), ("fifo", 64))),
    ("UNIX socket", (("unix", 64), ("unix-seqpacket", 64))),
    ("loopback TCP", (("tcp", 64),)),
    ("ZeroMQ", (("zmq-ipc", 64), ("zmq-tcp", 64), ("zmq-inproc", 64))),
)
WAIT_ORDER = ("block", "adaptive", "spin")
FIELD = "rtt_p50_ns"


def family_of(case):
    t = case.ident.get("transport")
    return next((name for name, members in FAMILIES if any(m[0] == t for m in members)), None)


def select(cases, context):
    pool = [c for c in cases if facts.plain_ipc(c) and c.ident.get("workload") == "latency"
            and c.ident.get("pairs", 1) == 1]
    chosen = []
    for _, members in FAMILIES:
        for transport, size in members:
            found = [c for c in pool if c.ident.get("transport") == transport and c.ident.get("msg_bytes") == size]
            found = facts.one_model(found) if found else []
            if found:
                chosen.append(facts.prefer(found, "wait", WAIT_ORDER))
                break
    return chosen if len(chosen) >= 2 else []


def cannot_show(chosen, context):
    return None


def _ends(chosen):
    """(fastest, the kernel transport it is set against: the pipe where there is one, else the slowest)."""
    ok = [c for c in chosen if facts.measured(c, FIELD)]
    fast = min(ok, key=lambda c: c.value(FIELD))
    pipe = [c for c in ok if family_of(c) == "pipe" and c is not fast]
    slow = pipe[0] if pipe else max(ok, key=lambda c: c.value(FIELD))
    return fast, slow


def _name(case):
    family, transport = family_of(case), case.ident.get("transport")
    return family if family == transport else f"{family} ({transport})"


def headline(chosen, context):
    fast, slow = _ends(chosen)
    r, noise = facts.ratio(slow, fast, FIELD)
    sizes = sorted({c.ident.get("msg_bytes") for c in (fast, slow)})
    figures = (f"{style.fmt_time(slow.value(FIELD))} against {style.fmt_time(fast.value(FIELD))} "
               f"({'/'.join(style.fmt_size(s) for s in sizes)}, p50)")
    if noise:
        return f"A {_name(slow)} round trip and a {_name(fast)} one are within noise: {figures}"
    return f"A {_name(slow)} round trip costs {facts.times(r)} a {_name(fast)} handoff: {figures}"


def notes(chosen, context):
    fast, slow = _ends(chosen)
    return (f"Each bar is one message there and back, the median of {len(fast.iterations)} repetitions, with "
            f"their range as the whisker. The {family_of(fast)} never enters the kernel: the reader polls a cache "
            f"line, so its round trip is a few cache-line transfers, and the dashed line is the hardware's own "
            f"cache-line round trip. From the wake-up family down, the reader sleeps in the kernel and most of "
            f"the cost is waking it on another core, not moving 64 bytes. Point at the gap between the floor "
            f"and the first bar, then at the jump to the {family_of(slow)}.")


def draw(sl, chosen, context):
    (ax,) = sl.axes()
    bars = []
    for c in chosen:
        wait = {"spin": "spins", "adaptive": "spins, then sleeps", "block": "sleeps"}.get(c.ident.get("wait"), "")
        label = f"{family_of(c)}\n{c.ident.get('transport')}, {wait}, {style.fmt_size(c.ident.get('msg_bytes'))}"
        bars.append((label, facts.measured(c, FIELD), slide.reps_range(c, FIELD),
                     style.transport_color(c.ident.get("transport"))))
    slide.hbars(ax, bars, style.fmt_time)
    floor = context.get("floor") or {}
    c2c = common.number(floor.get("c2c_round_trip_ns")) or 2 * (common.number(floor.get("c2c_one_way_ns")) or 0)
    values = [b[1] for b in bars if b[1]] + ([c2c] if c2c else [])
    ax.set_xlim(min(values) / 3, max(v for b in bars if b[2] for v in b[2][1:]) * 6 if any(b[2] for b in bars)
                else max(values) * 6)
    if c2c:
        slide.reference(ax, c2c, f"cache-line round trip\n(hardware floor): {style.fmt_time(c2c)}", vertical=True,
                        where=0.0)
    common.log_axis(ax.xaxis, style.TIME)
    ax.set_xlabel("round trip, p50 (log scale; whisker: range of the repetitions)")
