#!/usr/bin/env python3
"""bench run python's worker: one case per invocation, driven from real CPython; raw timings as ONE JSON document
on stdout (nothing else goes to stdout; diagnostics, one line, go to stderr). bench plans the cases, pins the
CPUs it passes, enforces the deadline (it kills the whole process group) and computes every statistic.

    py_worker.py --probe          what this interpreter can run (below)
    py_worker.py SPEC_JSON        run one case: SPEC_JSON is one argv, a JSON object

Exit status: 0 the case ran and every payload check passed; 1 a run-time failure (the peer died, a timeout, an
OS error); 2 a bad spec (or bad arguments); 3 a combination this interpreter cannot run (an unknown model for the
transport, a missing module, a size the transport cannot carry); 4 a payload error (a reply or a streamed message
that differs from what was sent, a stale or out-of-order sequence number). Any status but 0: one line on stderr.

--probe prints {"runtime": "cpython-3.11", "version": "3.11.2", "executable": ..., "gil": true,
"experiments": [...], "transports": {NAME: {"unavailable": "" or a reason, "models": [...]}},
"serializers": {NAME: "" or a reason}}.

The spec. Common fields: "experiment"; "cpus": [client_cpu, server_cpu, ...] (each end pins itself, with
os.sched_setaffinity(0, {cpu}), which on Linux pins the calling thread; every cpu must be in this process's
affinity); "warmup_ms", "duration_ms" (numbers); "timeout_ms" (optional, default 5000: the longest any blocking
receive waits before the case fails).

pingpong  "transport", "model" (thread | process | asyncio), "serializer" (default "none"), "size" (bytes, >= 8;
          required with serializer none, ignored otherwise), "scratch" (a private directory; required),
          "shm_prefix" (required with py-shm), "spin_us" (optional, py-shm/py-mmap: how long a waiting reader
          polls before it blocks; default 20 with the process model, 0 with thread, whose ends share the GIL),
          "fault" (optional, for tests: "server-dies": the server exits abruptly (os._exit(9); a thread server
          raises) at the 10th data message it receives; "corrupt-reply": it flips a bit of its 10th reply;
          "corrupt-request": the client flips a bit of message seq 10 (stream: seq 100)).
          Round trips back to back: one untimed, warm-up for warmup_ms, then each round trip (encode, send,
          receive, decode) timed with perf_counter_ns for duration_ms.
          -> {"samples_ns": [...], "checked": N, "wire_bytes": B, "cpu_ns": C or null, "runtime"}
          checked: the replies verified equal to the request (== len(samples_ns)); wire_bytes: the encoded length
          of a message, frame headers excluded (the mean over the window, rounded, where it varies); cpu_ns: CPU
          time of client and server over the measured window (thread: the process's; process/asyncio: the
          client's plus the server's own, which it reports through the channel at the end).
stream    the fields of pingpong. One-way client -> server as fast as the transport's flow control allows
          (kernel buffers, Queue(maxsize=1024), a full ring, zmq's high-water marks), timed at the receiver:
          its first message starts the warm-up; the first message after warmup_ms starts the window, which
          closes at the first message received duration_ms after; every message's sequence number and payload
          are checked. The server then sends its result back and drains until the client's end marker, which it
          acknowledges (the client closes only then).
          -> {"messages", "bytes", "window_ns", "lost", "checked", "wire_bytes", "cpu_ns", "runtime"}
          messages/bytes: received in the window (bytes: encoded lengths); lost: sequence numbers skipped in
          the window (py-udp only: anywhere else a gap is a payload error, and so is reordering everywhere).
serialize "serializer", "size" (with none), "batch" (default 1000): encode then decode the tick record, seq
          varying, a batch of records at a time (built before the clock starts), warm-up then duration.
          -> {"samples_ns": [per-operation ns of each batch, float], "batch", "wire_bytes", "checked", "runtime"}
cpu       "kind" (thread | process), "workers" k >= 1, "iterations" N: `while n > 0: n -= 1` split evenly over
          k threads of this interpreter (one GIL) or k forked processes; worker i on cpus[i % len(cpus)].
          -> {"wall_ns", "cpu_ns", "runtime"} (cpu_ns: threads, this process's process_time delta;
          processes, the sum of the children's rusage)
switch    "kind" (generator | coroutine | thread), "batch" (default 1000), "cross" (optional, thread kind: the
          two threads on cpus[0] and cpus[1] instead of both on cpus[0]): per-switch ns of each batch.
          -> {"samples_ns": [...], "batch" (switches per sample), "runtime"}

Transports: py-pipe (two os.pipe), py-unix (AF_UNIX stream socket in scratch), py-tcp (127.0.0.1, TCP_NODELAY),
py-udp (connected datagram sockets on 127.0.0.1; one datagram a message, size <= 65507), py-mp-pipe
(multiprocessing.Pipe, send_bytes/recv_bytes), py-mp-queue (two multiprocessing.Queue of bytes), py-shm and
py-mmap (a single-producer single-consumer ring per direction in multiprocessing.shared_memory or in mmap of a
file in scratch), py-zmq (PAIR sockets over ipc:// in scratch). Stream transports carry frames of a 4-byte
little-endian length and the message. Control messages are shorter than 8 bytes (no data message is): b"" ends
the run (pingpong: answered by the server's report; stream: by b"E"), b"M" marks the start of pingpong's window
(answered by b"M"); the reverse channel of stream carries only b"W" (window started), the server's result and
b"E".

Serializers: none (size bytes, the first 8 the little-endian sequence number, the rest a fixed pattern), pickle5,
pickle0, marshal, json (json.dumps(...).encode()), struct ("<QqIid15s"), msgpack. Every serializer but none and
struct carries the tick record as a dict; struct as the packed tuple; the server decodes and re-encodes it.
"""

import importlib
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

from countdown import countdown, warm_countdown  # beside this file, on sys.path when run by path

EXIT_OK, EXIT_FAIL, EXIT_SPEC, EXIT_UNSUPPORTED, EXIT_PAYLOAD = 0, 1, 2, 3, 4
EXPERIMENTS = ("pingpong", "stream", "serialize", "cpu", "switch")
MODELS = ("thread", "process", "asyncio")
SERIALIZERS = ("none", "pickle5", "pickle0", "marshal", "json", "struct", "msgpack")
END, MARK, WINDOW, ACK = b"", b"M", b"W", b"E"  # control messages: all shorter than 8 bytes, as no data message is
UDP_MAX = 65507
UDP_QUIET_S = 0.2  # a draining UDP server ends after this long without a datagram (the end marker may be lost)
SLICE_MS = 50  # a blocked ring reader re-checks the ring and its peer at least this often
_U32 = struct.Struct("<I")
perf_ns = time.perf_counter_ns


class SpecError(Exception):
    code = EXIT_SPEC


class Unsupported(Exception):
    code = EXIT_UNSUPPORTED


class PayloadError(Exception):
    code = EXIT_PAYLOAD


class Timeout(Exception):
    code = EXIT_FAIL


class PeerGone(Exception):
    code = EXIT_FAIL


def runtime():
    return "%s-%d.%d" % (sys.implementation.name, sys.version_info[0], sys.version_info[1])


def pin(cpu):
    # On Linux, pid 0 means the calling thread: each thread pins itself. (Where os has no affinity call, as on
    # macOS, nothing is pinned.)
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def one_line(e):
    text = str(e) or type(e).__name__
    if not isinstance(e, (SpecError, Unsupported, PayloadError, Timeout, PeerGone, ReportedError, Terminated)):
        text = "%s: %s" % (type(e).__name__, text)
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------------------------
# Serializers. A codec makes the message for a sequence number, encodes and decodes it (decode raises
# PayloadError on garbage), answers a request (reply) and reads a streamed message's sequence number after
# checking the whole payload (seq_of).

SYMBOLS = ("AAPL", "MSFT", "GOOGL", "BRK.B", "NVDA", "ES-2025-DEC-FUT", "JPM", "TSLA", "SPY", "X", "EURUSD",
           "BTC-USD", "QQQ", "META", "AMZN", "VOD.L")  # ASCII, at most 15 characters (the C++ tick's bound)


def make_tick(seq):
    """The tick record of sequence number seq, deterministic (field types as the C++ tick's)."""
    return {"seq": seq, "timestamp_ns": 1_700_000_000_000_000_000 + seq * 1000,
            "instrument": (seq * 2654435761) & 0xFFFFFFFF, "quantity": (seq * 7919) % 200_001 - 100_000,
            "price": 100.0 + (seq % 100_000) / 64, "symbol": SYMBOLS[seq & 15]}


