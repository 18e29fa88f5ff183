#!/usr/bin/python3
"""Tests of plots/plot.py, run as a subprocess on copies of the fixtures.

    /usr/bin/python3 -m unittest discover -s tests/plots -v      (from the repository root)
    /usr/bin/python3 tests/plots/test_plots.py

Needs an interpreter that can import matplotlib and numpy (Debian: /usr/bin/python3).
"""
import json
import os
import re
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


def lecture_charts():
    """The chart modules, drawing headless in the lecture style (what plot.py draws with)."""
    import matplotlib
    matplotlib.use("Agg")
    sys.path.insert(0, str(ROOT / "plots"))
    from bench_plots import common, ipc, style
    style.apply()
    return common, ipc, style

# Synthetic fixtures (failures, oversubscription, missing floors) are generated into a temporary folder,
# with fixtures/ipc-real (a real run's results.json, kept small) beside them.
FIXTURES = make_fixture.temporary_copy()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IPC_CHARTS = ("latency_vs_size", "throughput_vs_size", "pairs_throughput", "pairs_throughput_by_transport",
              "pairs_latency")
CONTENTION_CHARTS = ("contention_locks", "contention_false_sharing", "contention_gil_cpu", "contention_gil_convoy",
                     "contention_gil_placement")


class PlotTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-plots-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run_dir(self, fixture):
        run = self.tmp / fixture
        shutil.copytree(FIXTURES / fixture, run)
        return run

    def plot(self, run_dir, *args):
        return subprocess.run([sys.executable, str(PLOT), str(run_dir), *args], capture_output=True, text=True,
                              timeout=300)

    def assert_charts(self, run_dir, proc, names, formats=("png", "svg")):
        self.assertEqual(proc.returncode, 0, proc.stderr)
        expected = [run_dir / f"{n}.{f}" for n in names for f in formats]
        self.assertEqual(sorted(proc.stdout.split()), sorted(str(p) for p in expected))
        for path in expected:
            data = path.read_bytes()
            self.assertGreater(len(data), 10_000, path)
            if path.suffix == ".png":
                self.assertEqual(data[:8], PNG_SIGNATURE, path)
            elif path.suffix == ".svg":
                self.assertIn(b"<svg", data[:2000], path)
            elif path.suffix == ".pdf":
                self.assertEqual(data[:5], b"%PDF-", path)

    def test_ipc_small_all_charts(self):
        run = self.run_dir("ipc-small")
        self.assert_charts(run, self.plot(run), IPC_CHARTS)

    def test_real_run_all_charts(self):
        run = self.run_dir("ipc-real")
        self.assert_charts(run, self.plot(run), IPC_CHARTS)

    def test_contention_real_all_charts(self):
        run = self.run_dir("contention-real")
        self.assert_charts(run, self.plot(run), CONTENTION_CHARTS)

    def test_contention_failed_and_starved_cases_still_draw(self):
        # A lock case that failed every repetition (no median), and convoy cases whose I/O thread was starved
        # (null percentiles): every chart is still drawn, the failures named in its notes.
        doc = json.loads((FIXTURES / "contention-real" / "results.json").read_text())
        failed = next(r["run_name"] for r in doc["benchmarks"] if r.get("experiment") == "locks")
        rows = []
        for r in doc["benchmarks"]:
            if r["run_name"] == failed:
                if r["run_type"] == "aggregate":
                    continue
                r.update(error_occurred=True, error_message="timed out", real_time=None, cpu_time=None)
            if r.get("experiment") == "gil-convoy" and r.get("policy") == "new" and r.get("cpu_threads") == 2:
                r.update(rtt_p50_ns=None, rtt_p99_ns=None, round_trips_per_s=0, starved=1)
            rows.append(r)
        doc["benchmarks"] = rows
        (self.tmp / "results.json").write_text(json.dumps(doc))
        self.assert_charts(self.tmp, self.plot(self.tmp), CONTENTION_CHARTS)

    def test_contention_gil_cpu_draws_the_real_cpython_beside_the_emulation(self):
        # Rows of the real interpreter (runtime cpython-3.11) beside every emulated new-GIL gil-cpu case, three
        # times as slow: lines of their own, named as the real CPython, and the emulated lines keep their values.
        doc = json.loads((FIXTURES / "contention-real" / "results.json").read_text())
        real = []
        for r in doc["benchmarks"]:
            if r.get("experiment") == "gil-cpu" and r.get("policy") == "new":
                t = dict(r, runtime="cpython-3.11", name=r["name"] + "/runtime:cpython-3.11",
                         run_name=r["run_name"] + "/runtime:cpython-3.11")
                if isinstance(r.get("wall_ns"), (int, float)):
                    t["wall_ns"] = 3 * r["wall_ns"]
                real.append(t)
        self.assertTrue(real)
        doc["benchmarks"] += real
        doc["context"]["cpython_gil_cpu"] = {"countdown_iterations": 5_000_000, "calibration_ns_per_iteration": 40.0}
        common, _, style = lecture_charts()
        from bench_plots import contention
        cases = common.cases(doc)
        fig = contention.gil_cpu(cases, doc["context"])
        wall_ax, cpu_ax = fig.axes[0], fig.axes[1]
        labels = [t.get_text() for t in cpu_ax.get_legend().get_texts()]
        self.assertIn("real CPython 3.11, threads", labels)
        self.assertIn("real CPython 3.11, processes", labels)

        def walls(runtime, model):
            pts = sorted((c.ident["threads"], c.value("wall_ns")) for c in cases if c.ident.get("experiment") == "gil-cpu"
                         and c.ident.get("policy") == "new" and c.ident.get("model") == model
                         and (c.ident.get("runtime") or "cpp") == runtime)
            return [w for _, w in pts]

        def drawn(color, linestyle):
            return [list(line.get_ydata()) for line in wall_ax.get_lines() if len(line.get_ydata()) > 1
                    and line.get_color() == color and line.get_linestyle() == linestyle]

        self.assertIn(walls("cpp", "thread"), drawn(style.lock_color("new"), "-"))
        self.assertIn(walls("cpython-3.11", "thread"), drawn(contention.CPYTHON_COLOR, "-"))
        self.assertIn(walls("cpython-3.11", "process"), drawn(contention.CPYTHON_COLOR, "--"))
        self.assertNotIn(walls("cpython-3.11", "thread"), drawn(style.lock_color("new"), "-"))
        self.assertIn("5,000,000 steps", "".join(t.get_text() for t in fig.texts))

    def test_ipc_serialized_run_draws_the_stacked_charts_only(self):
        # A --serializers run: one stacked chart per shape; the charts of raw bytes against size have no data.
        run = self.run_dir("ipc-serialize")
        self.assert_charts(run, self.plot(run), ("ipc_serialize_small", "ipc_serialize_large"))

    def test_no_floor_and_no_throughput_rows_skips_charts(self):
        # Null c2c/xcore floors, an oversubscribed machine, latency rows only: no throughput charts, no empty files.
        run = self.run_dir("ipc-nofloor")
        proc = self.plot(run)
        self.assert_charts(run, proc, ("latency_vs_size", "pairs_latency"))
        self.assertFalse(list(run.glob("throughput_vs_size.*")) + list(run.glob("pairs_throughput.*")))

    def test_formats_and_paper_style(self):
        run = self.run_dir("ipc-small")
        proc = self.plot(run, "--formats", "pdf,png", "--style", "paper")
        self.assert_charts(run, proc, IPC_CHARTS, formats=("pdf", "png"))
        self.assertFalse(list(run.glob("*.svg")))

    def test_missing_results_is_exit_2_with_one_line(self):
        proc = self.plot(self.tmp)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("results.json", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_malformed_json_is_exit_2_with_one_line(self):
        for text in ('{"context": {"suite": "ipc"}, "benchmarks": [', '[1, 2]', '{"context": {}}'):
            with self.subTest(text=text):
                (self.tmp / "results.json").write_text(text)
                proc = self.plot(self.tmp)
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
                self.assertEqual(proc.stdout, "")

    def test_unknown_suite_exits_0_without_files(self):
        (self.tmp / "results.json").write_text(json.dumps({"context": {"suite": "teleport"}, "benchmarks": []}))
        proc = self.plot(self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertIn("no charts for suite teleport yet", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["results.json"])

    def test_ipc_without_rows_writes_nothing(self):
        doc = json.loads((FIXTURES / "ipc-small" / "results.json").read_text())
        doc["benchmarks"] = []
        (self.tmp / "results.json").write_text(json.dumps(doc))
        proc = self.plot(self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["results.json"])


class SerializedChartTest(unittest.TestCase):
    """The stacked chart of ipc --serializers, in-process: what is drawn is what the rows say."""

    @classmethod
    def setUpClass(cls):
        import matplotlib
        matplotlib.use("Agg")
        sys.path.insert(0, str(ROOT / "plots"))
        from bench_plots import common, ipc, ipc_serialize, style
        cls.common, cls.ipc, cls.ipc_serialize, cls.style = common, ipc, ipc_serialize, style
        style.apply("lecture")
        cls.doc = json.loads((FIXTURES / "ipc-serialize" / "results.json").read_text())
        cls.cases = ipc._ipc_cases(cls.doc, serialized=True)

    def median(self, transport, serializer, shape, field):
        return next(r[field] for r in self.doc["benchmarks"] if r.get("aggregate_name") == "median"
                    and (r["transport"], r["serializer"], r["shape"]) == (transport, serializer, shape))

    def test_bars_stack_serialize_transport_deserialize_medians(self):
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
        fig = self.ipc_serialize.shape_chart(self.cases, self.doc["context"], "large")
        self.addCleanup(plt.close, fig)
        panels = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}
        self.assertEqual(sorted(panels), ["shm, thread model", "unix, thread model"])
        fields = ("serialize_ns", "transport_ns", "deserialize_ns")
        for transport, serializers in (("unix", ("raw", "protobuf", "capnp", "json")),
                                       ("shm", ("raw", "protobuf", "capnp"))):  # json large failed on shm
            bars = [p for p in panels[f"{transport}, thread model"].patches if isinstance(p, Rectangle)]
            self.assertEqual(len(bars), 3 * len(serializers), transport)
            for i, ser in enumerate(serializers):
                left = 0.0
                for j, field in enumerate(fields):
                    bar = bars[3 * i + j]
                    self.assertAlmostEqual(bar.get_x(), left, places=3, msg=(transport, ser, field))
                    self.assertAlmostEqual(bar.get_width(), self.median(transport, ser, "large", field), places=3)
                    left += bar.get_width()
        texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
        self.assertIn("FAILED", texts)
        footer = " ".join(t.get_text() for t in fig.texts)
        self.assertIn("failed: shm/thread json: client: json could not read the server's reply", footer)
        self.assertIn("Large message round trip: unix vs shm, thread model", footer)

    def test_raw_bytes_charts_leave_serialized_cases_out(self):
        self.assertEqual(self.ipc._ipc_cases(self.doc), [])
        bare = json.loads((FIXTURES / "ipc-small" / "results.json").read_text())
        self.assertEqual(self.ipc._ipc_cases(bare, serialized=True), [])

    def test_report_sentences_quote_the_bars(self):
        said = self.ipc.describe("ipc_serialize_small", self.doc)
        total = {s: self.median("unix", s, "small", "rtt_p50_ns") for s in ("raw", "protobuf", "capnp", "json")}
        fast, slow = min(total, key=total.get), max(total, key=total.get)
        self.assertIn(f"Over unix (thread model) a small message's round trip took {self.style.fmt_time(total[fast])} "
                      f"with {fast}", said[0])
        self.assertIn(f"{self.style.fmt_time(total[slow])} with {slow}", said[0])
        large = " ".join(self.ipc.describe("ipc_serialize_large", self.doc))
        self.assertIn("1 case failed", large)
        self.assertEqual(self.ipc.describe("ipc_serialize_medium", self.doc), [])


class FormatTest(unittest.TestCase):
    """The tick label helpers (imported in-process)."""

    @classmethod
    def setUpClass(cls):
        import matplotlib
        matplotlib.use("Agg")
        sys.path.insert(0, str(ROOT / "plots"))
        from bench_plots import style
        cls.style = style

    def test_units(self):
        s = self.style
        self.assertEqual([s.fmt_time(v) for v in (250, 1e4, 1.5e6, 2e9)], ["250 ns", "10 us", "1.5 ms", "2 s"])
        self.assertEqual([s.fmt_size(v) for v in (64, 4096, 2**20, 1536)], ["64 B", "4 KiB", "1 MiB", "1.5 KiB"])
        self.assertEqual([s.fmt_rate(v) for v in (950, 2.5e5, 1.2e6)], ["950", "250 k", "1.2 M"])
        self.assertEqual([s.fmt_bytes_rate(v) for v in (3.5e8, 2.5e9)], ["350 MB/s", "2.5 GB/s"])

    def test_colours_are_fixed(self):
        s = self.style
        self.assertEqual(s.transport_color("tcp"), "#d62728")
        self.assertEqual(s.transport_color("carrier-pigeon"), s.transport_color("carrier-pigeon"))
        self.assertEqual(len({s.transport_color(t) for t in s.TRANSPORT_COLORS}), len(s.TRANSPORT_COLORS))
        self.assertEqual(s.model_style("process"), ("--", "s"))

    def test_every_registered_transport_has_its_own_colour(self):
        # A transport without an entry gets a hashed fallback colour, which may land in another family's hue
        # (zmq-reqrep did: a purple beside shm-spin's). ctest names the binary; run alone, the test says so.
        binary = os.environ.get("BENCH_BINARY")
        if not binary:
            self.skipTest("BENCH_BINARY not set (ctest sets it): cannot ask bench list transports")
        out = subprocess.run([binary, "list", "transports"], capture_output=True, text=True, timeout=60, check=True)
        names = re.findall(r"^  (\S+) ", out.stdout, re.M)
        self.assertGreaterEqual(len(names), 10, out.stdout)
        self.assertEqual([n for n in names if n not in self.style.TRANSPORT_COLORS], [])

    def test_subtitle_warns_when_oversubscribed(self):
        machine, warning = self.style.subtitle({"cpu_model": "Xeon", "cores_available": 2, "kernel": "Linux 6.1",
                                                "placement": "cross", "wait": "block", "oversubscribed": True,
                                                "cores_requested": 8})
        self.assertEqual(machine, "Xeon · 2 CPUs · Linux 6.1 · placement: cross · wait: block")
        self.assertTrue(warning.startswith("OVERSUBSCRIBED: 8 cores requested on 2"))


class OneSizeTest(unittest.TestCase):
    """A run of one message size puts every latency point in one column: close values must not hide each other."""

    def test_points_are_spread_sideways_and_carry_their_p99_bar(self):
        common, ipc, style = lecture_charts()
        doc = make_fixture.document(make_fixture.context(cores_requested=2, cores_available=2, c2c=55.0, xcore=8.0),
                                    make_fixture.cases(["pipe", "unix"], ["thread", "process"], [64], [1], ["latency"]),
                                    2, {})
        fig = ipc.latency_vs_size(common.cases(doc), doc["context"])
        ax = fig.axes[0]
        fig.canvas.draw()
        points = [ln for ln in ax.get_lines() if ln.get_marker() not in (None, "None", "", "x") and len(ln.get_xdata()) == 1
                  and ln.get_linestyle() == "None"]
        xs = {round(float(ln.get_transform().transform((ln.get_xdata()[0], ln.get_ydata()[0]))[0])) for ln in points}
        self.assertEqual(len(points), 4)
        self.assertEqual(len(xs), 4, "four series at one size: four distinct columns on the page")
        lo, hi = ax.get_ylim()
        for ln in points:  # inside the axes: a shifted point must count in the autoscaled range
            self.assertTrue(lo < ln.get_ydata()[0] < hi, (ln.get_ydata()[0], lo, hi))
        bars = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1]]
        self.assertEqual(len(bars), 4, "a p50-to-p99 bar per series")
        for bar in bars:
            self.assertLess(bar.get_ydata()[0], bar.get_ydata()[1])
        common.discard(fig)


