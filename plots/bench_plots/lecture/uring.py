"""Lesson 5, io_uring against epoll: one event loop each, as the messages in flight (the pairs) grow."""
from .. import style
from . import facts, slide, sweep

NAME = "io-uring-vs-epoll"
TITLE = "io_uring against epoll"
NEEDS = "a pairs sweep (no work, no lock) of the async and async-uring models on one transport"
FLAGS = "bench run ipc --transports unix,tcp --models async,async-uring --sizes 64 --cores 128"
MODELS = ("async", "async-uring")


def select(cases, context):
    chosen = sweep.choose(cases, "throughput", MODELS, facts.plain_ipc)
    if {c.ident.get("model") for c in chosen} != set(MODELS):
        return []
    return chosen + sweep.beside(cases, chosen, "latency", facts.plain_ipc)


def cannot_show(chosen, context):
    return None


def _at_most(chosen, workload, field):
    cases = [c for c in chosen if c.ident.get("workload") == workload]
    n = sweep.most_pairs(cases, MODELS, field)
    return (n, sweep.at_pairs(cases, "async-uring", n), sweep.at_pairs(cases, "async", n)) if n else (None, None, None)


def headline(chosen, context):
    n, uring, epoll = _at_most(chosen, "throughput", "msgs_per_s")
    r, noise = facts.ratio(uring, epoll, "msgs_per_s")
    figures = (f"{style.fmt_rate(uring.value('msgs_per_s'))} against {style.fmt_rate(epoll.value('msgs_per_s'))} "
               f"messages/s")
    said = (f"With {n} clients in flight, io_uring and epoll are within noise: {figures}" if noise else
            f"With {n} clients in flight, io_uring delivered {facts.more_or_fewer(r, 'messages/s')} than epoll: "
            f"{figures}")
    m, uring_l, epoll_l = _at_most(chosen, "latency", "rtt_p50_ns")
    if m == n and uring_l:
        rl, lnoise = facts.ratio(uring_l, epoll_l, "rtt_p50_ns")
        said += ("; round trips within noise" if lnoise else
                 f"; its median round trip {facts.times(rl)} epoll's ({style.fmt_time(uring_l.value('rtt_p50_ns'))} "
                 f"against {style.fmt_time(epoll_l.value('rtt_p50_ns'))})")
    return said


def notes(chosen, context):
    return ("Both are one thread serving every client. epoll asks the kernel which sockets are ready and then "
            "makes one read or write system call per message; io_uring queues the reads and writes in a ring "
            "shared with the kernel and collects their completions in another, so one system call can carry "
            "many messages. The more messages are in flight, the more each of its system calls carries. Left, "
            "messages per second of all clients; right, the median round trip of the same set-up ping-ponging. "
            "Point at where, if anywhere, the two lines part as the clients grow.")


def draw(sl, chosen, context):
    tp, lat = sl.axes(ncols=2)
    names = {"async": "epoll (Asio)", "async-uring": "io_uring"}
    for ax, workload, field, fmt, ylabel in ((tp, "throughput", "msgs_per_s", style.RATE, "messages/s, all clients"),
                                             (lat, "latency", "rtt_p50_ns", style.TIME, "round trip p50")):
        cases = [c for c in chosen if c.ident.get("workload") == workload]
        if not cases:
            ax.set_axis_off()
            continue
        entries = sweep.lines(ax, [(names[m], sweep.MODEL_COLORS[m], m,
                                    [c for c in cases if c.ident.get("model") == m]) for m in MODELS], field)
        sweep.axis(ax, cases, "clients (messages in flight)")
        slide.log_y(ax, fmt)
        ax.set_ylabel(ylabel)
        sweep.oversubscribed(ax, cases)
        slide.end_labels(ax, entries)