TICK_STRUCT = struct.Struct("<QqIid15s")  # 47 bytes, no padding


def tick_tuple(seq):
    t = make_tick(seq)
    return (seq, t["timestamp_ns"], t["instrument"], t["quantity"], t["price"], t["symbol"].encode().ljust(15, b"\0"))


def serializer_unavailable(name):
    """'' or why the serializer cannot run here (one line)."""
    if name == "msgpack":
        try:
            importlib.import_module("msgpack")
        except ImportError:
            return "no module msgpack (python3-msgpack)"
    return ""


class Codec:
    def __init__(self, name, size):
        self.name = name
        if name == "none":
            pattern = bytes((i * 131 + 7) & 0xFF for i in range(size))
            tail = pattern[8:]
            self.make = lambda seq: seq.to_bytes(8, "little") + tail
            self.encode = self.decode = self.reply = _identity

            def seq_of(msg):
                if len(msg) != size or not msg.endswith(tail):
                    raise PayloadError("a %d-byte message differs from the pattern sent" % len(msg))
                return int.from_bytes(msg[:8], "little")

            self.seq_of = seq_of
            return
        enc, dec = self._functions(name)
        self.make = tick_tuple if name == "struct" else make_tick
        self.encode = enc

        def decode(data):
            try:
                return dec(data)
            except Exception as e:
                raise PayloadError("%s cannot decode a %d-byte message: %s" % (name, len(data), one_line(e)))

        self.decode = decode
        self.reply = lambda data: enc(decode(data))
        index = 0 if name == "struct" else "seq"
        make = self.make

        def seq_of(msg):
            obj = decode(msg)
            try:
                seq = obj[index]
                ok = obj == make(seq)
            except Exception:
                ok = False
            if not ok:
                raise PayloadError("a streamed %s record differs from the one sent" % name)
            return seq

        self.seq_of = seq_of

    @staticmethod
    def _functions(name):
        if name == "pickle5" or name == "pickle0":
            import pickle
            proto = 5 if name == "pickle5" else 0
            if proto > pickle.HIGHEST_PROTOCOL:
                raise Unsupported("pickle protocol 5 needs Python 3.8")
            return (lambda obj: pickle.dumps(obj, protocol=proto)), pickle.loads
        if name == "marshal":
            import marshal
            return marshal.dumps, marshal.loads
        if name == "json":
            return (lambda obj: json.dumps(obj).encode()), json.loads
        if name == "struct":
            return (lambda t: TICK_STRUCT.pack(*t)), TICK_STRUCT.unpack
        if name == "msgpack":
            reason = serializer_unavailable(name)
            if reason:
                raise Unsupported(reason)
            import msgpack
            return msgpack.packb, (lambda b: msgpack.unpackb(b, raw=False))
        raise SpecError("unknown serializer %r" % name)


def _identity(x):
    return x


# --------------------------------------------------------------------------------------------------------------
# Channels: one end of a duplex link. send(bytes); recv() -> bytes-like, or raises Timeout or PeerGone;
# poll() -> whether recv() has a message without waiting; close(); abort() (close without waiting for delivery).


class _Framed:
    """Length-prefixed frames over a byte stream; subclasses read (_read_into) and write (_write_all).

    A frame is read exactly as bench's C++ stream endpoint reads one (transports/stream_endpoint.cpp): its 4-byte
    length, then its payload, each in a loop over partial reads, and never a byte of the next frame. Reading ahead
    into a buffer would take several small frames per system call, a batching the C++ side beside it does not do,
    and the two figures would no longer measure the same thing."""

    def __init__(self, timeout_s):
        self.timeout_s = timeout_s
        self._head = bytearray(4)

    def send(self, data):
        n = len(data)
        if n <= 65536:
            self._write_all(_U32.pack(n) + data)
        else:
            self._write_all(_U32.pack(n))
            self._write_all(data)

    def _read_exact(self, view, what):
        have = 0
        while have < len(view):  # never assume a whole read: loop on partial reads
            k = self._read_into(view[have:])
            if not k:
                raise PeerGone(what)
            have += k

    def recv(self):
        head = memoryview(self._head)
        self._read_exact(head, "the peer closed the %s" % self.what)
        n = _U32.unpack_from(self._head)[0]
        out = bytearray(n)
        view = memoryview(out)
        self._read_exact(view, "the peer closed the %s in the middle of a frame" % self.what)
        view.release()
        head.release()
        return out

    def poll(self):
        return bool(self._poller.poll(0))


class FdChannel(_Framed):
    """py-pipe: reads wait in poll() with the timeout first (as a socket with a timeout does), then os.read."""
    what = "pipe"

    def __init__(self, rfd, wfd, timeout_s, fds):
        super().__init__(timeout_s)
        self.rfd, self.wfd, self.fds = rfd, wfd, fds
        self._poller = select.poll()
        self._poller.register(rfd, select.POLLIN)
        self._timeout_ms = int(timeout_s * 1000)

    def _wait(self):
        if not self._poller.poll(self._timeout_ms):
            raise Timeout("no message from the peer for %g s (pipe)" % self.timeout_s)

    def _read_into(self, view):
        self._wait()
        return os.readv(self.rfd, [view])

    def _write_all(self, data):
        try:
            k = os.write(self.wfd, data)
            if k < len(data):
                view = memoryview(data)[k:]
                while view:
                    view = view[os.write(self.wfd, view):]
        except BrokenPipeError:
            raise PeerGone("the peer closed the pipe")

    def close(self):
        self.fds.close(self.rfd, self.wfd)

    abort = close


class SockChannel(_Framed):
    """py-unix, py-tcp: a stream socket with a timeout (CPython then polls before each recv/send)."""
    what = "connection"

    def __init__(self, sock, timeout_s):
        super().__init__(timeout_s)
        self.sock = sock
        sock.settimeout(timeout_s)
        self._poller = select.poll()
        self._poller.register(sock.fileno(), select.POLLIN)

    def _read_into(self, view):
        try:
            return self.sock.recv_into(view)
        except socket.timeout:
            raise Timeout("no message from the peer for %g s (socket)" % self.timeout_s)
        except ConnectionResetError:
            return 0

    def _write_all(self, data):
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise Timeout("the peer took no data for %g s (socket)" % self.timeout_s)
        except (BrokenPipeError, ConnectionResetError):
            raise PeerGone("the peer closed the connection")

    def close(self):
        self.sock.close()

    abort = close


class UdpChannel:
    """py-udp: one datagram a message on connected sockets."""

    def __init__(self, sock, timeout_s):
        self.sock = sock
        self.timeout_s = timeout_s
        sock.settimeout(timeout_s)
        self._poller = select.poll()
        self._poller.register(sock.fileno(), select.POLLIN)

    def set_timeout(self, s):
        self.sock.settimeout(s)

    def send(self, data):
        try:
            self.sock.send(data)
        except ConnectionRefusedError:  # the peer's socket is closed (ICMP port unreachable)
            raise PeerGone("the peer's UDP socket is closed")

    def recv(self):
        try:
            return self.sock.recv(UDP_MAX + 1)
        except socket.timeout:
            raise Timeout("no datagram from the peer for %g s" % self.sock.gettimeout())
        except ConnectionRefusedError:
            raise PeerGone("the peer's UDP socket is closed")

    def poll(self):
        return bool(self._poller.poll(0))

    def close(self):
        self.sock.close()

    abort = close


class MpPipeChannel:
    """py-mp-pipe: Connection.send_bytes / recv_bytes (no pickling: the serializer under test is the only one)."""

    def __init__(self, conn, timeout_s):
        self.conn = conn
        self.timeout_s = timeout_s

    def send(self, data):
        try:
            self.conn.send_bytes(data)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            raise PeerGone("the peer closed its multiprocessing.Pipe end")

    def recv(self):
        try:
            if not self.conn.poll(self.timeout_s):
                raise Timeout("no message from the peer for %g s (multiprocessing.Pipe)" % self.timeout_s)
            return self.conn.recv_bytes()
        except (EOFError, ConnectionResetError):
            raise PeerGone("the peer closed its multiprocessing.Pipe end")

    def poll(self):
        return self.conn.poll()

    def close(self):
        self.conn.close()

    abort = close


