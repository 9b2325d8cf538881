"""Stage 1, parse: perf script text -> raw tables (frames, callchains, samples as columns).

``grammar`` holds the grammar as pure functions, ``tables`` what is kept, ``reader`` the
streaming (and parallel) reader. Nothing here knows about maps, ELF files or the UI."""

from jitprof.parse.grammar import (
    collapse_inlined,
    is_frame_line,
    not_text,
    parse_bare_header,
    parse_bare_header_numbers,
    parse_frame_text,
    parse_header,
    unreadable_text,
)
from jitprof.parse.reader import (
    PARALLEL_MIN_BYTES,
    ScriptReader,
    can_fork,
    input_bytes,
    open_text,
    read_scripts,
    splittable,
)
from jitprof.parse.tables import (
    MAX_KEPT_DIAGNOSTICS,
    EventData,
    Mmap,
    RawFrame,
    RawFrames,
    RawStacks,
    ScriptData,
)

__all__ = [
    "MAX_KEPT_DIAGNOSTICS",
    "PARALLEL_MIN_BYTES",
    "EventData",
    "Mmap",
    "RawFrame",
    "RawFrames",
    "RawStacks",
    "ScriptData",
    "ScriptReader",
    "can_fork",
    "collapse_inlined",
    "input_bytes",
    "is_frame_line",
    "not_text",
    "open_text",
    "parse_bare_header",
    "parse_bare_header_numbers",
    "parse_frame_text",
    "parse_header",
    "read_scripts",
    "splittable",
    "unreadable_text",
]
