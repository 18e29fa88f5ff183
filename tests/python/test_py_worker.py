#!/usr/bin/python3
"""Tests of bench/python/py_worker.py, run as bench runs it: one subprocess a case, the spec as one argv.

Every case checks the exit status, that stdout is one JSON document (or empty, on failure, with one line on
stderr), and that the worker left nothing behind: no process in its process group (it is started in a session
of its own), no child of this test, nothing in its scratch directory, no /dev/shm/<shm_prefix>*.

    /usr/bin/python3 -m unittest tests/python/test_py_worker.py
    /usr/bin/python3 tests/python/test_py_worker.py
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "bench" / "python" / "py_worker.py"
CPUS = sorted(os.sched_getaffinity(0))[:2]
SERIALIZERS = ("none", "pickle5", "pickle0", "marshal", "json", "struct", "msgpack")
_counter = [0]
# A fault fires at the 10th message; on a loaded machine a 100 ms run might not get that far, and the run ends at
# the fault anyway: a long window costs nothing.
FAULT_TIMING = {"warmup_ms": 1000, "duration_ms": 10000}


def probe():
    out = subprocess.run([sys.executable, str(WORKER), "--probe"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


PROBE = probe()


def group_members(pgid):
    """Pids of the processes (zombies included) whose process group is pgid."""
    pids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:
            pids.append(int(stat.split("/")[2]))
    return pids


class WorkerCase(unittest.TestCase):
    def worker(self, spec, expect=0, timeout=30, max_seconds=None):
        """Runs one case; returns its JSON document (expect 0) or its stderr line (otherwise)."""
        _counter[0] += 1
        scratch = tempfile.mkdtemp(prefix="pyw")
        prefix = "pyw_test_%d_%d_" % (os.getpid(), _counter[0])
        full = {"cpus": CPUS, "warmup_ms": 20, "duration_ms": 100, "scratch": scratch, "shm_prefix": prefix}
        if isinstance(spec, str):
            arg = spec  # not a JSON object: passed as it is
        else:
            full.update(spec)
            arg = json.dumps(full)
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(WORKER), arg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            self.fail("the worker hung: %s" % arg)
        finally:
            elapsed = time.monotonic() - t0
            left = group_members(proc.pid)
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            leftovers = os.listdir(scratch)
            shutil.rmtree(scratch, ignore_errors=True)
            segments = glob.glob("/dev/shm/" + prefix + "*")
            for path in segments:
                os.unlink(path)
        self.assertEqual(left, [], "processes left behind by %s" % arg)
        self.assertEqual(leftovers, [], "files left in scratch by %s" % arg)
        self.assertEqual(segments, [], "shared memory left by %s" % arg)
        with self.assertRaises(ChildProcessError):
            os.waitpid(-1, os.WNOHANG)
        if max_seconds is not None:
            self.assertLess(elapsed, max_seconds, "%s took %.1f s" % (arg, elapsed))
        self.assertEqual(proc.returncode, expect, "%s: %s" % (arg, err.strip()))
        if expect == 0:
            self.assertEqual(err, "", arg)
            self.assertEqual(out.count("\n"), 1, arg)
            doc = json.loads(out)
            self.assertIsInstance(doc, dict)
            self.assertEqual(doc["runtime"], PROBE["runtime"])
            return doc
        self.assertEqual(out, "", arg)
        self.assertEqual(err.count("\n"), 1, "%s: stderr is not one line: %r" % (arg, err))
        return err

    def expect_status(self, transport=None, model=None, serializer="none"):
        """0, or 3 where the probe says this interpreter cannot run the combination."""
        if serializer and PROBE["serializers"][serializer]:
            return 3
        if transport:
            t = PROBE["transports"][transport]
            if t["unavailable"] or model not in t["models"]:
                return 3
        return 0

    def pingpong(self, transport, model, serializer="none", **extra):
        spec = dict(experiment="pingpong", transport=transport, model=model, serializer=serializer, size=64, **extra)
        expect = self.expect_status(transport, model, serializer)
        doc = self.worker(spec, expect)
        if expect == 0:
            self.assertGreater(len(doc["samples_ns"]), 0)
            self.assertEqual(doc["checked"], len(doc["samples_ns"]))
            self.assertTrue(all(isinstance(s, int) and s > 0 for s in doc["samples_ns"]))
            self.assertGreater(doc["wire_bytes"], 0)
            if serializer == "none":
                self.assertEqual(doc["wire_bytes"], 64)
            self.assertIsInstance(doc["cpu_ns"], int)
            self.assertGreater(doc["cpu_ns"], 0)
        return doc


class ProbeTest(unittest.TestCase):
    def test_probe(self):
        self.assertTrue(PROBE["runtime"].startswith(sys.implementation.name + "-"))
        self.assertEqual(PROBE["executable"], sys.executable)
        self.assertIsInstance(PROBE["gil"], bool)
        self.assertEqual(set(PROBE["serializers"]), set(SERIALIZERS))
        self.assertEqual(set(PROBE["transports"]), {"py-pipe", "py-unix", "py-tcp", "py-udp", "py-mp-pipe",
                                                    "py-mp-queue", "py-shm", "py-mmap", "py-zmq"})
        for name, t in PROBE["transports"].items():
            self.assertIsInstance(t["unavailable"], str)
            self.assertNotIn("\n", t["unavailable"])
            self.assertIn("thread", t["models"], name)
            self.assertEqual("asyncio" in t["models"], name in ("py-pipe", "py-unix", "py-tcp", "py-udp"), name)


class PingpongTest(WorkerCase):
    def test_every_transport_and_model(self):
        for transport, t in PROBE["transports"].items():
            for model in t["models"]:
                with self.subTest(transport=transport, model=model):
                    self.pingpong(transport, model)

    def test_every_serializer_over_pipe_process(self):
        for serializer in SERIALIZERS:
            with self.subTest(serializer=serializer):
                doc = self.pingpong("py-pipe", "process", serializer)
                if serializer == "struct":
                    self.assertEqual(doc["wire_bytes"], 47)

    def test_a_serializer_over_rings_and_queue(self):
        for transport in ("py-shm", "py-mmap", "py-mp-queue"):
            with self.subTest(transport=transport):
                self.pingpong(transport, "process", "pickle5")
        self.pingpong("py-udp", "asyncio", "json")

    def test_large_messages_cross_the_ring_and_stream_framing(self):
        for transport in ("py-shm", "py-pipe", "py-tcp"):
            with self.subTest(transport=transport):
                doc = self.worker(dict(experiment="pingpong", transport=transport, model="process", size=3_000_001,
                                       duration_ms=50))
                self.assertEqual(doc["wire_bytes"], 3_000_001)


class StreamTest(WorkerCase):
    def stream(self, transport, model="process", serializer="none", size=64):
        spec = dict(experiment="stream", transport=transport, model=model, serializer=serializer, size=size)
        expect = self.expect_status(transport, model, serializer)
        doc = self.worker(spec, expect)
        if expect:
            return None
        self.assertGreater(doc["messages"], 0)
        self.assertEqual(doc["checked"], doc["messages"])
        self.assertGreater(doc["window_ns"], 100e6 * 0.99)
        if serializer == "none":
            self.assertEqual(doc["bytes"], doc["messages"] * size)
        if transport != "py-udp":
            self.assertEqual(doc["lost"], 0)
        self.assertGreater(doc["cpu_ns"], 0)
        return doc

    def test_every_transport_process(self):
        for transport in PROBE["transports"]:
            with self.subTest(transport=transport):
                self.stream(transport)

    def test_thread_and_asyncio_and_a_serializer(self):
        for transport, model, serializer in (("py-pipe", "thread", "none"), ("py-shm", "thread", "none"),
                                             ("py-tcp", "asyncio", "none"), ("py-udp", "asyncio", "none"),
                                             ("py-mp-queue", "process", "msgpack")):
            with self.subTest(transport=transport, model=model, serializer=serializer):
                self.stream(transport, model, serializer)


class SerializeTest(WorkerCase):
    def test_every_serializer(self):
        for serializer in SERIALIZERS:
            with self.subTest(serializer=serializer):
                spec = dict(experiment="serialize", serializer=serializer, size=64, batch=200, duration_ms=50)
                expect = self.expect_status(serializer=serializer)
                doc = self.worker(spec, expect)
                if expect == 0:
                    self.assertGreater(len(doc["samples_ns"]), 0)
                    self.assertEqual(doc["batch"], 200)
                    self.assertEqual(doc["checked"], 200 * len(doc["samples_ns"]))
                    self.assertGreater(doc["wire_bytes"], 0)


class CpuSwitchTest(WorkerCase):
    def test_cpu(self):
        for kind in ("thread", "process"):
            with self.subTest(kind=kind):
                doc = self.worker(dict(experiment="cpu", kind=kind, workers=2, iterations=300_000))
                self.assertGreater(doc["wall_ns"], 0)
                self.assertGreater(doc["cpu_ns"], 0)

    def test_switch(self):
        for kind, extra in (("generator", {}), ("coroutine", {}), ("thread", {}), ("thread", {"cross": True})):
            with self.subTest(kind=kind, **extra):
                doc = self.worker(dict(experiment="switch", kind=kind, batch=200, duration_ms=50, **extra))
                self.assertGreater(len(doc["samples_ns"]), 0)
                self.assertEqual(doc["batch"], 200)
                self.assertTrue(all(s > 0 for s in doc["samples_ns"]))


class ErrorTest(WorkerCase):
    def test_bad_specs_exit_2(self):
        pp = dict(experiment="pingpong", transport="py-pipe", model="process", size=64)
        bad_cpu = max(os.sched_getaffinity(0)) + 1000
        for spec in ("not json", "[1, 2]", dict(experiment="nap"), dict(pp, transport="py-carrier-pigeon"),
                     dict(pp, model="fiber"), dict(pp, size=4), dict(pp, size="64"), dict(pp, cpus=[bad_cpu]),
                     dict(pp, duration_ms=0), dict(pp, serializer="yaml"),
                     {k: v for k, v in pp.items() if k != "transport"},
                     dict(experiment="cpu", kind="thread", workers=0, iterations=10),
                     dict(experiment="switch", kind="fiber")):
            with self.subTest(spec=spec):
                self.worker(spec, 2)

    def test_unsupported_exit_3(self):
        for transport in ("py-mp-pipe", "py-mp-queue", "py-shm", "py-mmap", "py-zmq"):
            with self.subTest(transport=transport):
                self.worker(dict(experiment="pingpong", transport=transport, model="asyncio", size=64), 3)
        self.worker(dict(experiment="pingpong", transport="py-udp", model="process", size=70000), 3)

    def test_a_dead_server_fails_the_client_without_a_hang(self):
        cases = [(t, "process") for t in PROBE["transports"] if not PROBE["transports"][t]["unavailable"]]
        cases += [("py-pipe", "thread"), ("py-mp-queue", "thread"), ("py-shm", "thread"), ("py-tcp", "asyncio")]
        for transport, model in cases:
            with self.subTest(transport=transport, model=model):
                err = self.worker(dict(experiment="pingpong", transport=transport, model=model, size=64,
                                       fault="server-dies", timeout_ms=1000, **FAULT_TIMING), 1, max_seconds=8)
                self.assertIn("server", err)
        for transport in ("py-pipe", "py-shm", "py-mp-queue"):
            with self.subTest(experiment="stream", transport=transport):
                self.worker(dict(experiment="stream", transport=transport, model="process", size=64,
                                 fault="server-dies", timeout_ms=1000, **FAULT_TIMING), 1, max_seconds=8)

    def test_payload_errors_exit_4(self):
        for transport, model, serializer, fault in (
                ("py-pipe", "process", "none", "corrupt-reply"), ("py-shm", "thread", "json", "corrupt-reply"),
                ("py-pipe", "process", "none", "corrupt-request"),  # seen by the client: the echo differs
                ("py-tcp", "process", "json", "corrupt-request"),  # seen by the server: it cannot decode it
                ("py-unix", "asyncio", "pickle5", "corrupt-request")):
            with self.subTest(transport=transport, model=model, serializer=serializer, fault=fault):
                self.worker(dict(experiment="pingpong", transport=transport, model=model, serializer=serializer,
                                 size=64, fault=fault, **FAULT_TIMING), 4, max_seconds=8)
        for transport in ("py-pipe", "py-mmap"):
            with self.subTest(experiment="stream", transport=transport):
                self.worker(dict(experiment="stream", transport=transport, model="process", size=64,
                                 fault="corrupt-request", **FAULT_TIMING), 4, max_seconds=8)


if __name__ == "__main__":
    unittest.main()
