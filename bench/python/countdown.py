"""The CPU-bound work of every real-CPython GIL experiment (bench/python/py_worker.py's cpu cases and
bench/contention/cpython_compare.py's gil-cpu worker): one loop, so that both measure the same bytecode."""


def countdown(n):
    while n > 0:
        n -= 1


def warm_countdown():
    """Calls countdown until CPython has specialized it: 3.11 quickens a function's bytecode only after a few calls,
    and a loop running inside the first calls stays on the generic, slower instructions. Cold, a job split over
    several threads looked faster than one thread only because the later threads ran warm (docs/MEASURED.md).
    Called before any timing and before forking, so every thread and process runs the same warm code."""
    for _ in range(64):
        countdown(1000)