class PacedCaptionTest(unittest.TestCase):
    def test_a_paced_run_is_not_called_ping_pong(self):
        common, ipc, style = lecture_charts()
        doc = make_fixture.document(make_fixture.context(cores_requested=2, cores_available=2, c2c=55.0, xcore=8.0),
                                    make_fixture.cases(["pipe", "unix"], ["thread"], [64, 4096], [1], ["latency"]),
                                    2, {})

        def caption():
            fig = ipc.latency_vs_size(common.cases(doc), doc["context"])
            text = " ".join(t.get_text() for t in fig.texts)
            common.discard(fig)
            return text

        self.assertIn("one client/server pair, ping-pong", caption())
        for r in doc["benchmarks"]:
            r["rate"] = 2000.0
        self.assertIn("paced at 2 k round trips/s (open loop; latency from each intended send time)", caption())
        self.assertNotIn("ping-pong", caption())


class SizeAxisTest(unittest.TestCase):
    def test_a_size_label_close_to_the_one_before_goes_a_line_lower(self):
        """eventfd's 32 B beside 64 B printed "32 64 B" on a 32 B..1 MiB axis; sizes far apart stay on one line."""
        common, _, style = lecture_charts()
        fig, axes = common.figure()
        ax = axes[0]
        sizes = [32, 64, 4096, 65536, 2 ** 20]
        ax.plot(sizes, [1, 2, 3, 4, 5])
        common.log2_axis(ax.xaxis, sizes, style.fmt_size)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels()]
        self.assertEqual(labels, ["32 B", "\n64 B", "4 KiB", "64 KiB", "1 MiB"])
        common.log2_axis(ax.yaxis, sizes, style.fmt_size)  # the y axis: no line breaks
        fig.canvas.draw()
        self.assertEqual([t.get_text() for t in ax.get_yticklabels()], ["32 B", "64 B", "4 KiB", "64 KiB", "1 MiB"])
        common.discard(fig)


