"""What every destination is (Destination) and how its calls are retried
(with_retries)."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from cdp.errors import CdpError, one_line
from cdp.settings import setting

T = TypeVar("T")


class Destination(Protocol):
    url: str

    def check(self) -> None:
        """Reach the destination (retrying), before anything is planned."""

    def publish(self, local: Path, name: str) -> None:
        """Make `local` visible, whole, as `name` (a relative path with `/`)."""

    def close(self) -> None: ...


class DestinationError(CdpError):
    """A destination kept failing: retries are exhausted."""


def retry_policy() -> tuple[int, float]:
    """(attempts, first backoff in seconds), from CDP_EXPORT_ATTEMPTS and
    CDP_EXPORT_BACKOFF_SECONDS; the backoff doubles after each failure."""
    return setting("CDP_EXPORT_ATTEMPTS"), setting("CDP_EXPORT_BACKOFF_SECONDS")


# Errors no retry can mend: a path under a file, no permission, nothing there, a
# read-only file system, a name too long.
PERMANENT_ERRNOS = {errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.ENOENT,
                    errno.EROFS, errno.ENAMETOOLONG}


def is_permanent(error: BaseException) -> bool:
    """Permission, not found, not a directory, bad credentials, any other 4xx answer:
    fail at once. Timeouts, resets, refused connections, 5xx, 408 and 429: retry."""
    if isinstance(error, OSError) and error.errno in PERMANENT_ERRNOS:
        return True
    status = getattr(error, "status_code", None)
    return isinstance(status, int) and 400 <= status < 500 and status not in (408, 429)


def with_retries(
    url: str,
    what: str,
    operation: Callable[[], T],
    transient: tuple[type[BaseException], ...],
    on_failure: Callable[[], None] = lambda: None,
) -> T:
    """Run `operation`, retrying transient errors with exponential backoff (capped at
    30 s); a permanent one (is_permanent) fails at once."""
    attempts, backoff = retry_policy()

    def attempt() -> T:
        try:
            return operation()
        except transient:
            on_failure()
            raise

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff, max=30.0),
        retry=retry_if_exception(
            lambda error: isinstance(error, transient) and not is_permanent(error)),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except transient as error:
        if is_permanent(error):
            raise DestinationError(
                f"{url}: {what} failed (not retried): {one_line(error)}") from error
        raise DestinationError(
            f"{url}: {what} failed after {attempts} attempt(s): {one_line(error)}") from error
