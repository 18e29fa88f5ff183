"""Through a broker: one 64 B request and its reply through a RabbitMQ broker (AMQP), against ZeroMQ and a bare
socket, the messaging systems the course ends its message-passing part with."""
from .. import common, style
from . import facts, slide

NAME = "through-a-broker"
TITLE = "Through a broker"
NEEDS = "one-pair 64 B latency rows of amqp beside ZeroMQ (zmq-ipc or zmq-tcp) or a bare socket (unix or tcp)"
FLAGS = ("bench run ipc --sizes 64 --transports unix,tcp,zmq-ipc,zmq-tcp,amqp,amqp-durable,amqp-confirmed "
         "--models process")
# Top to bottom on the slide: the bare sockets, ZeroMQ over each, then through the broker.
ORDER = (("unix", "bare socket"), ("tcp", "bare socket"), ("zmq-ipc", "ZeroMQ"), ("zmq-tcp", "ZeroMQ"),
         ("amqp", "RabbitMQ broker"), ("amqp-durable", "RabbitMQ broker"), ("amqp-confirmed", "RabbitMQ broker"))
BROKER = ("amqp", "amqp-durable", "amqp-confirmed")
KIND = {"amqp": "transient messages", "amqp-durable": "persistent messages",
        "amqp-confirmed": "persistent, publisher confirms"}
FIELD = "rtt_p50_ns"


def applies(context):
    """Why there is no broker lesson on this machine (the run found no broker to start), or None."""
    broker = context.get("amqp_broker") or {}
    if broker.get("unavailable"):
        return f"no AMQP broker on this machine: {broker['unavailable']}"
    return None


def select(cases, context):
    pool = [c for c in cases if facts.plain_ipc(c) and c.ident.get("workload") == "latency"
            and c.ident.get("pairs", 1) == 1 and c.ident.get("msg_bytes") == 64
            and c.ident.get("wait", "block") == "block" and c.ident.get("transport") in dict(ORDER)]
    pool = facts.one_model(pool) if pool else []
    # One ZeroMQ bar (a slide holds six): over TCP, like the broker's connections, where the run has it.
    if any(c.ident.get("transport") == "zmq-tcp" for c in pool):
        pool = [c for c in pool if c.ident.get("transport") != "zmq-ipc"]
    chosen = [c for t, _ in ORDER for c in pool if c.ident.get("transport") == t]
    has_broker = any(c.ident.get("transport") in BROKER for c in chosen)
    return chosen if has_broker and len(chosen) >= 2 else []


def cannot_show(chosen, context):
    if not any(facts.measured(c, FIELD) for c in chosen if c.ident.get("transport") in BROKER):
        broker = context.get("amqp_broker") or {}
        why = broker.get("error") or "every amqp case failed"
        return f"no round trip through the broker was measured ({why})."
    return None


def _pick(chosen, transports):
    return next((c for t in transports for c in chosen if c.ident.get("transport") == t and facts.measured(c, FIELD)),
                None)


def _label(case):
    return f"{dict(ORDER)[case.ident.get('transport')]} ({case.ident.get('transport')})"


def headline(chosen, context):
    broker = _pick(chosen, BROKER)
    other = _pick(chosen, ("zmq-tcp", "zmq-ipc", "tcp", "unix"))
    if other is None:
        return f"A 64 B request and its reply through a RabbitMQ broker: {style.fmt_time(broker.value(FIELD))} (p50)"
    r, noise = facts.ratio(broker, other, FIELD)
    figures = f"{style.fmt_time(broker.value(FIELD))} against {style.fmt_time(other.value(FIELD))} (64 B, p50)"
    if noise:
        return f"Through the broker and through {_label(other)} are within noise: {figures}"
    return (f"A request and its reply through the broker take {facts.times(r)} as long as through {_label(other)}: "
            f"{figures}")


def _variants(chosen):
    """What the durable and the confirmed rows cost beside the transient one, in sentences from their medians."""
    base = _pick(chosen, ("amqp",))
    said = []
    for t, what, why in (
            ("amqp-durable", "Persistent messages in durable queues",
             "without confirms the broker writes them to its disk in the background, and a message delivered before "
             "that is never written"),
            ("amqp-confirmed", "Publisher confirms (every publish waits for the broker's acknowledgement)",
             "that wait, once per hop, is the price of knowing the broker has the message")):
        other = _pick(chosen, (t,))
        if base is None or other is None:
            continue
        r, noise = facts.ratio(other, base, FIELD)
        figures = f"{style.fmt_time(other.value(FIELD))} against {style.fmt_time(base.value(FIELD))}"
        cost = "cost about the same round trip as transient messages" if noise else \
            f"took {facts.times(r)} the transient round trip"
        said.append(f" {what} {cost} ({figures}): {why}.")
    return "".join(said)


def notes(chosen, context):
    start = (context.get("amqp_broker") or {}).get("start_s")
    started = (f" The run started its own broker, which took {start:.1f} s before it took a login; "
               "a broker is a service that runs before and after any one client.") if start else ""
    return ("Each bar is one 64-byte request and its reply, client to server and back, the median of the "
            "repetitions with their range as the whisker. A bare socket is one kernel hop each way; ZeroMQ adds its "
            "I/O thread at both ends but keeps the two processes talking to each other. Through RabbitMQ every "
            "message goes to the broker first: it is read by the Erlang VM, routed to a queue process, and written "
            "out to the consumer, so a round trip is four socket hops and two extra wake-ups in another process."
            + _variants(chosen) + " What the broker buys for that cost is decoupling: the server may be down, slow "
            "or many, and the queue holds the work." + started)


def draw(sl, chosen, context):
    (ax,) = sl.axes()
    bars = []
    for c in chosen:
        t = c.ident.get("transport")
        label = f"{dict(ORDER)[t]}\n{t}{', ' + KIND[t] if t in KIND else ''}"
        bars.append((label, facts.measured(c, FIELD), slide.reps_range(c, FIELD), style.transport_color(t)))
    slide.hbars(ax, bars, style.fmt_time)
    values = [v for b in bars for v in ([b[1]] + list(b[2] or ())) if v]
    ax.set_xlim(min(values) / 2, max(values) * 5)  # room right of the longest bar for its figure
    common.log_axis(ax.xaxis, style.TIME)
    ax.set_xlabel("round trip, p50 (log scale; whisker: range of the repetitions)")
