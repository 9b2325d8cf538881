"""What an input is, decided in one place: perf script text, a perf.data (file or stream),
a jitprof JSON profile or a recording bundle."""

from __future__ import annotations

import enum
import os
import sys
from typing import Literal, get_args

from jitprof.inputs.bundle import is_bundle

# how a perf.data is read: "native" by jitprof (no perf needed), "script" through perf
# script, "auto" natively and through perf script for what only perf decodes (DWARF or LBR
# call graphs, AUX tracing)
PerfDataReader = Literal["auto", "native", "script"]
PERF_DATA_READERS: tuple[PerfDataReader, ...] = get_args(PerfDataReader)

# perf.data's magic in either byte order (a file written on a big-endian host reads swapped)
PERF_DATA_MAGIC = b"PERFILE2"
PERF_DATA_MAGIC_SWAPPED = b"2ELIFREP"


class InputKind(str, enum.Enum):
    """The forms an input path can take (``-`` is standard input: text or a perf.data
    stream, told by its first 8 bytes)."""

    TEXT = "text"  # perf script output, possibly .gz/.xz/.bz2
    PERF_DATA = "perf.data"  # perf record's file or pipe format
    PROFILE_JSON = "json"  # a jitprof JSON profile (written by export -o x.json)
    BUNDLE = "bundle"  # a directory written by jitprof record


def is_perf_data_magic(head: bytes) -> bool:
    """Whether ``head`` (an input's first bytes) starts with perf.data's magic."""
    return head[:8] in (PERF_DATA_MAGIC, PERF_DATA_MAGIC_SWAPPED)


def is_profile_json(path: str) -> bool:
    """Inputs named ``*.json`` are jitprof profiles (perf script text never is JSON)."""
    return path.lower().endswith(".json")


def stdin_is_perf_data() -> bool:
    """Whether standard input starts with perf.data's magic (peeked, not consumed)."""
    buf = getattr(sys.stdin, "buffer", None)
    peek = getattr(buf, "peek", None)
    if peek is None:
        return False
    try:
        return is_perf_data_magic(peek(8)[:8])
    except (OSError, ValueError):
        return False


def is_perf_data(path: str) -> bool:
    """Whether the file ``path`` is a perf.data (by its magic; never reads stdin)."""
    if path == "-":
        return False
    try:
        with open(path, "rb") as f:
            return is_perf_data_magic(f.read(8))
    except OSError:
        return False


def classify(path: str) -> InputKind:
    """The kind of one input path. ``-`` peeks at stdin; a path that cannot be read is
    TEXT (reading it then reports the error with its name)."""
    if path == "-":
        return InputKind.PERF_DATA if stdin_is_perf_data() else InputKind.TEXT
    if is_profile_json(path):
        return InputKind.PROFILE_JSON
    if os.path.isdir(path) and is_bundle(path):
        return InputKind.BUNDLE
    return InputKind.PERF_DATA if is_perf_data(path) else InputKind.TEXT
