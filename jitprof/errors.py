"""Domain errors: every one names the file (and line) it is about; the CLI prints one line."""

from __future__ import annotations


class JitprofError(Exception):
    """An input problem the user must fix. ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, path: str, message: str, lineno: int = 0) -> None:
        self.path = path
        self.lineno = lineno
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.lineno}" if self.lineno else self.path
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[type[JitprofError], tuple[str, str, int]]:
        # errors cross process boundaries (maps are parsed in a second process)
        return (type(self), (self.path, self.message, self.lineno))


class InputError(JitprofError):
    """Malformed input (bad line under --strict, not perf output, truncated)."""


class EmptyInputError(JitprofError):
    """The input holds no samples (of the chosen event)."""

    exit_code = 3


class RecordError(JitprofError):
    """Recording cannot start or finish: no such process, perf missing or not permitted,
    a map refused. The message says how to fix it."""

    exit_code = 4