class QueueChannel:
    """py-mp-queue: put/get of bytes objects (the Queue pickles them: that is what students use). get waits in
    slices, checking between them that the peer is alive."""

    def __init__(self, out_q, in_q, timeout_s, peer_alive, flush_on_close):
        self.out_q, self.in_q = out_q, in_q
        self.flush_on_close = flush_on_close
        self.timeout_s = timeout_s
        self.peer_alive = peer_alive
        import queue
        self._empty, self._full = queue.Empty, queue.Full

    def send(self, data):
        try:
            self.out_q.put(data, True, self.timeout_s)
        except self._full:
            raise Timeout("the peer took no message for %g s (multiprocessing.Queue full)" % self.timeout_s)

    def recv(self):
        try:
            return self.in_q.get(True, min(0.25, self.timeout_s))
        except self._empty:
            pass
        deadline = time.monotonic() + self.timeout_s
        while True:
            if self.peer_alive is not None and not self.peer_alive():
                raise PeerGone("the peer is gone (multiprocessing.Queue)")
            try:
                return self.in_q.get(True, 0.25)
            except self._empty:
                if time.monotonic() > deadline:
                    raise Timeout("no message from the peer for %g s (multiprocessing.Queue)" % self.timeout_s)

    def poll(self):
        return not self.in_q.empty()

    def close(self):
        # A server process flushes what its feeder thread still holds before it exits (it leaves by os._exit);
        # in the parent, the transport closes the queues once both ends are done (with the thread model both
        # ends share them, and Queue.close() closes this process's reading end too).
        if self.flush_on_close:
            self.out_q.close()
            self.out_q.join_thread()

    def abort(self):
        for q in (self.out_q, self.in_q):
            q.cancel_join_thread()


class ZmqChannel:
    """py-zmq: a PAIR socket, its own context (contexts do not survive fork), RCVTIMEO and SNDTIMEO = timeout."""

    def __init__(self, endpoint, bind, timeout_s):
        import zmq
        self.zmq = zmq
        self.timeout_s = timeout_s
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.PAIR)
        for opt, val in ((zmq.LINGER, 0), (zmq.RCVTIMEO, int(timeout_s * 1000)),
                         (zmq.SNDTIMEO, int(timeout_s * 1000)), (zmq.RECONNECT_IVL, 10)):
            self.sock.setsockopt(opt, val)
        (self.sock.bind if bind else self.sock.connect)(endpoint)
        self.bound_path = endpoint[len("ipc://"):] if bind and endpoint.startswith("ipc://") else None

    def send(self, data):
        try:
            self.sock.send(data)
        except self.zmq.Again:
            raise Timeout("the peer took no message for %g s (zmq)" % self.timeout_s)

    def recv(self):
        try:
            return self.sock.recv()
        except self.zmq.Again:
            raise Timeout("no message from the peer for %g s (zmq)" % self.timeout_s)

    def poll(self):
        return bool(self.sock.poll(0))

    def close(self, linger_ms=None):
        # A normal close lingers (up to the timeout) so that what is still queued, the end marker or the last
        # reply, is delivered; abort() drops it.
        self.sock.close(int(self.timeout_s * 1000) if linger_ms is None else linger_ms)
        self.ctx.term()
        if self.bound_path and os.path.lexists(self.bound_path):
            os.unlink(self.bound_path)  # libzmq leaves the ipc file behind; the end that made it removes it

    def abort(self):
        self.close(0)


# The ring of py-shm and py-mmap: one per direction, in a shared buffer. A ring's first 256 bytes hold four
# counters, each on its own cache line (head: bytes written so far, by the producer; tail: bytes consumed, by
# the consumer; the consumer's and the producer's "I am blocked" flags); then `cap` bytes (a power of two) of
# records: a 4-byte length and the message, padded to 4 bytes (so that no length wraps; a message may).
# A reader polls for spin_ns, then raises its flag and blocks on a wake-up (eventfd, or a pipe without it) that
# the writer rings only when it sees the flag; the same, the other way, for a writer waiting for room.
# Ordering: the counters are 8-byte aligned stores through a memoryview ('Q'), which CPython performs in program
# order; x86-64 keeps stores in order, but may let a load pass a store, which would lose a wake-up (Dekker's
# problem: "raise flag, read head" against "write head, read flag"). Between the two, each side therefore takes
# and releases a private threading.Lock, whose atomic read-modify-write is a full barrier on x86-64. A blocked
# reader also re-checks every SLICE_MS, so that even a lost wake-up on a weaker machine costs a delay, not a hang.
RING_HDR = 256
_HEAD, _TAIL, _CWAIT, _PWAIT = 0, 8, 16, 24  # in 8-byte units


class Bell:
    """A wake-up: eventfd where os has it (3.10+), else a non-blocking pipe."""

    def __init__(self):
        if hasattr(os, "eventfd"):
            self.r = self.w = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self._ring = lambda: os.eventfd_write(self.w, 1)
            self._drain = lambda: os.eventfd_read(self.r)
        else:
            self.r, self.w = os.pipe()
            os.set_blocking(self.r, False)
            os.set_blocking(self.w, False)
            self._ring = lambda: os.write(self.w, b"\0")
            self._drain = lambda: os.read(self.r, 4096)
        self._poller = select.poll()
        self._poller.register(self.r, select.POLLIN)

    def ring(self):
        try:
            self._ring()
        except BlockingIOError:
            pass  # already rung

    def wait(self, ms):
        if self._poller.poll(ms):
            try:
                self._drain()
            except BlockingIOError:
                pass

    def close(self):
        if self.r is not None:
            FdSet(self.r, self.w).close(self.r, self.w)
            self.r = self.w = None


class RingEnd:
    """Producer of one ring and consumer of the other: one end of py-shm or py-mmap."""

    def __init__(self, buf, tx_off, rx_off, cap, bells, spin_ns, timeout_s, peer_alive, what):
        self.cap, self.mask = cap, cap - 1
        self.tx_ctl = buf[tx_off:tx_off + RING_HDR].cast("Q")
        self.tx = buf[tx_off + RING_HDR:tx_off + RING_HDR + cap]
        self.rx_ctl = buf[rx_off:rx_off + RING_HDR].cast("Q")
        self.rx = buf[rx_off + RING_HDR:rx_off + RING_HDR + cap]
        self.tx_data_bell, self.tx_space_bell, self.rx_data_bell, self.rx_space_bell = bells
        self.head = self.tx_ctl[_HEAD]
        self.tail_cache = self.tx_ctl[_TAIL]
        self.tail = self.rx_ctl[_TAIL]
        self.head_cache = self.rx_ctl[_HEAD]
        self.spin_ns, self.timeout_s, self.peer_alive, self.what = spin_ns, timeout_s, peer_alive, what
        self._fence = threading.Lock()

    def send(self, msg):
        n = len(msg)
        need = 4 + ((n + 3) & ~3)
        cap, head = self.cap, self.head
        if head + need - self.tail_cache > cap:
            self.tail_cache = self.tx_ctl[_TAIL]
            if head + need - self.tail_cache > cap:
                if need > cap:
                    raise Unsupported("a %d-byte message does not fit the %d-byte ring" % (n, cap))
                self._wait_room(need)
        data = self.tx
        pos = head & self.mask
        _U32.pack_into(data, pos, n)
        p = pos + 4
        if p == cap:
            p = 0
        end = p + n
        if end <= cap:
            data[p:end] = msg
        else:
            k = cap - p
            view = memoryview(msg)
            data[p:cap] = view[:k]
            data[0:n - k] = view[k:]
        head += need
        self.head = head
        ctl = self.tx_ctl
        ctl[_HEAD] = head
        self._fence.acquire()
        self._fence.release()
        if ctl[_CWAIT]:
            self.tx_data_bell.ring()

    def recv(self):
        tail = self.tail
        if self.head_cache == tail:
            self.head_cache = self.rx_ctl[_HEAD]
            if self.head_cache == tail:
                self._wait_data()
        data = self.rx
        pos = tail & self.mask
        n = _U32.unpack_from(data, pos)[0]
        p = pos + 4
        cap = self.cap
        if p == cap:
            p = 0
        end = p + n
        if end <= cap:
            msg = data[p:end].tobytes()
        else:
            msg = data[p:cap].tobytes() + data[0:end - cap].tobytes()
        tail += 4 + ((n + 3) & ~3)
        self.tail = tail
        ctl = self.rx_ctl
        ctl[_TAIL] = tail
        self._fence.acquire()
        self._fence.release()
        if ctl[_PWAIT]:
            self.rx_space_bell.ring()
        return msg

    def poll(self):
        return self.head_cache != self.tail or self.rx_ctl[_HEAD] != self.tail

    def _wait_data(self):
        ctl, tail = self.rx_ctl, self.tail
        if self.spin_ns:
            stop = perf_ns() + self.spin_ns
            while perf_ns() < stop:
                if ctl[_HEAD] != tail:
                    self.head_cache = ctl[_HEAD]
                    return
        self._block(ctl, _CWAIT, self.rx_data_bell, lambda: ctl[_HEAD] != tail, "no message from the peer")
        self.head_cache = ctl[_HEAD]

    def _wait_room(self, need):
        ctl, head, cap = self.tx_ctl, self.head, self.cap

        def room():
            return head + need - ctl[_TAIL] <= cap

        if self.spin_ns:
            stop = perf_ns() + self.spin_ns
            while perf_ns() < stop:
                if room():
                    self.tail_cache = ctl[_TAIL]
                    return
        self._block(ctl, _PWAIT, self.tx_space_bell, room, "the peer took no message")
        self.tail_cache = ctl[_TAIL]

    def _block(self, ctl, flag, bell, ready, what):
        deadline = time.monotonic() + self.timeout_s
        while True:
            ctl[flag] = 1
            self._fence.acquire()
            self._fence.release()
            if not ready():
                bell.wait(SLICE_MS)
            ctl[flag] = 0
            if ready():
                return
            if self.peer_alive is not None and not self.peer_alive():
                raise PeerGone("the peer is gone (%s)" % self.what)
            if time.monotonic() > deadline:
                raise Timeout("%s for %g s (%s)" % (what, self.timeout_s, self.what))

    def close(self):
        for view in (self.tx_ctl, self.tx, self.rx_ctl, self.rx):
            view.release()

    abort = close


