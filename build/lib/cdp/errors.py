from enum import IntEnum


class ExitCode(IntEnum):
    """What a `cdp` command's exit code means: one outcome, one code."""

    OK = 0
    FAILURE = 1          # an error, printed on one line
    USAGE = 2            # a bad option or argument (Typer's own usage errors too)
    GUARDRAIL = 3        # a Campaign-bound export refused: too soon after the last one
    REJECTS = 4          # `cdp land --fail-on-reject`: a file or a line was rejected
    LOCK_BUSY = 5        # another command is writing the warehouse
    INTERRUPTED = 130    # Ctrl-C

    @classmethod
    def help(cls) -> str:
        return "Exit codes: " + ", ".join(
            f"{code.value} {code.name.lower().replace('_', ' ')}" for code in cls) + "."


def one_line(error: BaseException) -> str:
    """An exception's message on one line (its type when it has none)."""
    return " ".join(str(error).split()) or type(error).__name__


class CdpError(Exception):
    """An error with a message meant for a person; the CLI prints it on one line."""

    exit_code = ExitCode.FAILURE


class LockBusy(CdpError):
    """Another command holds the warehouse's lock."""

    exit_code = ExitCode.LOCK_BUSY
