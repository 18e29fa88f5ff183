#!/usr/bin/python3
"""Tests of plots/report.py, run as a subprocess on copies of the fixtures, and of the page in a real browser.

    /usr/bin/python3 tests/plots/test_report.py

The browser test needs Debian's chromium package (skipped, saying so, without it). BENCH_REPORT_SCREENSHOT=FILE
keeps a copy of the screenshot it takes, to look at.
"""
import base64
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "plots" / "report.py"
PLOT = ROOT / "plots" / "plot.py"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "plots"))
import make_fixture  # noqa: E402
from bench_plots import style  # noqa: E402  (the formatting under test is tested in test_plots.py)

FIXTURES = make_fixture.temporary_copy()
CHROMIUM = make_fixture.CHROMIUM


def run(script, *args):
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


class Page(html.parser.HTMLParser):
    """The parts of the report a test looks at: every tag's attributes, figure captions, table rows, text."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.captions, self.rows, self.text = [], [], [], []
        self._caption = self._row = self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "figcaption":
            self._caption = []
        elif tag == "p" and self._caption is not None:
            self._caption.append(" ")
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self.captions.append(" ".join("".join(self._caption).split()))
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._caption is not None:
            self._caption.append(data)
        if self._cell is not None:
            self._cell.append(data)


def who(row):
    """The words the report uses for a row's transport and model: "pipe between threads"."""
    return f"{row['transport']} between {dict(thread='threads', process='processes')[row['model']]}"