class LegendTest(unittest.TestCase):
    def test_many_lines_with_a_wait_bound_to_its_transport_keep_two_short_keys(self):
        """16 lines where one transport always spins: the wait goes beside that transport's colour, not into 16
        'transport / model (wait)' entries that no one can read."""
        common, _, style = lecture_charts()
        from unittest import mock
        with mock.patch.dict(make_fixture.MODEL_EXTRA_NS, {"async": 9000.0, "async-uring": 8000.0}):
            doc = make_fixture.document(make_fixture.context(cores_requested=8, cores_available=8, c2c=55.0, xcore=8.0),
                                        make_fixture.cases(["pipe", "fifo", "unix", "tcp"],
                                                           ["thread", "process", "async", "async-uring"], [64], [1, 2],
                                                           ["latency"]), 2, {})
        for row in doc["benchmarks"]:
            if row["transport"] == "tcp":
                row["wait"] = "spin"
        fig, (ax,) = common.figure()
        drawn = common.draw_lines(ax, common.select(common.cases(doc), workload="latency"), "pairs", "rtt_p50_ns")
        self.assertEqual(len(drawn.lines), 16)
        texts = [t.get_text() for t in common.legend(ax, [drawn]).get_texts()]
        self.assertIn("transport (colour)", texts)
        self.assertIn("tcp (spins)", texts)
        self.assertIn("model (line, marker)", texts)
        self.assertFalse(any(" / " in t for t in texts), texts)
        # The key shows each transport's own colour: so must its lines, tcp's (always "spins") too.
        from matplotlib.colors import to_hex
        for (transport, _, _), color in drawn.colors.items():
            self.assertEqual(to_hex(color), style.transport_color(transport), transport)
        common.discard(fig)

    def test_panels_named_by_transport_key_the_models_only(self):
        """Each panel's title names its transport: the legend keys the models and the marks, no transports."""
        common, ipc, style = lecture_charts()
        doc = json.loads((FIXTURES / "ipc-small" / "results.json").read_text())
        fig = ipc.pairs_throughput_by_transport(common.cases(doc), doc["context"])
        texts = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
        self.assertIn("model (line, marker)", texts)
        self.assertIn("process", texts)
        self.assertFalse(any(" / " in t or t in ("pipe", "unix", "transport (colour)") for t in texts), texts)
        common.discard(fig)

    def test_fifteen_transports_stay_a_landscape_slide(self):
        """A default run's 15 transports: 3 rows, widened, the key in a spare slot (5 rows of 3 were a page
        three slides tall)."""
        common, ipc, style = lecture_charts()
        names = ["pipe", "fifo", "unix", "unix-dgram", "unix-seqpacket", "tcp", "udp", "shm-spin", "shm",
                 "shm-eventfd", "mmap", "mq", "zmq-inproc", "zmq-ipc", "zmq-tcp"]
        from unittest import mock
        with mock.patch.dict(make_fixture.TRANSPORTS, {n: make_fixture.TRANSPORTS["pipe"] for n in names
                                                       if n not in make_fixture.TRANSPORTS}):
            doc = make_fixture.document(make_fixture.context(cores_requested=8, cores_available=8, c2c=55.0,
                                                             xcore=8.0),
                                        make_fixture.cases(names, ["thread", "process"], [64], [1, 2, 4],
                                                           ["throughput"]), 2, {})
        fig = ipc.pairs_throughput_by_transport(common.cases(doc), doc["context"])
        width, height = fig.get_size_inches()
        self.assertGreater(width / height, 1.5, (width, height))
        titled = [ax for ax in fig.axes if ax.get_title(loc="left")]
        self.assertEqual(len(titled), 15)
        fig.canvas.draw()
        rows = {round(ax.get_position().y0, 3) for ax in titled}
        self.assertEqual(len(rows), 3, rows)
        keyed = [ax for ax in fig.axes if ax.get_legend()]
        self.assertEqual(len(keyed), 1)
        self.assertFalse(keyed[0].axison, "the key sits in a spare slot of the grid, not beside a panel")
        common.discard(fig)

