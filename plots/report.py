#!/usr/bin/python3
"""One self-contained HTML page for one or more bench runs, to project in a lecture hall or to print.

    /usr/bin/python3 plots/report.py RUN_DIR [RUN_DIR ...] [--out FILE]

For each run: the machine and the build (results.json's context), the hardware floor, every chart of the run
(drawn afresh from results.json by the suite's chart code, embedded as SVG) with sentences under it computed from
the measured figures, and the tables (median, p99, spread per case). Then how the measurements are taken
(README.md's section of that name). The page needs nothing from elsewhere: no external CSS, scripts, fonts or
images, and its Content-Security-Policy forbids fetching any.

Writes FILE (default: report.html in the first RUN_DIR) and prints its path. Exit status 0, 2 when a RUN_DIR
holds no readable results.json or the page cannot be written (one line on stderr).
"""
import base64
import html
import re
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: Debian's matplotlibrc selects TkAgg, which needs a display

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import plot  # noqa: E402  (its SUITES table says which suites have charts)
from bench_plots import common, style  # noqa: E402

README = HERE.parent / "README.md"
METHOD_HEADING = "How the measurements are taken"


class Run:
    def __init__(self, run_dir):
        self.dir = Path(run_dir)
        self.doc = common.load_results(run_dir)
        self.suite = common.suite_of(self.doc, run_dir)
        self.context = self.doc["context"]
        self.cases = common.cases(self.doc)
        self.anchor = ""


def esc(value):
    return html.escape(str(value), quote=True)


# ---- charts --------------------------------------------------------------------------------------------------

def charts(run, scratch):
    """[(name, svg bytes, sentences)] of every chart of the run, or None when its suite has no charts yet.

    The charts are drawn by the suite's own plot() into a scratch folder (the run folder is left as it is); the
    sentences come from describe(name, doc) in the same module, where the suite has one."""
    draw = plot.SUITES.get(run.suite)
    if draw is None:
        return None
    describe = getattr(sys.modules[draw.__module__], "describe", None)
    out = Path(tempfile.mkdtemp(dir=scratch))
    style.apply("lecture")
    found = []
    for path in draw(run.doc, out, ["svg"]):
        name = Path(path).stem
        found.append((name, Path(path).read_bytes(), describe(name, run.doc) if describe else []))
    return found


def chart_section(run, scratch, first_figure):
    drawn = charts(run, scratch)
    if drawn is None:
        return f'<p class="note">No charts for the {esc(run.suite)} suite yet: the tables below hold every ' \
               f'figure.</p>', 0
    if not drawn:
        return '<p class="note">No chart has data in this run: see the tables below.</p>', 0
    parts = []
    for n, (name, svg, sentences) in enumerate(drawn, first_figure):
        title = name.replace("_", " ")
        alt = f"Figure {n}: {title}" + (f". {sentences[0]}" if sentences else "")
        data = base64.b64encode(svg).decode("ascii")
        words = "".join(f"<p>{esc(s)}</p>" for s in sentences)
        parts.append(f'<figure id="{run.anchor}-{esc(name)}">'
                     f'<img src="data:image/svg+xml;base64,{data}" alt="{esc(alt)}">'
                     f'<figcaption><span class="fig">Figure {n}</span>{words}</figcaption></figure>')
    return "\n".join(parts), len(drawn)


# ---- the machine and the floor -------------------------------------------------------------------------------

def _num(value, digits=2):
    v = common.number(value)
    return None if v is None else f"{v:.{digits}f}".rstrip("0").rstrip(".")


