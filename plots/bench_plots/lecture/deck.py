"""Writes lecture/ from the lessons: NN-name.png (1920x1080) and .svg per slide, lecture.pdf (one slide a page),
index.html (a self-contained slide show) and slides.json (the manifest).

Each lesson draws the rows of one run: the first of the run directories given whose cases it can select, so a
slide's figures, its footer and its caveats all come from one machine at one time.
"""
import base64
import html
import json
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages

from .. import common
from . import LESSONS, slide


class Source:
    """One run directory: its results and its cases."""

    def __init__(self, run_dir):
        self.dir = Path(run_dir)
        self.doc = common.load_results(run_dir)
        self.context = self.doc["context"]
        self.cases = common.cases(self.doc)


def plan(sources):
    """[(lesson, source, chosen cases)] of the lessons the results can draw, and the entries of those they
    cannot (the lesson, what it needs, the flags that would produce it)."""
    drawn, absent = [], []
    for lesson in LESSONS:
        # A lesson that does not apply to this machine (its applies() gives why) is neither drawn nor missing.
        if hasattr(lesson, "applies") and lesson.applies(sources[0].context):
            continue
        found = next(((s, chosen) for s in sources for chosen in [lesson.select(s.cases, s.context)] if chosen),
                     None)
        if found:
            drawn.append((lesson, found[0], found[1]))
        else:
            absent.append({"lesson": lesson.NAME, "title": lesson.TITLE, "needs": lesson.NEEDS,
                           "flags": lesson.FLAGS})
    return drawn, absent


def render(number, lesson, source, chosen):
    """(figure, manifest entry) of one slide."""
    context = source.context
    reason = lesson.cannot_show(chosen, context)
    if reason:
        head = f"This run cannot show it: {lesson.TITLE}"
        notes = f"Say why: {reason} The lesson's point, with a machine that can show it: {lesson.notes(chosen, context)}"
    else:
        head, notes = lesson.headline(chosen, context), lesson.notes(chosen, context)
    sl = slide.Slide(number, lesson.TITLE, head, context, slide.caveats(chosen, context))
    if reason:
        sl.message(reason)
    else:
        lesson.draw(sl, chosen, context)
    entry = {"file": f"{number:02d}-{lesson.NAME}.png", "lesson": lesson.NAME, "title": lesson.TITLE,
             "headline": head, "notes": notes, "run": str(source.dir), "rows": [c.run_name for c in chosen]}
    if reason:
        entry["cannot_show"] = reason
    return sl.fig, entry


def write(run_dirs, out_dir=None):
    """Draws the deck of these runs into out_dir (default: the first run's lecture/); returns the written paths."""
    sources = [Source(d) for d in run_dirs]
    out = Path(out_dir) if out_dir else sources[0].dir / "lecture"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("[0-9][0-9]-*.*"):  # a redraw with fewer lessons must not leave stale slides behind
        old.unlink()
    drawn, absent = plan(sources)
    entries, paths = [], []
    with PdfPages(out / "lecture.pdf", metadata={"CreationDate": None, "Title": "bench lecture"}) as pdf:
        for number, (lesson, source, chosen) in enumerate(drawn, 1):
            fig, entry = render(number, lesson, source, chosen)
            stem = out / Path(entry["file"]).stem
            fig.savefig(f"{stem}.png", dpi=slide.DPI, metadata={"Software": None})
            fig.savefig(f"{stem}.svg", metadata={"Date": None})
            pdf.savefig(fig)
            slide.close(fig)
            entries.append(entry)
            paths += [f"{stem}.png", f"{stem}.svg"]
    manifest = {"runs": [str(s.dir) for s in sources], "slides": entries, "not_in_results": absent,
                "not_for_this_machine": [{"lesson": lesson.NAME, "why": lesson.applies(sources[0].context)}
                                         for lesson in LESSONS
                                         if hasattr(lesson, "applies") and lesson.applies(sources[0].context)]}
    (out / "slides.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (out / "index.html").write_text(slide_show(out, entries, sources[0].context))
    return paths + [str(out / "lecture.pdf"), str(out / "index.html"), str(out / "slides.json")]


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>bench lecture: {title}</title>
<style>
html, body {{ margin: 0; height: 100%; background: #111; overflow: hidden; font-family: sans-serif; }}
section {{ display: none; position: absolute; inset: 0; }}
section.current {{ display: flex; align-items: center; justify-content: center; }}
section img {{ max-width: 100vw; max-height: 100vh; background: white; }}
aside {{ display: none; position: absolute; left: 0; right: 0; bottom: 0; padding: 1.2em 2em 1.6em;
  background: rgba(20, 20, 20, 0.92); color: #f2f2f2; font-size: 28px; line-height: 1.4; }}
body.notes section.current aside {{ display: block; }}
#help {{ position: absolute; right: 1em; top: 0.6em; color: #888; font-size: 20px; }}
</style></head>
<body>
<div id="help">&larr; &rarr; space: move &middot; n: speaker notes &middot; <span id="count"></span></div>
{sections}
<script>
// Slide N is #N, so a reload or a link keeps its place; the keys move and toggle the notes.
var slides = document.querySelectorAll("section"), current = 0;
function show(i) {{
  current = Math.max(0, Math.min(slides.length - 1, i));
  slides.forEach(function (s, j) {{ s.classList.toggle("current", j === current); }});
  document.getElementById("count").textContent = (current + 1) + " / " + slides.length;
  if (location.hash !== "#" + (current + 1)) history.replaceState(null, "", "#" + (current + 1));
}}
document.addEventListener("keydown", function (e) {{
  if (["ArrowRight", "ArrowDown", "PageDown", " "].indexOf(e.key) >= 0) show(current + 1);
  else if (["ArrowLeft", "ArrowUp", "PageUp", "Backspace"].indexOf(e.key) >= 0) show(current - 1);
  else if (e.key === "Home") show(0);
  else if (e.key === "End") show(slides.length - 1);
  else if (e.key === "n" || e.key === "N") document.body.classList.toggle("notes");
  else return;
  e.preventDefault();
}});
show((parseInt(location.hash.slice(1), 10) || 1) - 1);
</script>
</body></html>
"""


def slide_show(out, entries, context):
    """The slide show: every PNG embedded as a data: URI, so the one file works offline and can be mailed."""
    sections = []
    for e in entries:
        data = base64.b64encode((out / e["file"]).read_bytes()).decode("ascii")
        sections.append(f'<section data-lesson="{html.escape(e["lesson"])}"><img alt="{html.escape(e["headline"])}" '
                        f'src="data:image/png;base64,{data}"><aside>{html.escape(e["notes"])}</aside></section>')
    title = html.escape(f"{context.get('host_name') or 'this machine'}, {str(context.get('date') or '')[:10]}")
    return _PAGE.format(title=title, sections="\n".join(sections))
