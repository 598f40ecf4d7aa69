"""Checkpoints: named moments (a file staged, the state recorded, ...) where the
crash-and-resume tests stop the process as a power cut or an OOM kill would, by
setting CDP_CRASH_AT or CDP_PAUSE_AT (see cdp_dev.faults, the development
package). Unset, a checkpoint costs one environment lookup."""

from __future__ import annotations

import os


def checkpoint(point: str) -> None:
    if os.environ.get("CDP_CRASH_AT") or os.environ.get("CDP_PAUSE_AT"):
        from cdp_dev.faults import reached

        reached(point)
