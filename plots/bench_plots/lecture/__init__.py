"""The lecture deck: one slide per lesson, drawn from results files alone (plots/lecture.py RUN_DIR ...).

The lesson registry, in the order of the lecture. Each lesson is a module with
  NAME, TITLE     the slide's file name (NN-NAME.png) and its kicker
  NEEDS, FLAGS    what rows it needs, in words, and the bench command that produces them (for a deck whose
                  results lack them: slides.json lists the lesson under "not_in_results" with these)
  select(cases, context) -> [Case]           the cases it draws, chosen by the rows' fields (never by parsing
                                             run names); [] when the results do not hold them
  cannot_show(chosen, context) -> str|None   why this machine cannot show the lesson (the slide says so)
  headline(chosen, context) -> str           the result with its figures, computed from `chosen` only
  notes(chosen, context) -> str              speaker notes: the mechanism and what to point at
  draw(slide, chosen, context)               the chart, on slide.axes()
  applies(context) -> str|None  (optional)   why the lesson does not apply to the machine of the first run
                                             (slides.json: not_for_this_machine), None where it does
deck.py turns them into lecture/: PNG and SVG per slide, lecture.pdf, index.html and slides.json.
"""
from . import (broker, clients, convoy, gil_server, ladder, python_gil, python_tax, serialization, size, spinlocks,
               uring, waits, where)

LESSONS = (where, ladder, python_tax, broker, size, waits, clients, uring, serialization, python_gil, gil_server, convoy,
           spinlocks)