def machine_rows(c):
    """(label, text) pairs describing the machine, the build and how the run was asked for."""
    rows = []

    def add(label, *values, sep=", "):
        text = sep.join(str(v) for v in values if v not in (None, "", [], {}))
        if text:
            rows.append((label, text))

    cpus = c.get("num_cpus")
    add("host", c.get("host_name"))
    add("CPU", c.get("cpu_model"), f"{cpus} CPUs" if cpus is not None else None,
        f"{c['mhz_per_cpu']} MHz" if c.get("mhz_per_cpu") else None)
    if c.get("cores_requested") is not None:
        used = c.get("cpus_used")
        add("cores used", f"{c['cores_requested']} requested, {c.get('cores_available', '?')} available"
            + (" (OVERSUBSCRIBED: endpoints share CPUs)" if c.get("oversubscribed") else ""),
            f"CPUs {', '.join(str(x) for x in used)}" if isinstance(used, list) and used else None, sep="; ")
    caches = []
    for cache in c.get("caches") or []:
        if isinstance(cache, dict) and common.number(cache.get("size")):
            kind = {"Data": "d", "Instruction": "i"}.get(cache.get("type"), "")
            shared = cache.get("num_sharing") or 1
            caches.append(f"L{cache.get('level', '?')}{kind} {style.fmt_size(cache['size'])}"
                          + (f" (shared by {shared})" if shared > 1 else ""))
    add("caches", *caches)
    add("kernel", c.get("kernel"))
    add("CPU frequency governor", c.get("governor"))
    add("idle policy", c.get("idle_policy"))
    add("compiler", c.get("compiler"), c.get("compiler_flags"), sep=" ")
    add("build", c.get("build_type"), "with sanitizers" if c.get("sanitized") else None)
    add("bench revision", c.get("git_revision"))
    libs = c.get("libraries")
    if isinstance(libs, dict):
        add("libraries", *(f"{k} {v}" for k, v in libs.items()))
    add("date", c.get("date"))
    add("command line", c.get("command_line"))
    add("placement, wait", c.get("placement"), c.get("wait"))
    reps = [f"{c['reps']} repetitions" if c.get("reps") else None,
            f"{style.fmt_time(c['duration_ns'])} measured per case and repetition" if c.get("duration_ns") else None,
            f"{style.fmt_time(c['warmup_ns'])} warm-up" if c.get("warmup_ns") else None,
            "--quick" if c.get("quick") else None]
    add("repetitions", *reps)
    rounds = [r for r in c.get("rounds") or [] if isinstance(r, dict)]
    add("rounds", *(f"round {r.get('round', '?')}: canary "
                    + (style.fmt_time(r["canary_ns"]) if common.number(r.get("canary_ns")) else "n/a")
                    + (f", load {_num(r.get('load_avg'))}" if _num(r.get("load_avg")) else "")
                    + (f", steal {_num(r.get('steal_pct'), 1)}%" if _num(r.get("steal_pct"), 1) else "")
                    for r in rounds), sep="; ")
    return rows


def warnings(run):
    """What makes this run's figures less trustworthy, in words for the top of its section."""
    c, out = run.context, []
    if c.get("oversubscribed"):
        out.append(f"Oversubscribed: {c.get('cores_requested')} cores were requested on a machine with "
                   f"{c.get('cores_available')}; endpoints shared CPUs, so some figures include waiting for a CPU.")
    if c.get("build_type") and str(c["build_type"]).lower() != "release":
        out.append(f"Built as {c['build_type']}, not Release: the harness itself is slower than it should be.")
    if c.get("sanitized"):
        out.append("Built with sanitizers: every figure includes their checks.")
    if c.get("interrupted"):
        out.append("Interrupted (Ctrl-C): only the cases measured before it are here.")
    disturbed = sorted({r.get("round") for r in run.doc["benchmarks"] if r.get("disturbed") and r.get("round")})
    if disturbed:
        out.append(f"Round{'s' if len(disturbed) > 1 else ''} {', '.join(str(r) for r in disturbed)} "
                   f"looked disturbed (slow canary or stolen time)"
                   + ("; left out of the medians." if any(r.get("excluded") for r in run.doc["benchmarks"])
                      else "; kept in the medians."))
    if c.get("quick"):
        out.append("A --quick run: short measurements and few repetitions, for demonstration.")
    return out