class FloorLinesTest(unittest.TestCase):
    """The floor lines come from the rounds' own floors: the lowest round trip and the highest streaming rate, so
    that no median of unflagged rows crosses them; a point beyond its round's floor is ringed, and the key says so."""

    def doc(self):
        return make_fixture.document(make_fixture.context(cores_requested=2, cores_available=2, c2c=55.0, xcore=8.0),
                                     make_fixture.cases(["pipe", "unix"], ["thread"], [64, 65536], [1],
                                                        ["latency", "throughput"]), 2, {})

    def reference_lines(self, fig):
        ax = fig.axes[0]
        return {ln.get_ydata()[0]: ln for ln in ax.get_lines()
                if len(ln.get_ydata()) == 2 and ln.get_ydata()[0] == ln.get_ydata()[1] and ln.get_color() == "#666666"}

    def texts(self, fig):
        ax = fig.axes[0]
        legend = ax.get_legend()
        return [t.get_text() for t in ax.texts] + ([t.get_text() for t in legend.get_texts()] if legend else [])

    def test_lowest_round_trip_and_highest_streaming_of_the_rounds(self):
        common, ipc, style = lecture_charts()
        doc = make_fixture.with_round_floors(self.doc(), [150.0, 120.0, 135.0], [8.0, 9.5, 8.5])
        fig = ipc.latency_vs_size(common.cases(doc), doc["context"])
        self.assertEqual(list(self.reference_lines(fig)), [120.0])
        self.assertIn("cache-line round trip (hardware floor, lowest of 3 rounds): 120 ns", self.texts(fig))
        common.discard(fig)
        fig = ipc.throughput_vs_size(common.cases(doc), doc["context"])
        self.assertIn(9.5e9, self.reference_lines(fig))
        self.assertNotIn(8.0e9, self.reference_lines(fig), "the run-start figure is not drawn when rounds have theirs")
        self.assertTrue(any(t.startswith("cross-core streaming (hardware ceiling, highest of 3 rounds)")
                            for t in self.texts(fig)))
        common.discard(fig)

    def test_old_results_fall_back_to_the_run_start_floor(self):
        common, ipc, style = lecture_charts()
        doc = self.doc()  # rounds without a floor of their own
        fig = ipc.latency_vs_size(common.cases(doc), doc["context"])
        self.assertEqual(list(self.reference_lines(fig)), [110.0])
        self.assertIn("cache-line round trip (hardware floor, run start): 110 ns", self.texts(fig))
        common.discard(fig)

    def test_points_beyond_their_rounds_floor_are_ringed_and_keyed(self):
        common, ipc, style = lecture_charts()
        doc = make_fixture.with_round_floors(self.doc(), [150.0, 120.0, 135.0], [8.0, 9.5, 8.5])
        fig = ipc.latency_vs_size(common.cases(doc), doc["context"])
        self.assertFalse([ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "below_floor"])
        self.assertFalse([t for t in self.texts(fig) if "hardware floor (not" in t])
        common.discard(fig)
        name = make_fixture.run_name("unix", "thread", "latency", 64, 1)
        make_fixture.flag_below_floor(doc, name)
        fig = ipc.latency_vs_size(common.cases(doc), doc["context"])
        rings = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "below_floor"]
        self.assertEqual(len(rings), 1)
        median = next(r for r in doc["benchmarks"] if r.get("run_name") == name and r.get("aggregate_name") == "median")
        self.assertEqual((rings[0].get_xdata()[0], rings[0].get_ydata()[0]), (64, median["rtt_p50_ns"]))
        self.assertIn("ringed: beyond its round's\nhardware floor (not to be\ntrusted; below_floor_reason)",
                      self.texts(fig))
        common.discard(fig)


if __name__ == "__main__":
    unittest.main(verbosity=2)
