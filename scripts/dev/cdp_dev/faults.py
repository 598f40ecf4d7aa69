"""Faults at cdp's checkpoints (cdp.faults): CDP_CRASH_AT=<point>[#n] makes the
process kill itself with SIGKILL the n-th time (default first) it reaches that
point, as a power cut or an OOM kill would. CDP_PAUSE_AT=<point>[#n] instead creates
the file CDP_PAUSE_FILE and waits until it is removed, so that a test can stop a
server at that moment."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

_reached: Counter[str] = Counter()


def _reached_now(variable: str, point: str) -> bool:
    wanted = os.environ.get(variable)
    if not wanted:
        return False
    name, _, count = wanted.partition("#")
    if name != point:
        return False
    _reached[f"{variable}:{point}"] += 1
    return _reached[f"{variable}:{point}"] == int(count or 1)


def reached(point: str) -> None:
    """A checkpoint was reached: crash or pause here if asked to."""
    if _reached_now("CDP_CRASH_AT", point):
        os.kill(os.getpid(), signal.SIGKILL)
    if _reached_now("CDP_PAUSE_AT", point):
        marker = Path(os.environ["CDP_PAUSE_FILE"])
        marker.touch()
        while marker.exists():
            time.sleep(0.05)