def floor_rows(c):
    """(what, value, what it means) of the hardware floor and the harness's own cost."""
    f = c.get("floor") if isinstance(c.get("floor"), dict) else {}
    rows = []
    cpus = f.get("cpus") if isinstance(f.get("cpus"), list) else []
    between = f" between CPUs {cpus[0]} and {cpus[1]}" if len(cpus) == 2 else ""
    timer = common.number(f.get("timer_overhead_ns"))
    if timer:
        rows.append(("reading the clock", style.fmt_time(timer),
                     "the cost of one timestamp; every round trip includes two"))
    c2c = common.number(f.get("c2c_round_trip_ns"))
    c2c = c2c or (2 * common.number(f.get("c2c_one_way_ns")) if common.number(f.get("c2c_one_way_ns")) else None)
    if c2c:
        rows.append(("cache-line round trip", style.fmt_time(c2c),
                     f"one cache line handed from one core to another and back{between}: the fastest two cores "
                     f"can exchange anything"))
    two = common.number(f.get("c2c_two_line_one_way_ns"))
    if two:
        rows.append(("a line each way", style.fmt_time(2 * two),
                     "the same round trip with one line for each direction, as a channel of two rings (one per "
                     "direction) moves them: what such a channel pays at least"))
    for key, label, meaning in (
            ("memcpy_gbps", "memcpy in cache", "copying a 64 KiB buffer that sits in the cache"),
            ("memcpy_mem_gbps", "memcpy from memory", "copying 64 MiB, which has to come from main memory"),
            ("xcore_gbps", "cross-core streaming",
             (f"64 KiB buffers, the best of several ways ({f['xcore_method']}){between}, every word read"
              if f.get("xcore_method") else f"64 KiB buffers through a 4-slot ring{between}, every word read")
             + ": the ceiling for any shared-memory transport")):
        gbps = common.number(f.get(key))
        if gbps:
            rows.append((label, style.fmt_bytes_rate(gbps * 1e9), meaning))
    per_round = [(common.number((r.get("floor") or {}).get("c2c_round_trip_ns")),
                  common.number((r.get("floor") or {}).get("xcore_gbps")))
                 for r in c.get("rounds") or [] if isinstance(r, dict) and isinstance(r.get("floor"), dict)]
    rtts, rates = [a for a, _ in per_round if a], [b for _, b in per_round if b]
    if rtts or rates:
        rows.append(("each round's floor",
                     ", ".join(filter(None, (
                         f"{style.fmt_time(min(rtts))} to {style.fmt_time(max(rtts))}" if rtts else None,
                         f"{style.fmt_bytes_rate(min(rates) * 1e9)} to {style.fmt_bytes_rate(max(rates) * 1e9)}"
                         if rates else None))),
                     f"the round trip and the streaming rate measured again before each of {len(per_round)} rounds; "
                     "the charts draw the lowest round trip and the highest rate"))
    harness = common.number(c.get("harness_overhead_ns"))
    if harness:
        rows.append(("bench's own cost per message", style.fmt_time(harness),
                     "clock reads, message check and histogram, included in every figure"))
    notes = [str(f["note"])] if f.get("note") else []  # (c2c_note is about the one-way figure, not shown here)
    return rows, notes


def machine_section(run):
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in machine_rows(run.context))
    floor, notes = floor_rows(run.context)
    if floor:
        floor_html = ('<table class="floor"><thead><tr><th>measured at the start of the run</th><th class="num">'
                      'value</th><th>what it is</th></tr></thead><tbody>'
                      + "".join(f'<tr><th>{esc(a)}</th><td class="num">{esc(b)}</td><td>{esc(m)}</td></tr>'
                                for a, b, m in floor) + "</tbody></table>"
                      + "".join(f'<p class="note">{esc(n)}</p>' for n in notes))
    else:
        floor_html = '<p class="note">This run has no hardware floor (its suite does not measure one).</p>'
    return (f'<h3>The machine</h3><table class="machine"><tbody>{rows}</tbody></table>'
            f'<h3>The hardware floor</h3>{floor_html}')


# ---- tables --------------------------------------------------------------------------------------------------

# Metric columns, in order; a group of cases shows those its rows have.
METRICS = (("rtt_p50_ns", "p50", style.fmt_time), ("rtt_p99_ns", "p99", style.fmt_time),
           ("rtt_p999_ns", "p99.9", style.fmt_time), ("msgs_per_s", "messages/s", style.fmt_rate),
           ("bytes_per_s", "bytes/s", style.fmt_bytes_rate),
           # ipc --serializers: the parts of the round trip (medians per round trip)
           ("serialize_ns", "serialize", style.fmt_time), ("transport_ns", "transport", style.fmt_time),
           ("deserialize_ns", "deserialize", style.fmt_time))
GROUP_TITLES = {
    "latency": "Round-trip latency: client-measured, median over the repetitions",
    "throughput": "Throughput: one way, timed at the receiver, median over the repetitions",
}
_IDENT_FORMAT = {"msg_bytes": style.fmt_size, "work_ns": lambda v: style.fmt_time(v) if v else "none",
                 "rate": lambda v: f"{style.fmt_rate(v)} msg/s" if v else "closed loop"}
