#!/usr/bin/python3
"""Tests of the lecture deck (plots/lecture.py, plots/bench_plots/lecture/) as a user sees it: the files it
writes, the manifest, the headlines' figures against the slides' own rows, the PDF's pages (pdfinfo, from
poppler-utils), the slide show in headless chromium, and each slide's form (no text under 20 px, at most six
series, no side legend). Fixtures: make_lecture_fixture.py.

    /usr/bin/python3 tests/plots/test_lecture.py

The pdfinfo and browser tests are skipped, saying so, where those programs are missing (.ci/install-deps
installs both). BENCH_LECTURE_SCREENSHOTS=DIR keeps the browser's screenshots, to look at.
"""
import itertools
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

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.patches  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LECTURE = ROOT / "plots" / "lecture.py"
sys.path.insert(0, str(ROOT / "plots"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixture  # noqa: E402
import make_lecture_fixture  # noqa: E402
from bench_plots import common  # noqa: E402
from bench_plots.lecture import LESSONS, deck, slide  # noqa: E402

CHROMIUM = make_fixture.CHROMIUM
PDFINFO = shutil.which("pdfinfo")
FULL = ("lecture-ipc", "ipc-serialize", "ipc-lock", "lecture-contention", "lecture-cores", "lecture-python")


def fixtures():
    root = Path(tempfile.mkdtemp(prefix="bench-lecture-"))
    return make_lecture_fixture.write_all(root)


def run(*dirs):
    return subprocess.run([sys.executable, str(LECTURE), *map(str, dirs)], capture_output=True, text=True, timeout=600)


# ---- the figures of a headline --------------------------------------------------------------------------------

# A number and its unit as the fmt_* functions of style.py write them; longer units first.
UNITS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "kB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9, "TB/s": 1e12, "k": 1e3,
         "M": 1e6, "G": 1e9, "KiB": 2 ** 10, "MiB": 2 ** 20, "GiB": 2 ** 30, "B": 1, "x": None, "%": None}
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:\s?(" + "|".join(re.escape(u) for u in sorted(UNITS, key=len,
                                                                                                  reverse=True))
                    + r"))?(?![\w.])")


def headline_figures(text):
    """[(value in base units, half a unit of its last printed digit, kind)]: kind "x" a ratio, "%" a share,
    else a value (a time in ns, a rate, bytes, a count)."""
    out = []
    for digits, unit in NUMBER.findall(text):
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        scale = UNITS.get(unit) or 1
        out.append((float(digits) * scale, 0.5 * 10 ** -decimals * scale, unit if unit in ("x", "%") else "value"))
    return out


def row_values(rows):
    """{field: [values of the median rows]} and every numeric value of every row (fields in microseconds also in
    nanoseconds, as the slides print times)."""
    by_field, values = {}, set()
    for r in rows:
        for k, v in r.items():
            v = common.number(v)
            if v is None:
                continue
            values.add(v)
            if k.endswith("_us"):
                values.add(v * 1e3)
            if r.get("aggregate_name") == "median":
                by_field.setdefault(k, []).append(v)
    return by_field, values


def unexplained(headline, rows):
    """The figures of a headline that no row of the slide gives: a value of a row, or the ratio of two rows'
    medians of one field."""
    by_field, values = row_values(rows)
    ratios = {a / b for vs in by_field.values() for a, b in itertools.permutations(vs, 2) if b}
    missing = []
    for value, tol, kind in headline_figures(headline):
        pool = ratios if kind == "x" else values
        if not any(abs(value - v) <= tol + 1e-9 * abs(v) for v in pool):
            missing.append((value, kind))
    return missing


# ---- the deck over every lesson's rows --------------------------------------------------------------------------

class DeckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = fixtures()
        cls.proc = run(*(cls.root / name for name in FULL))
        cls.out = cls.root / "lecture-ipc" / "lecture"
        cls.manifest = json.loads((cls.out / "slides.json").read_text()) if cls.proc.returncode == 0 else None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)

    def rows_of(self, entry):
        doc = json.loads((Path(entry["run"]) / "results.json").read_text())
        return [r for r in doc["benchmarks"] if (r.get("run_name") or r.get("name")) in set(entry["rows"])]

    def test_every_lesson_has_a_slide_and_the_manifest_lists_its_files(self):
        slides = self.manifest["slides"]
        self.assertEqual([s["lesson"] for s in slides], [lesson.NAME for lesson in LESSONS])
        self.assertEqual(self.manifest["not_in_results"], [])
        for number, s in enumerate(slides, 1):
            self.assertEqual(s["file"], f"{number:02d}-{s['lesson']}.png")
            for key in ("title", "headline", "notes"):
                self.assertTrue(s[key].strip(), (s["file"], key))
            self.assertGreater(len(s["notes"].split(". ")), 2, f"{s['file']}: notes of a few sentences")
            png = (self.out / s["file"]).read_bytes()
            self.assertEqual(struct.unpack(">II", png[16:24]), (1920, 1080), s["file"])
            self.assertTrue((self.out / s["file"]).with_suffix(".svg").stat().st_size > 0)
            self.assertTrue(self.rows_of(s), f"{s['file']}: its rows are not in {s['run']}")
            self.assertEqual(len(self.rows_of(s)) and len({r["run_name"] for r in self.rows_of(s)}), len(s["rows"]))
        written = set(self.proc.stdout.split())
        expected = {str(self.out / f) for s in slides for f in (s["file"], s["file"][:-4] + ".svg")}
        self.assertEqual(written, expected | {str(self.out / f) for f in ("lecture.pdf", "index.html", "slides.json")})

    def test_every_figure_of_a_headline_comes_from_the_slides_rows(self):
        for s in self.manifest["slides"]:
            self.assertTrue(headline_figures(s["headline"]), f"{s['file']}: a headline without figures")
            self.assertEqual(unexplained(s["headline"], self.rows_of(s)), [], f"{s['file']}: {s['headline']}")

    def test_a_comparison_within_the_repetitions_spread_says_so(self):
        heads = {s["lesson"]: s["headline"] for s in self.manifest["slides"]}
        self.assertIn("within noise", heads["io-uring-vs-epoll"])  # the fixture's repetitions overlap there
        self.assertNotIn("within noise", heads["latency-ladder"])

    def test_the_slides_draw_the_rows_they_name(self):
        rows = {s["lesson"]: s["rows"] for s in self.manifest["slides"]}
        self.assertEqual(len(rows["latency-ladder"]), 6)  # one per family
        self.assertTrue(all("/lock:" in r for r in rows["locks-and-gil"] if "model:thread" in r and "gil" in r))
        self.assertTrue(any("/lock:gil-new" in r and "model:process" in r for r in rows["locks-and-gil"]))
        self.assertTrue(any("/work:10us" in r and "model:thread" in r and "/lock:" not in r
                            for r in rows["locks-and-gil"]), "threads without a lock")

    def test_the_broker_slide_sets_amqp_against_zeromq_and_the_bare_sockets(self):
        rows = {s["lesson"]: s["rows"] for s in self.manifest["slides"]}["through-a-broker"]
        transports = [r.split("/transport:")[1].split("/")[0] for r in rows]
        self.assertEqual(transports, ["unix", "tcp", "zmq-tcp", "amqp", "amqp-durable", "amqp-confirmed"])
        head = {s["lesson"]: s["headline"] for s in self.manifest["slides"]}["through-a-broker"]
        self.assertIn("ZeroMQ (zmq-tcp)", head)  # the broker against ZeroMQ over the same kind of socket

    @unittest.skipUnless(PDFINFO, "pdfinfo is not installed (Debian: apt-get install poppler-utils; .ci/install-deps "
                                  "installs it): the PDF's pages were not counted")
    def test_the_pdf_has_a_page_per_slide(self):
        info = subprocess.run([PDFINFO, str(self.out / "lecture.pdf")], capture_output=True, text=True, check=True)
        pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
        self.assertEqual(pages, len(self.manifest["slides"]))

    def test_the_slide_show_is_self_contained(self):
        page = (self.out / "index.html").read_text()
        self.assertEqual(page.count("<section"), len(self.manifest["slides"]))
        self.assertEqual(page.count('src="data:image/png;base64,'), len(self.manifest["slides"]))
        self.assertNotRegex(page, r"(src|href)=\"(?!data:)")  # nothing fetched from a file or the network
        for s in self.manifest["slides"]:
            self.assertIn(s["notes"].replace("'", "&#x27;").replace('"', "&quot;"), page)


class AbsentAndCannotShowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = fixtures()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def deck(self, *names):
        proc = run(*(self.root / n for n in names))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads((self.root / names[0] / "lecture" / "slides.json").read_text())

    def test_a_lesson_without_its_rows_is_listed_with_the_flags_that_make_them(self):
        manifest = self.deck("ipc-serialize")
        self.assertEqual([s["lesson"] for s in manifest["slides"]], ["serialization"])
        absent = {a["lesson"]: a for a in manifest["not_in_results"]}
        self.assertEqual(set(absent), {lesson.NAME for lesson in LESSONS} - {"serialization"})
        for a in absent.values():
            self.assertTrue(a["flags"].startswith("bench run "), a)
            self.assertTrue(a["needs"], a)

    def test_a_machine_that_cannot_show_a_lesson_says_why(self):
        manifest = self.deck("lecture-one-cpu")
        (s,) = manifest["slides"]
        self.assertEqual(s["lesson"], "locks-and-gil")
        self.assertIn("CPU 1", s["cannot_show"])
        self.assertIn("cannot show", s["headline"])

    def test_a_machine_whose_cpu_pairs_are_alike_gets_no_core_map_lesson(self):
        # The first run's topology decides: every pair alike, and the map is neither drawn nor called missing.
        path = self.root / "ipc-serialize" / "results.json"
        doc = json.loads(path.read_text())
        doc["context"]["topology"] = {"describe": "2 cores / 2 threads, 1 L3 domain, 1 NUMA node", "smt": False,
                                      "l3_domains": 1, "numa_nodes": 1, "packages": 1}
        path.write_text(json.dumps(doc))
        try:
            manifest = self.deck("ipc-serialize")
        finally:
            make_lecture_fixture.write_all(self.root)
        self.assertNotIn("where-threads-run", {a["lesson"] for a in manifest["not_in_results"]})
        (na,) = manifest["not_for_this_machine"]
        self.assertEqual(na["lesson"], "where-threads-run")
        self.assertIn("2 cores / 2 threads", na["why"])

    def test_a_machine_without_a_broker_gets_no_broker_lesson(self):
        # A run that found no broker to start says why in its context; the lesson is then not for this machine.
        path = self.root / "ipc-serialize" / "results.json"
        doc = json.loads(path.read_text())
        doc["context"]["amqp_broker"] = {"kind": "none", "unavailable": "rabbitmq-server is not installed"}
        path.write_text(json.dumps(doc))
        try:
            manifest = self.deck("ipc-serialize")
        finally:
            make_lecture_fixture.write_all(self.root)
        self.assertNotIn("through-a-broker", {a["lesson"] for a in manifest["not_in_results"]})
        na = {n["lesson"]: n["why"] for n in manifest["not_for_this_machine"]}
        self.assertIn("rabbitmq-server is not installed", na["through-a-broker"])

    def test_a_redraw_leaves_no_stale_slides(self):
        self.deck("ipc-serialize", "lecture-contention")
        manifest = self.deck("ipc-serialize")
        files = sorted(p.name for p in (self.root / "ipc-serialize" / "lecture").glob("[0-9][0-9]-*.png"))
        self.assertEqual(files, [s["file"] for s in manifest["slides"]])

    def test_a_directory_without_results(self):
        proc = run(self.root / "nowhere")
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)


# ---- the form of each slide, in-process ---------------------------------------------------------------------

class SlideFormTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = fixtures()
        sources = [deck.Source(cls.root / n) for n in FULL + ("lecture-one-cpu",)]
        cls.figures = []
        drawn, _ = deck.plan(sources[:-1])
        drawn += [p for p in deck.plan(sources[-1:])[0]]
        for number, (lesson, source, chosen) in enumerate(drawn, 1):
            fig, entry = deck.render(number, lesson, source, chosen)
            fig.canvas.draw()
            cls.figures.append((entry, fig))

    @classmethod
    def tearDownClass(cls):
        for _, fig in cls.figures:
            slide.close(fig)
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_no_text_under_20_px(self):
        for entry, fig in self.figures:
            self.assertEqual(fig.get_size_inches().tolist(), [19.2, 10.8])
            self.assertEqual(slide.small_texts(fig), [], entry["file"])

    def test_at_most_six_series_and_no_side_legend(self):
        for entry, fig in self.figures:
            self.assertFalse(fig.legends, entry["file"])
            for ax in fig.axes:
                self.assertIsNone(ax.get_legend(), entry["file"])
                lines = [line for line in ax.get_lines() if line.get_marker() not in (None, "None", "", "x")
                         and len(line.get_xdata()) > 1]
                bars = len(ax.get_yticklabels()) if any(isinstance(p, matplotlib.patches.Rectangle)
                                                        and p.get_width() > 0 for p in ax.patches) else 0
                self.assertLessEqual(max(len(lines), bars), slide.MAX_SERIES, entry["file"])

    def test_the_footer_names_the_machine_and_its_caveats(self):
        for entry, fig in self.figures:
            texts = " ".join(t.get_text() for t in fig.texts)
            ctx = json.loads((Path(entry["run"]) / "results.json").read_text())["context"]
            machine = (ctx.get("topology") or {}).get("describe") or f"{ctx['cores_available']} CPUs"
            self.assertIn(machine, texts, entry["file"])
            self.assertIn("2026-11-25", texts, entry["file"])
        over = [fig for entry, fig in self.figures if entry["lesson"] == "clients"][0]
        self.assertIn("oversubscribed", " ".join(t.get_text() for t in over.texts))

    def test_the_physical_reference_is_drawn(self):
        refs = {"latency-ladder": "cache-line round trip", "size": "cross-core streaming",
                "locks-and-gil": "CPUs doing only the work", "convoy": "switch interval", "spinlocks": "one per CPU",
                "clients": "ideal"}
        for entry, fig in self.figures:
            if entry["lesson"] in refs and "cannot_show" not in entry:
                texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
                self.assertIn(refs[entry["lesson"]], texts, entry["file"])


# ---- the slide show in a browser ------------------------------------------------------------------------------

@unittest.skipUnless(CHROMIUM, "chromium is not installed (Debian: apt-get install chromium; .ci/install-deps "
                               "installs it): the slide show was not checked in a browser")
class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = fixtures()
        proc = run(*(cls.root / name for name in FULL))
        assert proc.returncode == 0, proc.stderr
        cls.page = cls.root / "lecture-ipc" / "lecture" / "index.html"
        cls.slides = json.loads((cls.page.parent / "slides.json").read_text())["slides"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def chromium(self, url, *args):
        return make_fixture.headless_chromium(url, self.root, *args, budget_ms=5000)

    def test_every_slide_renders(self):
        keep = os.environ.get("BENCH_LECTURE_SCREENSHOTS")
        shots = []
        for number in range(1, len(self.slides) + 1):
            out = self.root / f"shot-{number}.png"
            self.chromium(f"{self.page.as_uri()}#{number}", f"--screenshot={out}", "--window-size=1920,1080")
            self.assertTrue(out.exists(), f"slide {number}: no screenshot")
            img = matplotlib.image.imread(str(out))[..., :3]
            self.assertEqual(img.shape[:2], (1080, 1920))
            # Not blank: the slide's white page with dark text and coloured data on it, not the black background.
            white = (img.min(axis=2) > 0.97).mean()
            self.assertGreater(white, 0.3, f"slide {number}: no slide on the page")
            self.assertGreater((img.max(axis=2) < 0.4).mean(), 0.005, f"slide {number}: no text or data")
            shots.append(img)
            if keep:
                shutil.copy(out, Path(keep) / f"slide-{number:02d}.png")
        for (i, a), (j, b) in itertools.combinations(enumerate(shots, 1), 2):
            self.assertGreater(abs(a - b).mean(), 0.002, f"slides {i} and {j} look the same")

    def test_keys_move_and_show_the_notes(self):
        page = self.page.read_text()
        keys = "".join(f'document.dispatchEvent(new KeyboardEvent("keydown", {{key: "{k}"}}));'
                       for k in ("ArrowRight", " ", "ArrowLeft", "ArrowRight", "n"))
        probe = self.page.with_name("probe.html")
        probe.write_text(page.replace("</body>", f"<script>{keys}</script></body>"))
        dom = self.chromium(probe.as_uri(), "--dump-dom").stdout
        current = re.findall(r'<section data-lesson="([^"]+)" class="current"', dom)
        self.assertEqual(current, [self.slides[2]["lesson"]], "two steps on, one back, one on: the third slide")
        self.assertRegex(dom, r'<body class="notes"')


if __name__ == "__main__":
    unittest.main()
