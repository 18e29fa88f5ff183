#!/usr/bin/python3
"""Tests of the CPU-vs-latency chart (plots/bench_plots/ipc_cpu.py) and its sentences, on a small synthetic run.

    /usr/bin/python3 tests/plots/test_ipc_cpu.py
"""
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLOT = ROOT / "plots" / "plot.py"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixture  # noqa: E402

# (transport, wait, size, mean round trip ns, CPU ns per round trip, both ends): what a quiet 2-core run gives.
POINTS = [
    ("shm-spin", "spin", 64, 330.0, 660.0),
    ("shm", "adaptive", 64, 360.0, 700.0),
    ("shm-eventfd", "block", 64, 45000.0, 12000.0),
    ("mmap", "adaptive", 64, 380.0, 740.0),
    ("eventfd", "block", 32, 42000.0, 11000.0),
    ("eventfd", "spin", 32, 2400.0, 4700.0),
    ("pipe", "block", 64, 48000.0, 14000.0),
    ("pipe", "spin", 64, 2500.0, 4900.0),
    ("pipe", "spin", 65536, 30000.0, 60000.0),  # a larger size of the same line: not the one drawn
    ("tcp", "block", 64, 60000.0, 20000.0),     # not one of the chart's transports
]


def row(transport, model, wait, size, rtt, cpu, rep):
    name = (f"ipc/transport:{transport}/model:{model}/serializer:none/workload:latency/wait:{wait}/"
            f"placement:cross/size:{size}/pairs:1")
    return {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 3, "repetition_index": rep,
            "suite": "ipc", "transport": transport, "model": model, "serializer": "none", "workload": "latency",
            "wait": wait, "placement": "cross", "msg_bytes": size, "pairs": 1, "rate": 0.0, "oversubscribed": False,
            "error_occurred": False, "error_message": "", "excluded": False, "real_time": rtt * 0.9,
            "rtt_p50_ns": rtt * 0.9, "rtt_p99_ns": rtt * 3, "rtt_mean_ns": rtt * (0.98 + 0.02 * rep),
            "cpu_ns_per_msg": cpu, "cpu_time": cpu, "messages": 1000, "lost": 0, "corrupt": 0, "time_unit": "ns"}


def document(points=POINTS, models=("thread", "process")):
    ctx = make_fixture.context(cores_requested=2, cores_available=2, c2c=55.0, xcore=8.0)
    ctx["wait"] = "block,spin"
    rows = [row(t, m, w, s, rtt * (1.1 if m == "process" else 1.0), cpu, rep)
            for rep in range(3) for m in models for t, w, s, rtt, cpu in points]
    return {"context": ctx, "benchmarks": rows}


class CpuChartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import matplotlib
        matplotlib.use("Agg")
        sys.path.insert(0, str(ROOT / "plots"))
        from bench_plots import common, ipc, ipc_cpu, style
        style.apply("lecture")  # what plot.py draws with: the size the labels must fit
        cls.common, cls.ipc, cls.ipc_cpu = common, ipc, ipc_cpu

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-ipc-cpu-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_plot_draws_the_chart(self):
        (self.tmp / "results.json").write_text(json.dumps(document()))
        proc = subprocess.run([sys.executable, str(PLOT), str(self.tmp), "--formats", "png"], capture_output=True,
                              text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(str(self.tmp / "cpu_vs_latency.png"), proc.stdout.split())
        self.assertGreater((self.tmp / "cpu_vs_latency.png").stat().st_size, 10_000)

    def test_one_point_per_line_at_its_smallest_size_and_only_the_chosen_transports(self):
        points = self.ipc_cpu._points(self.common.cases(document()))
        self.assertEqual(sorted(points), ["process", "thread"])
        drawn = {(c.ident["transport"], c.ident["wait"]): (c.ident["msg_bytes"], rtt, cpu)
                 for c, rtt, cpu in points["thread"]}
        self.assertNotIn(("tcp", "block"), drawn)
        self.assertEqual(drawn[("pipe", "spin")], (64, 2500.0, 4900.0))  # the mean of 0.98, 1.0, 1.02 x 2500
        self.assertEqual(drawn[("eventfd", "block")][0], 32)
        self.assertEqual(len(drawn), 8)

    def test_sentences_are_computed_from_the_points(self):
        said = self.ipc.describe("cpu_vs_latency", document())
        self.assertEqual(len(said), 3, said)
        self.assertIn("330 ns for shm-spin between threads (polls)", said[0])
        self.assertIn("660 ns of CPU", said[0])
        self.assertIn("2.00 CPUs busy", said[0])
        self.assertIn("14 us (21x that), went to pipe between threads (sleeps in the kernel)", said[1])
        self.assertIn("from 48 us to 2.5 us", said[2])

    def test_paced_runs_count_busy_cpus_over_the_pacing_interval(self):
        # 1000 round trips/s: two polling ends burn 2 ms of CPU per round trip whatever the round trip takes.
        points = [("shm-spin", "spin", 64, 400.0, 2.0e6), ("shm", "adaptive", 64, 90000.0, 95000.0)]
        doc = document(points, models=("thread",))
        for r in doc["benchmarks"]:
            r["rate"] = 1000.0
        said = self.ipc.describe("cpu_vs_latency", doc)
        self.assertIn("2.00 CPUs busy", said[0])
        self.assertEqual(len(said), 1, said)  # the fastest is also the dearest: no second sentence
        self.assertIsNotNone(self.ipc_cpu.cpu_vs_latency(self.common.cases(doc), doc["context"]))

    def test_point_labels_keep_off_the_diagonals_and_floor_labels(self):
        # A default run on the 2-vCPU VM: the shm family at 0.4 us, right where "CPU = latency" is written.
        points = [("shm-spin", "spin", 64, 386.0, 790.0), ("shm", "adaptive", 64, 390.0, 800.0),
                  ("mmap", "adaptive", 64, 396.0, 820.0), ("shm-eventfd", "block", 64, 56000.0, 38000.0),
                  ("eventfd", "block", 32, 55000.0, 39000.0), ("pipe", "block", 64, 55000.0, 36000.0)]
        doc = document(points)
        doc["context"]["floor"]["c2c_one_way_ns"] = 59.0
        fig = self.ipc_cpu.cpu_vs_latency(self.common.cases(doc), doc["context"])
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        from matplotlib.text import Text

        def extent(t):  # the text alone: an annotation's own extent includes its arrow
            return Text.get_window_extent(t, renderer)
        names = {p[0] for p in points} | {"eventfd, 32 B"}
        for ax in fig.axes:
            texts = [t for t in ax.texts if t.get_text()]
            labels = [t for t in texts if t.get_text() in names]
            fixed = [t for t in texts if t.get_text() not in names]
            self.assertEqual(len(labels), len(points), [t.get_text() for t in texts])
            self.assertGreaterEqual(len(fixed), 3, [t.get_text() for t in texts])
            for label in labels:
                box = extent(label)
                for other in fixed + [t for t in labels if t is not label]:
                    self.assertFalse(box.overlaps(extent(other)),
                                     f"{label.get_text()!r} overlaps {other.get_text()!r}")

    def test_a_point_on_the_always_busy_line_keeps_its_label_off_it(self):
        # Paced at 2000/s: a spinning pair burns 2 x 500 us per round trip, so its point sits on that line.
        points = [("shm-spin", "spin", 64, 13000.0, 1.0e6), ("shm", "adaptive", 64, 60000.0, 65000.0),
                  ("pipe", "block", 64, 62000.0, 26000.0)]
        doc = document(points, models=("thread",))
        for r in doc["benchmarks"]:
            r["rate"] = 2000.0
        fig = self.ipc_cpu.cpu_vs_latency(self.common.cases(doc), doc["context"])
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        from matplotlib.text import Text
        ax = fig.axes[0]
        busy = [ln for ln in ax.get_lines() if list(ln.get_ydata()) == [1.0e6, 1.0e6]]
        self.assertEqual(len(busy), 1, "one 'both ends always busy' line at 2 x 500 us")
        label = next(t for t in ax.texts if t.get_text() == "shm-spin")
        self.assertFalse(Text.get_window_extent(label, renderer).overlaps(busy[0].get_window_extent(renderer)))

    def test_no_chart_without_a_polling_point(self):
        blocking = [p for p in POINTS if p[1] == "block"]
        self.assertIsNone(self.ipc_cpu.cpu_vs_latency(self.common.cases(document(blocking)), {}))
        self.assertEqual(self.ipc.describe("cpu_vs_latency", document(blocking)), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
