"""The sched:sched_switch columns from a perf.data's raw tracepoint payloads (issue 17): what
a native perf.data reader needs to fill ``EventData.sw_prev_tid``/``sw_next_tid``/
``sw_prev_state`` as the text reader does from perf script's trace field."""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from typing import Any

# the prev_state letters of the format's __print_flags, lowest bit first (0x01 .. 0x80);
# no bit set (or only the preempt bit above them, printed "R+") is "R"
STATE_LETTERS = "SDTtXZPI"


def prev_state_code(state: int) -> int:
    """The first letter perf prints for a raw ``prev_state``, as its code: ``R`` (82) when
    none of the low 8 bits is set, else the letter of the lowest one set."""
    low = state & 0xFF
    if not low:
        return ord("R")
    return ord(STATE_LETTERS[(low & -low).bit_length() - 1])


def decode_sched_switch(raw: bytes, starts: Any, fields: Mapping[str, tuple[int, int]]
                        ) -> tuple[array, array, array]:
    """(prev tids, next tids, prev_state codes) of sched_switch samples whose RAW payloads
    start at ``starts`` (byte offsets into ``raw``; each payload as the tracepoint's format
    lays it out), given the format's ``fields``: name -> (offset, size) for ``prev_pid``,
    ``next_pid`` and ``prev_state`` (from the tracing data's format text; 4, 4 and 8
    bytes on x86-64 kernels of the last years, ``prev_state`` 4 bytes on older ones).
    Little-endian payloads (the reader's byte order otherwise: swap first). Vectorised."""
    import numpy as np

    buf = np.frombuffer(raw, dtype=np.uint8)
    at = np.asarray(starts, dtype=np.int64)

    def column(name: str) -> Any:
        off, size = fields[name]
        if size not in (4, 8):
            raise ValueError(f"sched_switch field {name}: {size} bytes")
        idx = (at + off)[:, None] + np.arange(size)
        b = buf[idx] if len(at) else np.zeros((0, size), dtype=np.uint8)
        return b.copy().view("<i4" if size == 4 else "<i8").reshape(-1)

    prev, nxt, state = column("prev_pid"), column("next_pid"), column("prev_state")
    table = np.array([prev_state_code(v) for v in range(256)], dtype=np.uint8)
    codes = table[(state & 0xFF).astype(np.int64)]
    return (array("i", prev.astype(np.int32).tobytes()),
            array("i", nxt.astype(np.int32).tobytes()),
            array("B", codes.astype(np.uint8).tobytes()))