def _close_fd(fd):
    try:
        os.close(fd)
    except OSError:
        pass


class FdSet:
    """The descriptors a transport opened in this process: each closed once, never a number reused since."""

    def __init__(self, *fds):
        self.open = set(fds)

    def close(self, *fds):
        for fd in fds:
            if fd in self.open:
                self.open.discard(fd)
                _close_fd(fd)


# --------------------------------------------------------------------------------------------------------------
# Transports. setup() runs in the parent before the server starts; server_end() in the server (thread or child
# process), client_end() in the parent after the start; after_fork_child()/after_fork_parent() close the other
# side's copies; cleanup() in the parent, always (it also removes what is left in scratch and /dev/shm).


class Transport:
    models = ("thread", "process")

    def __init__(self, p):
        self.p = p
        self.timeout_s = p.timeout_s

    @staticmethod
    def unavailable():
        return ""

    def check(self):
        pass

    def setup(self):
        pass

    def after_fork_child(self):
        pass

    def after_fork_parent(self):
        pass

    def cleanup(self, clean):
        pass

    async def aserve(self, handler, watch):
        raise Unsupported("asyncio has no server for %s" % self.p.transport)


class _TwoEnds(Transport):
    """A link of two objects, the server's end and the client's, each with close() (a socket, a Connection): after
    a fork each side closes the end that is not its own, and cleanup closes both. `channel(end, timeout_s)` wraps
    an end."""
    channel = None
    server = client = None

    def server_end(self, peer_alive):
        return self.channel(self.server, self.timeout_s)

    def client_end(self, peer_alive):
        return self.channel(self.client, self.timeout_s)

    def after_fork_child(self):
        self.client.close()

    def after_fork_parent(self):
        self.server.close()

    def cleanup(self, clean):
        for end in (self.server, self.client):
            if end is not None:
                end.close()


class PipeTransport(Transport):
    models = MODELS

    def setup(self):
        self.c2s = os.pipe()
        self.s2c = os.pipe()
        self.fds = FdSet(*(self.c2s + self.s2c))

    def server_end(self, peer_alive):
        return FdChannel(self.c2s[0], self.s2c[1], self.timeout_s, self.fds)

    def client_end(self, peer_alive):
        return FdChannel(self.s2c[0], self.c2s[1], self.timeout_s, self.fds)

    def after_fork_child(self):
        self.fds.close(self.s2c[0], self.c2s[1])

    def after_fork_parent(self):
        self.fds.close(self.c2s[0], self.s2c[1])

    def cleanup(self, clean):
        if getattr(self, "fds", None) is not None:
            self.fds.close(*list(self.fds.open))

    async def aserve(self, handler, watch):
        import asyncio
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        self.fds.open.difference_update((self.c2s[0], self.s2c[1]))  # the file objects own them now
        rfile = os.fdopen(self.c2s[0], "rb", buffering=0)
        wfile = os.fdopen(self.s2c[1], "wb", buffering=0)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), rfile)
        wtransport, wprotocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, wfile)
        writer = asyncio.StreamWriter(wtransport, wprotocol, reader, loop)
        try:
            await _astream_loop(reader, writer, handler, watch)
        finally:
            writer.close()


class _SockTransport(Transport):
    models = MODELS

    def setup(self):
        self.listener = socket.socket(self.family, socket.SOCK_STREAM)
        self.listener.bind(self.address())
        self.listener.listen(1)
        self.listener.settimeout(self.timeout_s)
        self.addr = self.listener.getsockname()

    def server_end(self, peer_alive):
        try:
            conn, _ = self.listener.accept()
        except socket.timeout:
            raise Timeout("no connection from the client for %g s" % self.timeout_s)
        self.listener.close()
        self.tune(conn)
        return SockChannel(conn, self.timeout_s)

    def client_end(self, peer_alive):
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout_s)
        sock.connect(self.addr)
        self.tune(sock)
        self.connected()
        return SockChannel(sock, self.timeout_s)

    def tune(self, sock):
        pass

    def connected(self):
        pass

    def after_fork_parent(self):
        self.listener.close()

    def cleanup(self, clean):
        if getattr(self, "listener", None) is not None:
            self.listener.close()

    async def aserve(self, handler, watch):
        import asyncio
        done = asyncio.get_running_loop().create_future()

        async def on_connection(reader, writer):
            try:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    self.tune(sock)
                await _astream_loop(reader, writer, handler, watch)
                if not done.done():
                    done.set_result(None)
            except BaseException as e:
                if not done.done():
                    done.set_exception(e)
            finally:
                writer.close()

        self.listener.setblocking(False)
        server = await self.start(on_connection, sock=self.listener)
        try:
            await done
        finally:
            server.close()


class UnixTransport(_SockTransport):
    family = getattr(socket, "AF_UNIX", None)

    @staticmethod
    def unavailable():
        return "" if hasattr(socket, "AF_UNIX") else "no AF_UNIX sockets here"

    def address(self):
        self.path = os.path.join(self.p.scratch, "unix.sock")
        if len(self.path.encode()) > 107:
            raise Unsupported("the socket path %s is longer than AF_UNIX allows" % self.path)
        return self.path

    def connected(self):
        os.unlink(self.path)  # the connection is made: no one needs the name any more

    def cleanup(self, clean):
        super().cleanup(clean)
        if getattr(self, "path", None) and os.path.lexists(self.path):
            os.unlink(self.path)

    def start(self, cb, sock):
        import asyncio
        return asyncio.start_unix_server(cb, sock=sock)