def medians(fixture, **criteria):
    """The aggregate median rows of a fixture that match every criterion."""
    doc = json.loads((FIXTURES / fixture / "results.json").read_text())
    return [r for r in doc["benchmarks"] if r.get("aggregate_name") == "median"
            and all(r.get(k) == v for k, v in criteria.items())]


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
        for name in ("ipc-real", "ipc-small"):
            shutil.copytree(FIXTURES / name, cls.tmp / name)
        cls.proc = run(REPORT, cls.tmp / "ipc-real", cls.tmp / "ipc-small")
        cls.path = cls.tmp / "ipc-real" / "report.html"
        cls.html = cls.path.read_text(encoding="utf-8") if cls.path.exists() else ""
        cls.page = Page(cls.html)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_writes_one_file_into_the_first_run(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.proc.stdout.strip(), str(self.path))
        self.assertEqual(self.proc.stderr, "")
        # The charts are drawn elsewhere: the run folders get the page and nothing else.
        self.assertEqual(sorted(p.name for p in (self.tmp / "ipc-real").iterdir()), ["report.html", "results.json"])
        self.assertEqual(sorted(p.name for p in (self.tmp / "ipc-small").iterdir()), ["results.json"])

    def test_nothing_to_fetch(self):
        self.assertTrue(self.html.startswith("<!DOCTYPE html>"))
        for tag, attrs in self.page.tags:
            for key in ("src", "href", "srcset", "poster", "action", "data", "xlink:href", "background"):
                value = attrs.get(key)
                if value is not None:
                    self.assertTrue(value.startswith(("data:", "#")), f"<{tag} {key}={value[:80]}>")
        self.assertNotRegex(self.html, r"(?i)https?://")
        self.assertNotRegex(self.html, r"(?i)(src|href)\s*=\s*[\"']?//")
        self.assertNotRegex(self.html, r"(?i)@import|url\(")
        csp = [a["content"] for t, a in self.page.tags if t == "meta" and a.get("http-equiv") ==
               "Content-Security-Policy"]
        self.assertEqual(len(csp), 1)
        self.assertIn("default-src 'none'", csp[0])

    def test_embeds_every_chart(self):
        expected = 0
        for name in ("ipc-real", "ipc-small"):
            out = self.tmp / f"charts-{name}"
            shutil.copytree(FIXTURES / name, out)
            proc = run(PLOT, out, "--formats", "svg")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            expected += len(proc.stdout.split())
        images = [a["src"] for t, a in self.page.tags if t == "img"]
        self.assertEqual(len(images), expected)
        self.assertEqual(expected, 10)
        for src in images:
            prefix = "data:image/svg+xml;base64,"
            self.assertTrue(src.startswith(prefix))
            svg = base64.b64decode(src[len(prefix):])
            self.assertIn(b"<svg", svg[:2000])
            self.assertGreater(len(svg), 10_000)
        self.assertEqual(len(self.page.captions), expected)

    def test_sentences_carry_the_measured_figures(self):
        real = self.page.captions[:5]
        fastest = min(medians("ipc-real", workload="latency", pairs=1, msg_bytes=64), key=lambda r: r["rtt_p50_ns"])
        slowest = max(medians("ipc-real", workload="latency", pairs=1, msg_bytes=64), key=lambda r: r["rtt_p50_ns"])
        floor = json.loads((FIXTURES / "ipc-real" / "results.json").read_text())["context"]["floor"]
        self.assertIn(f"A 64 B round trip took {style.fmt_time(fastest['rtt_p50_ns'])} (p50) for {who(fastest)} and "
                      f"{style.fmt_time(slowest['rtt_p50_ns'])} for {who(slowest)}", real[0])
        self.assertIn(f"was {style.fmt_time(floor['c2c_round_trip_ns'])}: "
                      f"{fastest['rtt_p50_ns'] / floor['c2c_round_trip_ns']:.0f}x less than the fastest", real[0])
        self.assertIn("115 ns: 473x less", real[0])  # the same, written out once by hand

        best = max(medians("ipc-real", workload="throughput", pairs=1, msg_bytes=65536),
                   key=lambda r: r["bytes_per_s"])
        self.assertIn(f"{who(best)} streamed "
                      f"{style.fmt_bytes_rate(best['bytes_per_s'])}, "
                      f"{100 * best['bytes_per_s'] / (floor['xcore_gbps'] * 1e9):.0f}% of the cross-core streaming "
                      f"ceiling ({style.fmt_bytes_rate(floor['xcore_gbps'] * 1e9)})", real[1])
        self.assertIn("1.28 GB/s, 9% of the cross-core streaming ceiling (14.4 GB/s)", real[1])

        # Figures of the other run, and its failed case, under its own charts.
        small = self.page.captions[5:]
        fastest = min(medians("ipc-small", workload="latency", pairs=1, msg_bytes=64), key=lambda r: r["rtt_p50_ns"])
        self.assertIn(f"took {style.fmt_time(fastest['rtt_p50_ns'])} (p50)", small[0])
        self.assertIn("Marked x: 1 case failed", small[0])
        self.assertIn("ECONNRESET", small[0])
        one = medians("ipc-small", workload="throughput", pairs=1, transport="pipe", model="thread", msg_bytes=64)[0]
        four = medians("ipc-small", workload="throughput", pairs=4, transport="pipe", model="thread")[0]
        self.assertIn(f"With 4 pairs at once, pipe between threads delivered {style.fmt_rate(four['msgs_per_s'])} "
                      f"64 B messages/s in all, {four['msgs_per_s'] / one['msgs_per_s']:.1f}x its rate with 1 pair",
                      small[2])
        self.assertIn("From 4 pairs on (shaded) the endpoints outnumber the 4 CPUs", small[2])
        for caption in self.page.captions:  # "Figure N" and two or three sentences, besides notes
            self.assertRegex(caption, r"^Figure \d+ [A-Z].*\. [A-Z].*\.$")

    def test_tables_hold_every_case(self):
        for fixture in ("ipc-real", "ipc-small"):
            for row in medians(fixture, workload="latency"):
                match = [r for r in self.page.rows if r[:4] == [row["transport"], row["model"],
                                                                 style.fmt_size(row["msg_bytes"]), str(row["pairs"])]
                         and style.fmt_time(row["rtt_p50_ns"]) in r]
                self.assertTrue(match, f"{fixture}: {row['name']}")
                self.assertIn(style.fmt_time(row["rtt_p99_ns"]), match[0])
                self.assertIn(f"{row['spread_pct']:.0f}%", match[0])
        failed = [r for r in self.page.rows if r and r[-1].startswith("FAILED")]
        self.assertEqual(len(failed), 2)  # ipc-small: one latency and one throughput case failed every repetition
        self.assertTrue(any("1 repetition(s) failed: write: Broken pipe" in r[-1] for r in self.page.rows))

    def test_machine_floor_and_method(self):
        text = " ".join(" ".join(self.page.text).split())
        for fixture in ("ipc-real", "ipc-small"):
            context = json.loads((FIXTURES / fixture / "results.json").read_text())["context"]
            for key in ("host_name", "cpu_model", "kernel", "command_line", "git_revision"):
                self.assertIn(str(context[key]), text)
            floor = context["floor"]
            self.assertIn(style.fmt_time(floor["timer_overhead_ns"]), text)
            self.assertIn(style.fmt_bytes_rate(floor["xcore_gbps"] * 1e9), text)
            self.assertIn(style.fmt_time(context["harness_overhead_ns"]), text)
        self.assertIn("Oversubscribed: 4 cores were requested on a machine with 2", text)
        self.assertIn("How the measurements are taken", text)
        readme = ROOT / "README.md"
        section = re.search(r"^## How the measurements are taken\s*$(.*?)(?=^## |\Z)",
                            readme.read_text(encoding="utf-8") if readme.exists() else "", re.M | re.S)
        if section:  # the README's own words, every bullet of them
            for bold in re.findall(r"\*\*([^*]+)\*\*", section.group(1)):
                self.assertIn(bold, text)
        else:
            self.assertIn('The method is described in the README, section "How the measurements are taken"', text)

    def test_floor_gives_the_round_trip_with_a_line_each_way(self):
        import report
        rows, _ = report.floor_rows({"floor": {"c2c_round_trip_ns": 118.0, "c2c_two_line_one_way_ns": 128.0,
                                               "cpus": [0, 1]}})
        self.assertIn(("cache-line round trip", "118 ns"), [r[:2] for r in rows])
        self.assertIn(("a line each way", "256 ns"), [r[:2] for r in rows])

    def test_suite_without_charts_gets_tables(self):
        run_dir = self.tmp / "teleport"
        run_dir.mkdir()
        rows = [{"name": f"teleport/distance:{d}", "run_name": f"teleport/distance:{d}", "run_type": "iteration",
                 "repetition_index": i, "suite": "teleport", "real_time": 1000.0 * d + i, "time_unit": "ns",
                 "error_occurred": False} for d in (1, 2) for i in range(3)]
        (run_dir / "results.json").write_text(json.dumps({"context": {"suite": "teleport", "host_name": "box"},
                                                          "benchmarks": rows}))
        proc = run(REPORT, run_dir, "--out", self.tmp / "teleport.html")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        page = Page((self.tmp / "teleport.html").read_text())
        text = " ".join(page.text)
        self.assertIn("No charts for the teleport suite yet", text)
        self.assertIn("no hardware floor", text)
        self.assertIn(["teleport/distance:1", "1 us", "0%", "3/3", ""], page.rows)
        self.assertIn(["teleport/distance:2", "2 us", "0%", "3/3", ""], page.rows)

    def test_bad_input_is_exit_2_with_one_line(self):
        empty = self.tmp / "empty"
        empty.mkdir(exist_ok=True)
        bad = self.tmp / "bad"
        bad.mkdir(exist_ok=True)
        (bad / "results.json").write_text('{"context": {}, "benchmarks": [')
        for args in ([empty], [self.tmp / "ipc-real", bad], [self.tmp / "ipc-real", "--out", "/proc/nope/r.html"]):
            with self.subTest(args=args):
                proc = run(REPORT, *args)
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
                self.assertTrue(proc.stderr.startswith("report.py: "), proc.stderr)
                self.assertEqual(proc.stdout, "")
        self.assertEqual(sorted(p.name for p in empty.iterdir()), [])