_IDENT_HEADER = {"msg_bytes": "size", "work_ns": "work"}


def spread_pct(case):
    """The harness's spread_pct; for results without one, (max - min) / median of the repetitions' primary figure,
    in percent."""
    given = common.number((case.median or {}).get("spread_pct"))
    if given is not None:
        return given
    values = common.iteration_values(case, common.primary_metric(case)[0])
    if len(values) < 2:
        return None
    mid = sorted(values)[len(values) // 2] if len(values) % 2 else sum(sorted(values)[len(values) // 2 - 1:
                                                                                    len(values) // 2 + 1]) / 2
    return (max(values) - min(values)) / mid * 100 if mid else None


def case_notes(case):
    notes = []
    if case.failed:
        notes.append(f"FAILED: {case.error}")
    elif case.failed_repetitions:
        notes.append(f"{case.failed_repetitions} repetition(s) failed: {case.error}")
    if case.unstable:
        notes.append("unstable")
    if case.oversubscribed:
        notes.append("oversubscribed")
    return "; ".join(notes)


def table_groups(cases):
    """Cases grouped by workload (or experiment), in first-seen order."""
    groups = {}
    for c in cases:
        key = c.ident.get("workload") or c.ident.get("experiment") or c.ident.get("suite") or "cases"
        groups.setdefault(str(key), []).append(c)
    return groups


def table_html(key, cases):
    varying = [k for k in common.IDENTITY if k != "suite" and len({str(c.ident.get(k)) for c in cases}) > 1]
    # Rows the identity fields do not tell apart (a suite with fields of its own) are named in full.
    named = len({tuple(str(c.ident.get(k)) for k in varying) for c in cases}) < len(cases)
    same = [(k, cases[0].ident[k]) for k in common.IDENTITY
            if k not in varying and k not in ("suite", "workload", "experiment") and k in cases[0].ident]
    metrics = [m for m in METRICS if any(c.value(m[0]) is not None for c in cases)]
    if not metrics:
        metrics = [("real_time", "time", style.fmt_time)]
    head = ("<th>case</th>" if named else "") + "".join(f"<th>{esc(_IDENT_HEADER.get(k, k))}</th>" for k in varying) \
        + "".join(f'<th class="num">{esc(label)}</th>' for _, label, _ in metrics) \
        + '<th class="num">spread</th><th class="num">reps</th><th>notes</th>'
    body = []
    for c in cases:
        cells = [esc(_IDENT_FORMAT.get(k, str)(c.ident[k])) if k in c.ident else "" for k in varying]
        row = (f"<td>{esc(c.run_name)}</td>" if named else "") + "".join(f"<td>{v}</td>" for v in cells)
        for field, _, fmt in metrics:
            v = None if c.failed else c.value(field)
            row += f'<td class="num">{esc(fmt(v)) if v is not None else "&ndash;"}</td>'
        spread = None if c.failed else spread_pct(c)
        row += f'<td class="num">{f"{spread:.0f}%" if spread is not None else "&ndash;"}</td>'
        row += f'<td class="num">{len(c.ok_iterations)}/{len(c.iterations)}</td><td>{esc(case_notes(c))}</td>'
        cls = ' class="failed"' if c.failed else ' class="unstable"' if c.unstable else ""
        body.append(f"<tr{cls}>{row}</tr>")
    title = GROUP_TITLES.get(key, key)
    fixed = " · ".join(f"{_IDENT_HEADER.get(k, k)} {_IDENT_FORMAT.get(k, str)(v)}" for k, v in same)
    return (f"<h4>{esc(title)}</h4>" + (f'<p class="note">every row: {esc(fixed)}</p>' if fixed else "")
            + f'<div class="scroll"><table class="cases"><thead><tr>{head}</tr></thead><tbody>'
            + "\n".join(body) + "</tbody></table></div>")


def metrics_html(run):
    """What each measured field of the run is, from the results' own context.schema (the same text the results
    file carries), for the fields its rows have."""
    metrics = (run.context.get("schema") or {}).get("metrics") or {}
    present = {k for c in run.cases for r in [c.median] + c.iterations if r for k in r}
    items = [(f, m) for f, m in metrics.items() if f in present]
    if not items:
        return ""
    rows = "".join(f"<tr><th>{esc(m.get('label') or f)}</th><td><code>{esc(f)}</code></td>"
                   f"<td>{esc(m.get('unit') or '')}</td><td>{esc(m.get('what') or '')}</td></tr>" for f, m in items)
    return ('<h4>What each figure is</h4><table class="cases"><thead><tr><th>figure</th><th>field</th><th>unit</th>'
            f'<th>how it is measured</th></tr></thead><tbody>{rows}</tbody></table>')


READING_TABLES = """<ul class="reading">
<li><b>p50</b> (the median): half of the round trips of a repetition took less, half took longer.
<b>p99</b>: 1 round trip in 100 took longer than this; <b>p99.9</b>: 1 in 1000. Each figure in the tables is
the median of that figure over the repetitions.</li>
<li><b>spread</b>: a robust coefficient of variation of the repetitions' main figure (p50, messages/s, or
time per message): 1.48 &times; the median absolute deviation / the median, corrected for few repetitions, in
percent; it does not grow as repetitions are added. Above the threshold the results name (10%) the case is
marked <i>unstable</i>: treat its figures with care.</li>
<li><b>reps</b>: repetitions that succeeded / repetitions run. <i>oversubscribed</i>: more busy endpoints than
CPUs, so they took turns on a CPU.</li>
</ul>"""


# ---- how the measurements are taken --------------------------------------------------------------------------

def _inline_markdown(text):
    """**bold**, *italic* and `code` of one paragraph, escaped."""
    out = esc(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    return re.sub(r"(?<![*\w])\*([^*]+)\*(?![*\w])", r"<i>\1</i>", out)


def method_section():
    """README.md's "How the measurements are taken" section as HTML (bullets and paragraphs), so the report and
    the README say the same; a pointer to it when the README is not next to the scripts."""
    try:
        text = README.read_text(encoding="utf-8")
    except OSError:
        text = ""
    match = re.search(rf"^## {re.escape(METHOD_HEADING)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not match:
        return (f'<p class="note">The method is described in the README, section "{esc(METHOD_HEADING)}" '
                f'(not found next to plots/report.py when this page was made).</p>')
    blocks, current = [], None
    for line in match.group(1).strip().splitlines():
        if line.startswith("- "):
            current = ["li", line[2:].strip()]
            blocks.append(current)
        elif not line.strip():
            current = None
        elif current is not None:
            current[1] += " " + line.strip()
        else:
            current = ["p", line.strip()]
            blocks.append(current)
    out, in_list = [], False
    for kind, body in blocks:
        if (kind == "li") != in_list:
            out.append("<ul>" if kind == "li" else "</ul>")
            in_list = kind == "li"
        out.append(f"<{kind}>{_inline_markdown(body)}</{kind}>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


# ---- the page ------------------------------------------------------------------------------------------------

CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", "Helvetica Neue", Arial, sans-serif; font-size: 22px;
       line-height: 1.45; color: #111; background: #fff; max-width: 1500px; margin: 0 auto; padding: 24px 40px; }
h1 { font-size: 2.1em; margin: 0.2em 0; } h2 { font-size: 1.65em; margin-top: 1.6em; border-bottom: 4px solid #222; }
h3 { font-size: 1.3em; margin-top: 1.3em; } h4 { font-size: 1.1em; margin: 1.2em 0 0.3em; }
.lead { font-size: 1.1em; color: #333; } .note { color: #444; font-size: 0.9em; }
.warn { border-left: 8px solid #c00000; background: #fff1f1; padding: 0.4em 0.8em; margin: 0.6em 0; }
.warn p { margin: 0.2em 0; font-weight: bold; color: #8b0000; }
nav ul { columns: 2; } code { font-size: 0.9em; background: #f2f2f2; padding: 0 0.2em; }
figure { margin: 1.4em 0 2em; } figure img { display: block; width: 100%; height: auto; border: 1px solid #bbb; }
figcaption { font-size: 1.05em; margin-top: 0.5em; } figcaption p { margin: 0.3em 0; }
figcaption .fig { font-weight: bold; margin-right: 0.5em; float: left; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0.4em 0 1em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ccc; text-align: left; vertical-align: top; }
thead th { border-bottom: 3px solid #333; } table.machine th, table.floor tbody th { font-weight: normal; color: #444; }
.num { text-align: right; white-space: nowrap; }
table.cases { font-size: 0.85em; } tr.failed td { color: #a00000; } tr.unstable td { background: #fff6dd; }
.scroll { overflow-x: auto; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { font-size: 10.5pt; max-width: none; padding: 0; }
  nav, .scroll { overflow: visible; } h2 { break-before: page; } h2.first { break-before: auto; }
  figure, tr { break-inside: avoid; } thead { display: table-header-group; }
  figure img { max-height: 170mm; width: auto; max-width: 100%; }
}
"""

# Sets data-charts on <html> once the page has loaded ("N rendered", or "K of N failed" plus a visible warning)
# and data-blocked to anything the Content-Security-Policy refused to fetch; the browser test reads both.
SCRIPT = """
(function () {
  var blocked = [];
  document.addEventListener("securitypolicyviolation", function (e) {
    blocked.push(e.blockedURI || "(inline)");
    document.documentElement.setAttribute("data-blocked", blocked.join(" "));
  });
  window.addEventListener("load", function () {
    var images = Array.prototype.slice.call(document.images);
    var bad = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
    document.documentElement.setAttribute("data-charts",
        bad.length ? bad.length + " of " + images.length + " failed" : images.length + " rendered");
    if (bad.length) {
      var w = document.getElementById("render-warning");
      w.textContent = bad.length + " of " + images.length + " charts could not be shown by this browser.";
      w.hidden = false;
    }
  });
})();
"""

# Nothing may be fetched: only data: images, the inline style and the inline script above.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; " \
      "form-action 'none'"


def run_title(run):
    c = run.context
    return " · ".join(str(v) for v in (f"{run.suite} suite", c.get("host_name"), c.get("date")) if v)


def page(runs, scratch):
    machines = list(dict.fromkeys(style.subtitle(r.context)[0] or "unknown machine" for r in runs))
    suites = list(dict.fromkeys(r.suite for r in runs))
    title = f"bench report: {', '.join(suites)}"
    sections, figure = [], 1
    for i, run in enumerate(runs, 1):
        run.anchor = f"run{i}"
    for i, run in enumerate(runs):
        figures, count = chart_section(run, scratch, figure)
        figure += count
        warn = warnings(run)
        groups = table_groups(run.cases)
        tables = "".join(table_html(k, v) for k, v in groups.items()) or '<p class="note">No rows.</p>'
        sections.append(
            f'<section id="{run.anchor}"><h2{" class=first" if i == 0 else ""}>{esc(run_title(run))}</h2>'
            f'<p class="note">{esc(run.dir)}/results.json</p>'
            + (f'<div class="warn">{"".join(f"<p>{esc(w)}</p>" for w in warn)}</div>' if warn else "")
            + machine_section(run)
            + f"<h3>Charts</h3>{figures}"
            + f"<h3>Tables</h3>{READING_TABLES}{tables}{metrics_html(run)}</section>")
    nav = ""
    if len(runs) > 1:
        nav = "<nav><ul>" + "".join(f'<li><a href="#{r.anchor}">{esc(run_title(r))}</a></li>' for r in runs) \
              + '<li><a href="#method">How the measurements are taken</a></li></ul></nav>'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<script>{SCRIPT}</script>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{esc(title)}</h1>
<p class="lead">{len(runs)} run{'s' if len(runs) > 1 else ''} on {esc('; '.join(machines))}.
Every figure on this page is computed from the runs' results.json files; the sentences under the charts too.</p>
<p id="render-warning" class="warn" hidden></p>
{nav}
</header>
{''.join(sections)}
<section id="method"><h2>{esc(METHOD_HEADING)}</h2>
{method_section()}
</section>
</body>
</html>
"""


def main(argv=None):
    parser = common.ArgumentParser(description="Write one self-contained HTML report of one or more bench runs.")
    parser.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="directories holding results.json")
    parser.add_argument("--out", metavar="FILE", help="the HTML file to write (default: RUN_DIR/report.html of "
                                                      "the first RUN_DIR)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else Path(args.run_dirs[0]) / "report.html"
    try:
        runs = [Run(d) for d in args.run_dirs]
        with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
            text = page(runs, scratch)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)  # atomically: a viewer never sees half a page
    except common.ResultsError as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"report.py: cannot write {out}: {e}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(common.run_main(main))