class TcpTransport(_SockTransport):
    family = socket.AF_INET

    def address(self):
        return ("127.0.0.1", 0)

    def tune(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def start(self, cb, sock):
        import asyncio
        return asyncio.start_server(cb, sock=sock)


class UdpTransport(_TwoEnds):
    channel = UdpChannel
    models = MODELS

    def check(self):
        if self.p.max_message > UDP_MAX:
            raise Unsupported("py-udp carries one datagram a message: %d bytes is over %d" %
                              (self.p.max_message, UDP_MAX))

    def setup(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.server.bind(("127.0.0.1", 0))
        self.client.bind(("127.0.0.1", 0))
        self.server.connect(self.client.getsockname())
        self.client.connect(self.server.getsockname())

    async def aserve(self, handler, watch):
        import asyncio
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        class Server(asyncio.DatagramProtocol):
            quiet = None

            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                watch.count += 1
                try:
                    out = handler.on_message(data)
                    if out is not None:
                        self.transport.sendto(out)
                except BaseException as e:
                    if not done.done():
                        done.set_exception(e)
                    return
                if handler.quiet_ok:  # draining: end after UDP_QUIET_S without a datagram
                    if self.quiet is not None:
                        self.quiet.cancel()
                    self.quiet = loop.call_later(UDP_QUIET_S, self.finish)
                if handler.done:
                    self.finish()

            def finish(self):
                if not done.done():
                    done.set_result(None)

            def error_received(self, exc):
                if not done.done():
                    done.set_exception(PeerGone("UDP: %s" % one_line(exc)))

        transport, _ = await loop.create_datagram_endpoint(Server, sock=self.server)
        try:
            await done
        finally:
            transport.close()


class MpPipeTransport(_TwoEnds):
    channel = MpPipeChannel

    def setup(self):
        self.client, self.server = self.p.mp.Pipe(duplex=True)


class MpQueueTransport(Transport):
    def setup(self):
        self.c2s = self.p.mp.Queue(maxsize=1024)
        self.s2c = self.p.mp.Queue(maxsize=1024)

    def server_end(self, peer_alive):
        return QueueChannel(self.s2c, self.c2s, self.timeout_s, peer_alive, self.p.model != "thread")

    def client_end(self, peer_alive):
        return QueueChannel(self.c2s, self.s2c, self.timeout_s, peer_alive, False)

    def cleanup(self, clean):
        for q in (getattr(self, "c2s", None), getattr(self, "s2c", None)):
            if q is None:
                continue
            if not clean:
                q.cancel_join_thread()  # a feeder thread blocked on a full pipe must not hold the exit up
            q.close()
            if clean:
                q.join_thread()


class _RingTransport(Transport):
    def check(self):
        need = 4 + ((self.p.max_message + 3) & ~3)
        cap = 1 << 20
        while cap < 2 * need:
            cap <<= 1
        self.cap = cap

    def ring_setup(self, buf):
        self.buf = buf
        self.bells = [Bell() for _ in range(4)]  # c2s data, c2s room, s2c data, s2c room

    def end(self, server, peer_alive):
        span = RING_HDR + self.cap
        c2s_data, c2s_room, s2c_data, s2c_room = self.bells
        if server:
            tx, rx, bells = span, 0, (s2c_data, s2c_room, c2s_data, c2s_room)
        else:
            tx, rx, bells = 0, span, (c2s_data, c2s_room, s2c_data, s2c_room)
        return RingEnd(self.buf, tx, rx, self.cap, bells, self.p.spin_ns, self.timeout_s, peer_alive,
                       self.p.transport)

    def server_end(self, peer_alive):
        return self.end(True, peer_alive)

    def client_end(self, peer_alive):
        return self.end(False, peer_alive)

    def size(self):
        return 2 * (RING_HDR + self.cap)

    def release(self):
        for bell in getattr(self, "bells", ()):
            bell.close()
        if getattr(self, "buf", None) is not None:
            try:
                self.buf.release()
            except BufferError:
                pass  # a view still held by a server thread that did not end; the process exits anyway
            self.buf = None


class ShmTransport(_RingTransport):
    """multiprocessing.shared_memory, created (and so registered with the resource tracker) in the parent only;
    the child uses the mapping it inherits by fork, never re-attaching by name."""

    @staticmethod
    def unavailable():
        try:
            importlib.import_module("multiprocessing.shared_memory")
        except ImportError as e:
            return "no multiprocessing.shared_memory (%s)" % one_line(e)
        return ""

    def setup(self):
        from multiprocessing import shared_memory
        self.shm = shared_memory.SharedMemory(name=self.p.shm_prefix + "ring", create=True, size=self.size())
        self.ring_setup(self.shm.buf)

    def cleanup(self, clean):
        shm = getattr(self, "shm", None)
        if shm is None:
            return
        self.release()
        try:
            shm.close()
        except BufferError:
            pass
        shm.unlink()


class MmapTransport(_RingTransport):
    """mmap of a file in scratch; the name is unlinked as soon as the file is open (the descriptor, then the
    mapping, inherited by fork, keep the file), so nothing is left in scratch even when the worker is killed."""

    def setup(self):
        import mmap
        path = os.path.join(self.p.scratch, "ring.mmap")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.unlink(path)
            os.ftruncate(fd, self.size())
            self.mm = mmap.mmap(fd, self.size())
        finally:
            os.close(fd)
        self.ring_setup(memoryview(self.mm))

    def cleanup(self, clean):
        mm = getattr(self, "mm", None)
        if mm is None:
            return
        self.release()
        try:
            mm.close()
        except BufferError:
            pass


class ZmqTransport(Transport):
    @staticmethod
    def unavailable():
        try:
            import zmq
        except ImportError:
            return "no module zmq (python3-zmq)"
        if not zmq.has("ipc"):
            return "libzmq has no ipc:// transport"
        return ""

    def check(self):
        reason = self.unavailable()
        if reason:
            raise Unsupported(reason)
        self.path = os.path.join(self.p.scratch, "zmq.ipc")
        if len(self.path.encode()) > 107:
            raise Unsupported("the ipc path %s is too long" % self.path)

    def server_end(self, peer_alive):
        return ZmqChannel("ipc://" + self.path, True, self.timeout_s)

    def client_end(self, peer_alive):
        return ZmqChannel("ipc://" + self.path, False, self.timeout_s)

    def cleanup(self, clean):
        if os.path.lexists(self.path):
            os.unlink(self.path)


TRANSPORTS = {"py-pipe": PipeTransport, "py-unix": UnixTransport, "py-tcp": TcpTransport, "py-udp": UdpTransport,
              "py-mp-pipe": MpPipeTransport, "py-mp-queue": MpQueueTransport, "py-shm": ShmTransport,
              "py-mmap": MmapTransport, "py-zmq": ZmqTransport}


def fork_available():
    import multiprocessing
    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


def transport_models(name):
    models = TRANSPORTS[name].models
    return [m for m in models if m == "thread" or fork_available()]


# --------------------------------------------------------------------------------------------------------------
# Servers. A handler turns each received message into the message to send back (or None); the drivers (a
# blocking loop for thread and process, asyncio streams or a DatagramProtocol for asyncio) only move bytes.


class PingpongHandler:
    quiet_ok = False

    def __init__(self, codec, fault, in_process):
        self.reply = codec.reply
        self.done = False
        self.cpu0 = None
        self.count = 0
        self.fault, self.in_process = fault, in_process

    def on_message(self, msg):
        if len(msg) >= 8:
            if self.fault:
                return self._faulty(msg)
            return self.reply(msg)
        if msg == MARK:
            self.cpu0 = time.process_time_ns()
            return MARK
        if msg == END:
            self.done = True
            cpu = time.process_time_ns() - self.cpu0 if self.cpu0 is not None else None
            return json.dumps({"cpu_ns": cpu}).encode()
        raise PayloadError("the server received an unknown %d-byte control message" % len(msg))

    def _faulty(self, msg):
        self.count += 1
        if self.count == 10 and self.fault == "server-dies":
            _die(self.in_process)
        out = self.reply(msg)
        if self.count == 10 and self.fault == "corrupt-reply":
            out = bytes(out[:-1]) + bytes([out[-1] ^ 1])
        return out


class StreamHandler:
    WARM, WARMING, WINDOW, DRAIN = range(4)

    def __init__(self, codec, warmup_ns, duration_ns, udp, fault, in_process):
        self.seq_of = codec.seq_of
        self.warmup_ns, self.duration_ns, self.udp = warmup_ns, duration_ns, udp
        self.fault, self.in_process = fault, in_process
        self.phase = self.WARM
        self.expected = 0
        self.done = self.quiet_ok = False
        self.messages = self.bytes = self.lost = self.received = 0
        self.t0 = self.t_end = self.cpu0 = 0

    def on_message(self, msg):
        if len(msg) < 8:
            if msg == END and self.phase == self.DRAIN:
                self.done = True
                return ACK
            raise PayloadError("the server received a %d-byte control message before its window closed" % len(msg))
        seq = self.seq_of(msg)
        gap = seq - self.expected
        if gap:
            if gap < 0 or not self.udp:
                raise PayloadError("streamed message seq %d, expected %d" % (seq, self.expected))
        self.expected = seq + 1
        if self.fault == "server-dies":
            self.received += 1
            if self.received == 10:
                _die(self.in_process)
        phase = self.phase
        if phase == self.WINDOW:
            now = perf_ns()
            self.messages += 1
            self.bytes += len(msg)
            self.lost += gap
            if now >= self.t_end:
                return self._close_window(now)
            return None
        if phase == self.DRAIN:
            return None
        now = perf_ns()
        if phase == self.WARM:
            self.t_warm = now + self.warmup_ns
            self.phase = self.WARMING
        if now >= self.t_warm:
            self.phase = self.WINDOW
            self.t0, self.t_end = now, now + self.duration_ns
            self.cpu0 = time.process_time_ns()
            return WINDOW
        return None

    def _close_window(self, now):
        cpu = time.process_time_ns() - self.cpu0
        self.phase = self.DRAIN
        self.quiet_ok = self.udp
        wire = round(self.bytes / self.messages) if self.messages else 0
        return json.dumps({"messages": self.messages, "bytes": self.bytes, "window_ns": now - self.t0,
                           "lost": self.lost, "checked": self.messages, "wire_bytes": wire,
                           "cpu_ns": cpu}).encode()


def _die(in_process):
    if in_process:
        os._exit(9)  # an abrupt death, as a crash or a kill -9 would be
    raise RuntimeError("injected fault: the server thread stops")


def serve_blocking(chan, handler):
    recv, send, on_message = chan.recv, chan.send, handler.on_message
    quiet = False
    while not handler.done:
        try:
            msg = recv()
        except Timeout:
            if quiet:
                break  # UDP: the end marker was lost; the client stopped sending long ago
            raise
        out = on_message(msg)
        if out is not None:
            send(out)
        if handler.quiet_ok and not quiet:
            chan.set_timeout(UDP_QUIET_S)
            quiet = True


class Watch:
    """asyncio: counts messages; a watchdog task fails the server when none comes for timeout_s, or when the
    client process is gone (asyncio.wait_for on every read would cost a task per message)."""

    def __init__(self, timeout_s, parent_pid):
        self.count = 0
        self.timeout_s, self.parent_pid = timeout_s, parent_pid
        self.reason = None

    async def guard(self, main):
        import asyncio
        last, idle = -1, 0.0
        step = min(0.25, self.timeout_s)
        while True:
            await asyncio.sleep(step)
            if os.getppid() != self.parent_pid:
                self.reason = PeerGone("the client process is gone")
            elif self.count == last:
                idle += step
                if idle >= self.timeout_s:
                    self.reason = Timeout("no message from the client for %g s (asyncio)" % self.timeout_s)
            else:
                last, idle = self.count, 0.0
            if self.reason is not None:
                main.cancel()
                return


async def _astream_loop(reader, writer, handler, watch):
    import asyncio
    on_message = handler.on_message
    while not handler.done:
        try:
            head = await reader.readexactly(4)
            n = _U32.unpack(head)[0]
            msg = await reader.readexactly(n) if n else END
        except asyncio.IncompleteReadError:
            raise PeerGone("the client closed the connection (asyncio)")
        watch.count += 1
        out = on_message(msg)
        if out is not None:
            writer.write(_U32.pack(len(out)) + out)
            await writer.drain()


def asyncio_server(transport, handler, timeout_s, parent_pid):
    import asyncio

    async def main():
        watch = Watch(timeout_s, parent_pid)
        task = asyncio.ensure_future(transport.aserve(handler, watch))
        guard = asyncio.ensure_future(watch.guard(task))
        try:
            await task
        except asyncio.CancelledError:
            if watch.reason is not None:
                raise watch.reason
            raise
        finally:
            guard.cancel()

    asyncio.run(main())


# --------------------------------------------------------------------------------------------------------------
# The link experiments (pingpong, stream): the parent is the client; the server a thread or a forked process.


class ServerThread:
    def __init__(self, target):
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(target,), daemon=True, name="server")

    def _run(self, target):
        try:
            target()
        except BaseException as e:
            self.error = e


def _server_process_main(p, transport, handler, err_w):
    """The forked server process: one line and an exit status back to the parent through err_w."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code, reason, chan = EXIT_OK, "", None
    try:
        transport.after_fork_child()
        pin(p.server_cpu)
        if p.model == "asyncio":
            asyncio_server(transport, handler, p.timeout_s, p.parent_pid)
        else:
            def parent_alive():
                return os.getppid() == p.parent_pid

            chan = transport.server_end(parent_alive)
            serve_blocking(chan, handler)
            chan.close()
    except BaseException as e:
        code = getattr(e, "code", EXIT_FAIL) if isinstance(e, Exception) else EXIT_FAIL
        reason = "server: " + one_line(e)
        if chan is not None:
            chan.abort()
    try:
        os.write(err_w, ("%d %s" % (code, reason)).encode()[:4000])
    except OSError:
        pass
    sys.stdout.flush()
    os._exit(code)


def pingpong_client(chan, codec, p):
    make, encode, decode, send, recv = codec.make, codec.encode, codec.decode, chan.send, chan.recv
    corrupt_at = 10 if p.fault == "corrupt-request" else -1

    def fail(seq, got):
        raise PayloadError("reply to seq %d differs from the request (%d bytes back)" % (seq, len(got)))

    def untimed(seq):
        obj = make(seq)
        data = encode(obj)
        if seq == corrupt_at:
            data = bytes(data[:-1]) + bytes([data[-1] ^ 1])
        send(data)
        got = decode(recv())
        if got != obj:
            fail(seq, got)

    untimed(0)  # the first round trip also waits for the server to be up: not part of the warm-up
    seq = 1
    warm_end = perf_ns() + p.warmup_ns
    while perf_ns() < warm_end:
        untimed(seq)
        seq += 1
    send(MARK)
    if recv() != MARK:
        raise PayloadError("the server did not acknowledge the window's start")
    cpu0 = time.process_time_ns()
    samples, wire = [], 0
    end = perf_ns() + p.duration_ns
    while True:
        obj = make(seq)
        if seq == corrupt_at:
            untimed(seq)
        t0 = perf_ns()
        data = encode(obj)
        send(data)
        got = decode(recv())
        t1 = perf_ns()
        if got != obj:
            fail(seq, got)
        samples.append(t1 - t0)
        wire += len(data)
        seq += 1
        if t1 >= end:
            break
    cpu = time.process_time_ns() - cpu0
    send(END)
    try:
        server = json.loads(bytes(recv()))
    except ValueError:
        raise PayloadError("the server's closing report is not JSON")
    cpu_ns = cpu if p.model == "thread" else (cpu + server["cpu_ns"] if server.get("cpu_ns") is not None else None)
    return {"samples_ns": samples, "checked": len(samples), "wire_bytes": round(wire / len(samples)),
            "cpu_ns": cpu_ns}


def stream_client(chan, codec, p):
    make, encode, send, poll, recv = codec.make, codec.encode, chan.send, chan.poll, chan.recv
    corrupt_at = 100 if p.fault == "corrupt-request" else -1
    deadline = perf_ns() + p.warmup_ns + p.duration_ns + int(p.timeout_s * 1e9) + 2_000_000_000
    seq, result, cpu0 = 0, None, None
    while result is None:
        for seq in range(seq, seq + 32):
            data = encode(make(seq))
            if seq == corrupt_at:
                data = bytes(data[:-1]) + bytes([data[-1] ^ 1])
            send(data)
        seq += 1
        while result is None and poll():
            ctl = bytes(recv())
            if ctl == WINDOW:
                cpu0 = time.process_time_ns()
            else:
                cpu1 = time.process_time_ns()
                try:
                    result = json.loads(ctl)
                except ValueError:
                    raise PayloadError("the server's result is not JSON")
        if perf_ns() > deadline:
            raise Timeout("the server sent no result before its window should have closed")
    end_stream(chan, p.transport == "py-udp")
    if p.model != "thread":
        result["cpu_ns"] += cpu1 - (cpu0 if cpu0 is not None else cpu1)
    return result


def end_stream(chan, udp):
    """The end marker, acknowledged: the client closes only once the server has everything (a zmq socket closed
    while its peer is still catching up can strand the last messages, even with a linger)."""
    if not udp:
        chan.send(END)
        if bytes(chan.recv()) != ACK:
            raise PayloadError("the server did not acknowledge the end of the stream")
        return
    chan.set_timeout(UDP_QUIET_S)
    for _ in range(3):  # a datagram may be dropped; the server also ends after UDP_QUIET_S of silence
        try:
            chan.send(END)
            if bytes(chan.recv()) == ACK:
                return
        except Timeout:
            continue
        except PeerGone:
            return  # the server's socket is closed: it ended


def run_link(p):
    """pingpong and stream: start the server, run the client, stop and clean up whatever happens."""
    transport = TRANSPORTS[p.transport](p)
    if p.model not in transport_models(p.transport):
        raise Unsupported("%s has no %s server here (models: %s)" %
                          (p.transport, p.model, ", ".join(transport_models(p.transport))))
    reason = transport.unavailable()
    if reason:
        raise Unsupported(reason)
    codec = Codec(p.serializer, p.size)
    transport.check()
    in_process = p.model != "thread"
    if p.experiment == "pingpong":
        handler = PingpongHandler(codec, p.fault, in_process)
    else:
        handler = StreamHandler(codec, p.warmup_ns, p.duration_ns, p.transport == "py-udp", p.fault, in_process)
    pin(p.client_cpu)
    server = Server(p, transport, handler)
    clean = False
    try:
        transport.setup()
        server.start()
        chan = transport.client_end(server.alive)
        try:
            out = (pingpong_client if p.experiment == "pingpong" else stream_client)(chan, codec, p)
        except BaseException:
            chan.abort()
            raise
        chan.close()
        server.finish()
        clean = True
    except BaseException as e:
        server.kill()
        raise server.blame(e)
    finally:
        try:
            transport.cleanup(clean)
        finally:
            stop_resource_tracker()
    return out


class Server:
    """The server of a link experiment: a thread, or a forked process (process and asyncio models)."""

    def __init__(self, p, transport, handler):
        self.p, self.transport, self.handler = p, transport, handler
        self.thread = self.proc = None
        self.err_r = self.err_w = None
        self.status = None  # (code, reason) the server reported, once it ended

    def start(self):
        p, transport = self.p, self.transport
        if p.model == "thread":
            def target():
                pin(p.server_cpu)
                main = threading.main_thread()
                chan = transport.server_end(main.is_alive)
                try:
                    serve_blocking(chan, self.handler)
                finally:
                    chan.close()

            self.thread = ServerThread(target)
            self.thread.thread.start()
            return
        self.err_r, self.err_w = os.pipe()
        self.proc = p.mp.Process(target=_server_process_main, args=(p, transport, self.handler, self.err_w),
                                 name="py_worker-server")
        self.proc.start()
        os.close(self.err_w)
        self.err_w = None
        transport.after_fork_parent()

    def alive(self):
        if self.thread is not None:
            return self.thread.thread.is_alive()
        return self.proc is not None and self.proc.is_alive()

    def finish(self):
        """The normal end: the server has answered its last message; it must end by itself, cleanly."""
        if self.thread is not None:
            self.thread.thread.join(self.p.timeout_s)
            if self.thread.thread.is_alive():
                raise Timeout("the server thread did not end")
            if self.thread.error is not None:
                err = self.thread.error
                raise _status_error((getattr(err, "code", EXIT_FAIL), "server: " + one_line(err)))
            return
        self.proc.join(self.p.timeout_s)
        if self.proc.is_alive():
            raise Timeout("the server process did not end")
        self._collect()
        if self.status[0] != 0:
            raise _status_error(self.status)

    def kill(self):
        """The error path: close what we can, give the server a moment to notice, then terminate and kill it."""
        if self.thread is not None:
            self.thread.thread.join(min(1.0, self.p.timeout_s))
            return
        if self.proc is None:
            return
        if self.proc.pid is not None:
            self.proc.join(min(1.0, self.p.timeout_s))
            if self.proc.is_alive():
                self.proc.terminate()
                self.proc.join(1.0)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join()
        self._collect()

    def _collect(self):
        if self.status is not None or self.err_r is None:
            return
        text = b""
        try:
            text = os.read(self.err_r, 4096)
        except OSError:
            pass
        os.close(self.err_r)
        self.err_r = None
        if text:
            code, _, reason = text.decode(errors="replace").partition(" ")
            self.status = (int(code), reason)
        else:
            self.status = (EXIT_FAIL, "server process exited with status %s" % self.proc.exitcode)

    def blame(self, client_error):
        """The error to report: the server's payload error first, then the server's own failure where the client
        only saw its consequence (the peer gone, a timeout), else the client's."""
        if self.thread is not None and self.thread.error is not None:
            err = self.thread.error
            self.status = (getattr(err, "code", EXIT_FAIL), "server: " + one_line(err))
        if self.status and self.status[0] != 0:
            if self.status[0] == EXIT_PAYLOAD or isinstance(client_error, (PeerGone, Timeout)):
                return ReportedError(self.status[0], "%s (the client: %s)" % (self.status[1], one_line(client_error)))
        return client_error


class ReportedError(Exception):
    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code


def _status_error(status):
    return ReportedError(status[0] or EXIT_FAIL, status[1])


def stop_resource_tracker():
    """multiprocessing's resource tracker (started by SharedMemory) is a child of this process: stop it, so that
    no process is left behind (it would otherwise end on its own shortly after we exit)."""
    mod = sys.modules.get("multiprocessing.resource_tracker")
    tracker = getattr(mod, "_resource_tracker", None)
    if tracker is not None and getattr(tracker, "_pid", None) is not None and hasattr(tracker, "_stop"):
        try:
            tracker._stop()
        except Exception:
            pass


# --------------------------------------------------------------------------------------------------------------
# serialize, cpu, switch


def run_serialize(p):
    codec = Codec(p.serializer, p.size)
    make, encode, decode = codec.make, codec.encode, codec.decode
    pin(p.client_cpu)
    batch = p.batch
    wire = len(encode(make(0)))
    samples, checked, seq = [], 0, 0
    stop_warm = perf_ns() + p.warmup_ns
    end = None
    while True:
        objs = [make(s) for s in range(seq, seq + batch)]
        t0 = perf_ns()
        back = [decode(encode(o)) for o in objs]
        t1 = perf_ns()
        if back != objs:
            raise PayloadError("%s: a decoded record differs from the encoded one" % p.serializer)
        seq += batch
        if end is None:
            if t1 >= stop_warm:
                end = t1 + p.duration_ns
            continue
        samples.append((t1 - t0) / batch)
        checked += batch
        if t1 >= end:
            break
    return {"samples_ns": samples, "batch": batch, "wire_bytes": wire, "checked": checked}


def run_cpu(p):
    total, k, cpus = p.iterations, p.workers, p.cpus
    shares = [total // k + (1 if i < total % k else 0) for i in range(k)]
    warm_countdown()
    if p.kind == "thread":
        errors = []

        def work(i):
            try:
                pin(cpus[i % len(cpus)])
                countdown(shares[i])
            except BaseException as e:
                errors.append(e)

        c0, t0 = time.process_time_ns(), perf_ns()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(k)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu = perf_ns() - t0, time.process_time_ns() - c0
        if errors:
            raise errors[0]
        return {"wall_ns": wall, "cpu_ns": cpu}
    pids, cpu = [], 0
    t0 = perf_ns()
    try:
        for i in range(k):
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    pin(cpus[i % len(cpus)])
                    countdown(shares[i])
                except BaseException:
                    code = 1
                os._exit(code)
            pids.append(pid)
        while pids:
            _, status, ru = os.wait4(pids[0], 0)
            pids.pop(0)
            if status != 0:
                raise RuntimeError("a worker process failed (wait status %d)" % status)
            cpu += int((ru.ru_utime + ru.ru_stime) * 1e9)
        return {"wall_ns": perf_ns() - t0, "cpu_ns": cpu}
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass


def _batches(p, step):
    """Calls step() (one batch, returns the switches it made) until warmup then duration have passed; the
    per-switch ns of each batch after the warm-up."""
    samples = []
    stop_warm = perf_ns() + p.warmup_ns
    end = None
    while True:
        t0 = perf_ns()
        n = step()
        t1 = perf_ns()
        if end is None:
            if t1 >= stop_warm:
                end = t1 + p.duration_ns
            continue
        samples.append((t1 - t0) / n)
        if t1 >= end:
            return samples


def run_switch(p):
    pin(p.cpus[0])
    if p.kind == "generator":
        samples, batch = _switch_generator(p)
    elif p.kind == "coroutine":
        samples, batch = _switch_coroutine(p)
    else:
        samples, batch = _switch_thread(p)
    return {"samples_ns": samples, "batch": batch}


def _switch_generator(p):
    def echo():
        x = yield
        while True:
            x = yield x

    gen = echo()
    next(gen)
    send, batch = gen.send, p.batch

    def step():
        for i in range(batch):
            send(i)  # one switch: into the generator and back out with its value
        return batch

    return _batches(p, step), batch


def _switch_coroutine(p):
    """Two asyncio tasks handing a baton through futures: each hand-off sets the other task's future (which
    schedules its wake-up with call_soon) and awaits a fresh one of its own, so every switch goes through the
    event loop's ready queue: a real task switch. (await of a bare coroutine would be a plain nested call.)"""
    import asyncio
    rounds = max(1, p.batch // 2)

    async def main():
        loop = asyncio.get_running_loop()
        futs = [loop.create_future(), loop.create_future()]
        state = {"stop": False}

        async def other():
            while True:
                await futs[1]
                futs[1] = loop.create_future()
                if state["stop"]:
                    return
                futs[0].set_result(None)

        async def step_async():
            for _ in range(rounds):
                futs[0] = loop.create_future()
                futs[1].set_result(None)
                await futs[0]
            return 2 * rounds

        peer = asyncio.ensure_future(other())
        samples = []
        stop_warm = perf_ns() + p.warmup_ns
        end = None
        while True:
            t0 = perf_ns()
            n = await step_async()
            t1 = perf_ns()
            if end is None:
                if t1 >= stop_warm:
                    end = t1 + p.duration_ns
                continue
            samples.append((t1 - t0) / n)
            if t1 >= end:
                break
        state["stop"] = True
        futs[1].set_result(None)
        await peer
        return samples

    return asyncio.run(main()), 2 * rounds


def _switch_thread(p):
    """Two threads handing a baton with two Locks: each hand-off is an OS thread switch plus a GIL hand-off."""
    rounds = max(1, p.batch // 2)
    ping, pong = threading.Lock(), threading.Lock()
    ping.acquire()
    pong.acquire()
    state = {"stop": False, "error": None}
    other_cpu = p.cpus[1 % len(p.cpus)] if p.cross else p.cpus[0]
    timeout = p.timeout_s

    def other():
        try:
            pin(other_cpu)
            while True:
                if not ping.acquire(timeout=timeout):
                    raise Timeout("the switching thread got no baton for %g s" % timeout)
                if state["stop"]:
                    return
                pong.release()
        except BaseException as e:
            state["error"] = e

    peer = threading.Thread(target=other, daemon=True)
    peer.start()

    def step():
        for _ in range(rounds):
            ping.release()
            if not pong.acquire(timeout=timeout):
                raise state["error"] or Timeout("the baton did not come back for %g s" % timeout)
        return 2 * rounds

    try:
        samples = _batches(p, step)
    finally:
        state["stop"] = True
        ping.release()
        peer.join(timeout)
    return samples, 2 * rounds


# --------------------------------------------------------------------------------------------------------------
# The spec, checked: any fault is a SpecError (exit 2).

_REQUIRED = object()


class Params:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise SpecError("the spec must be a JSON object")
        self.spec = spec
        self.experiment = self.choice("experiment", EXPERIMENTS)
        self.cpus = self.cpu_list()
        self.client_cpu = self.cpus[0]
        self.server_cpu = self.cpus[1 % len(self.cpus)]
        self.timeout_s = self.number("timeout_ms", 5000, minimum=1) / 1000
        self.fault = self.choice("fault", (None, "server-dies", "corrupt-reply", "corrupt-request"), None)
        self.parent_pid = os.getpid()
        getattr(self, "_" + self.experiment)()

    def get(self, key, default=_REQUIRED):
        if key not in self.spec:
            if default is _REQUIRED:
                raise SpecError("the spec has no %r" % key)
            return default
        return self.spec[key]

    def choice(self, key, choices, default=_REQUIRED):
        value = self.get(key, default)
        if value not in choices:
            raise SpecError("%r is %r: not one of %s" % (key, value, ", ".join(str(c) for c in choices)))
        return value

    def number(self, key, default=_REQUIRED, minimum=0, integer=False):
        value = self.get(key, default)
        kinds = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not -1e300 < value < 1e300 or value < minimum:
            raise SpecError("%r is %r: not %s >= %s" % (key, value, "an integer" if integer else "a number",
                                                         minimum))
        return value

    def string(self, key, default=_REQUIRED):
        value = self.get(key, default)
        if not isinstance(value, str) or not value:
            raise SpecError("%r is %r: not a non-empty string" % (key, value))
        return value

    def cpu_list(self):
        allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
        cpus = self.get("cpus", None)
        if cpus is None:
            if self.experiment in ("pingpong", "stream", "cpu", "switch"):
                raise SpecError("the spec has no 'cpus'")
            return [None]
        if not isinstance(cpus, list) or not cpus:
            raise SpecError("'cpus' must be a non-empty list of CPU numbers")
        for c in cpus:
            if isinstance(c, bool) or not isinstance(c, int) or c not in allowed:
                raise SpecError("cpu %r is not one this process may run on (%s)" % (c, sorted(allowed)))
        return cpus

    def timing(self):
        self.warmup_ns = int(self.number("warmup_ms") * 1e6)
        self.duration_ns = int(self.number("duration_ms") * 1e6)
        if self.duration_ns <= 0:
            raise SpecError("'duration_ms' must be > 0")

    def serializer_and_size(self):
        self.serializer = self.choice("serializer", SERIALIZERS, "none")
        if self.serializer == "none":
            self.size = self.number("size", minimum=8, integer=True)
            self.max_message = self.size
        else:
            self.size = 0
            self.max_message = 1024  # an encoded tick is under 200 bytes; the stream's result under 1 KiB
        self.max_message = max(self.max_message, 1024)

    def _pingpong(self):
        self.timing()
        self.transport = self.choice("transport", tuple(TRANSPORTS))
        self.model = self.choice("model", MODELS)
        self.serializer_and_size()
        self.scratch = self.string("scratch")
        if not os.path.isdir(self.scratch):
            raise SpecError("scratch %r is not a directory" % self.scratch)
        self.shm_prefix = self.string("shm_prefix") if self.transport == "py-shm" else self.spec.get("shm_prefix")
        if self.shm_prefix is not None and (not isinstance(self.shm_prefix, str) or "/" in self.shm_prefix):
            raise SpecError("'shm_prefix' must be a string without '/'")
        spin_default = 20 if self.model == "process" else 0
        self.spin_ns = int(self.number("spin_us", spin_default) * 1000)
        import multiprocessing
        try:
            self.mp = multiprocessing.get_context("fork")
        except ValueError:
            if self.model != "thread":
                raise Unsupported("no fork start method here: only the thread model runs")
            self.mp = multiprocessing.get_context()

    _stream = _pingpong

    def _serialize(self):
        self.timing()
        self.serializer_and_size()
        self.batch = self.number("batch", 1000, minimum=1, integer=True)

    def _cpu(self):
        self.kind = self.choice("kind", ("thread", "process"))
        self.workers = self.number("workers", minimum=1, integer=True)
        self.iterations = self.number("iterations", minimum=0, integer=True)

    def _switch(self):
        self.timing()
        self.kind = self.choice("kind", ("generator", "coroutine", "thread"))
        self.batch = self.number("batch", 1000, minimum=1, integer=True)
        self.cross = self.get("cross", False)
        if not isinstance(self.cross, bool):
            raise SpecError("'cross' must be true or false")


# --------------------------------------------------------------------------------------------------------------


def probe():
    transports = {}
    for name, cls in TRANSPORTS.items():
        try:
            reason = cls.unavailable()
        except Exception as e:
            reason = one_line(e)
        try:
            models = transport_models(name)
        except Exception:
            models = ["thread"]
        transports[name] = {"unavailable": reason, "models": models}
    serializers = {}
    for name in SERIALIZERS:
        try:
            serializers[name] = serializer_unavailable(name)
        except Exception as e:
            serializers[name] = one_line(e)
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    return {"runtime": runtime(), "version": sys.version.split()[0], "executable": sys.executable, "gil": gil,
            "experiments": list(EXPERIMENTS), "transports": transports, "serializers": serializers}


class Terminated(Exception):
    code = EXIT_FAIL


def _on_sigterm(signum, frame):
    raise Terminated("terminated by signal %d" % signum)


def run(spec):
    p = Params(spec)
    if p.experiment in ("pingpong", "stream"):
        out = run_link(p)
    elif p.experiment == "serialize":
        out = run_serialize(p)
    elif p.experiment == "cpu":
        out = run_cpu(p)
    else:
        out = run_switch(p)
    out["runtime"] = runtime()
    return out


def main(argv):
    if argv == ["--probe"]:
        return json.dumps(probe()), EXIT_OK, ""
    if len(argv) != 1:
        return None, EXIT_SPEC, "usage: py_worker.py --probe | py_worker.py SPEC_JSON"
    try:
        spec = json.loads(argv[0])
    except ValueError as e:
        return None, EXIT_SPEC, "the spec is not JSON: %s" % one_line(e)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return json.dumps(run(spec)), EXIT_OK, ""
    except Exception as e:
        return None, getattr(e, "code", EXIT_FAIL), one_line(e)
    except KeyboardInterrupt:
        return None, EXIT_FAIL, "interrupted"


if __name__ == "__main__":
    document, status, why = main(sys.argv[1:])
    if document is not None:
        sys.stdout.write(document + "\n")
    if why:
        sys.stderr.write("py_worker: %s\n" % why)
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: no interpreter shutdown that could wait on a thread or a queue's feeder left by a failure;
    # everything this worker started has been joined, killed or closed by now.
    os._exit(status)