def png_size(path):
    data = Path(path).read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", data[16:24])


@unittest.skipUnless(CHROMIUM, "chromium is not installed (Debian: apt-get install chromium; .ci/install-deps "
                               "installs it): the report was not checked in a browser")
class BrowserTest(unittest.TestCase):
    """The page in a real headless browser with name resolution switched off: it loads, every chart renders,
    and nothing is fetched (the page's script records what its Content-Security-Policy blocks)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
        shutil.copytree(FIXTURES / "ipc-real", cls.tmp / "ipc-real")
        shutil.copytree(FIXTURES / "ipc-small", cls.tmp / "ipc-small")
        proc = run(REPORT, cls.tmp / "ipc-real", cls.tmp / "ipc-small", "--out", cls.tmp / "report.html")
        assert proc.returncode == 0, proc.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def chromium(self, page, *args):
        return make_fixture.headless_chromium(page.as_uri(), self.tmp, *args)

    def dom_root(self, page):
        proc = self.chromium(page, "--dump-dom")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        root = re.search(r"<html[^>]*>", proc.stdout)
        self.assertIsNotNone(root, proc.stdout[:500])
        return root.group(0)

    def test_loads_renders_every_chart_and_fetches_nothing(self):
        root = self.dom_root(self.tmp / "report.html")
        self.assertIn('data-charts="10 rendered"', root)
        self.assertNotIn("data-blocked", root)

    def test_detects_a_broken_chart_and_a_fetch(self):
        # The checks above must be able to fail: one chart that cannot decode and one image from elsewhere.
        text = (self.tmp / "report.html").read_text()
        text = text.replace('src="data:image/svg+xml;base64,', 'src="data:image/svg+xml;base64,AAAA', 1)
        text = text.replace("</body>", '<img src="http://bench.invalid/tracker.png" alt=""></body>')
        broken = self.tmp / "broken.html"
        broken.write_text(text)
        root = self.dom_root(broken)
        self.assertIn('data-charts="2 of 11 failed"', root)
        self.assertIn('data-blocked="http://bench.invalid/tracker.png"', root)

    def test_screenshot(self):
        shot = self.tmp / "report.png"
        proc = self.chromium(self.tmp / "report.html", f"--screenshot={shot}", "--window-size=1400,3000")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertEqual(png_size(shot), (1400, 3000))
        self.assertGreater(shot.stat().st_size, 100_000)  # a page of text and a chart, not a blank one
        keep = os.environ.get("BENCH_REPORT_SCREENSHOT")
        if keep:
            shutil.copyfile(shot, keep)


if __name__ == "__main__":
    unittest.main(verbosity=2)
