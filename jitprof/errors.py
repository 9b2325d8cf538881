"""Domain errors and exit codes, all of them: each error names the file (and line) it is
about, or is a usage error of a command; jitprof.commands prints one line and exits."""

from __future__ import annotations

# -- exit codes (`jitprof --help` lists them) ----------------------------------------------
EXIT_OK = 0
EXIT_INPUT = 1  # bad input (unreadable, not perf output, bad line under --strict), or output
EXIT_USAGE = 2  # a usage error: click's own, or a request that cannot be met (DiffUsageError)
EXIT_EMPTY = 3  # no samples (empty input, or nothing matches the filters)
EXIT_RECORD = 4  # cannot record: no such process, perf missing or not permitted, map refused
EXIT_INTERNAL = 70  # a bug in jitprof (sysexits' EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class JitprofError(Exception):
    """A problem the user must fix. ``exit_code`` is what the CLI returns."""

    exit_code = EXIT_INPUT

    def __init__(self, path: str, message: str, lineno: int = 0) -> None:
        self.path = path
        self.lineno = lineno
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if not self.path:
            return self.message
        where = f"{self.path}:{self.lineno}" if self.lineno else self.path
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[type[JitprofError], tuple[object, ...]]:
        # errors cross process boundaries (maps are parsed in a second process)
        return (type(self), (self.path, self.message, self.lineno))


class InputError(JitprofError):
    """Malformed input (bad line under --strict, not perf output, truncated)."""


class EmptyInputError(JitprofError):
    """The input holds no samples (of the chosen event)."""

    exit_code = EXIT_EMPTY


class RecordError(JitprofError):
    """Recording cannot start or finish: no such process, perf missing or not permitted,
    a map refused. The message says how to fix it."""

    exit_code = EXIT_RECORD


class UnsafeFileError(JitprofError):
    """A file that must not be read: a symlink or not a regular file."""


class ElfError(JitprofError):
    """A file that is not a readable ELF file (or is truncated/corrupt)."""


class UnknownFormatError(JitprofError):
    """The output format could not be told from the file name."""

    exit_code = EXIT_USAGE


class CommandError(JitprofError):
    """A command cannot go on, about no one file: the message and the exit code are chosen
    where it is raised (the TUI needs a terminal: 2; the TUI failed: its code)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        self.exit_code = exit_code
        super().__init__("", message)

    def __reduce__(self) -> tuple[type[JitprofError], tuple[object, ...]]:
        return (type(self), (self.message, self.exit_code))


class DiffUsageError(CommandError):
    """The comparison asked for cannot be made (method, normalisation, events)."""
