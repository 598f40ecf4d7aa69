"""Crash points for the crash-and-resume tests: CDP_CRASH_AT=<point>[#n] makes the
process kill itself with SIGKILL the n-th time (default first) it reaches that
point, as a power cut or an OOM kill would. Unset, a checkpoint does nothing."""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def checkpoint(point: str) -> None:
    wanted = os.environ.get("CDP_CRASH_AT")
    if not wanted:
        return
    name, _, count = wanted.partition("#")
    if name != point:
        return
    _reached[point] += 1
    if _reached[point] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
