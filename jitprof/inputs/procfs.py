"""Facts of a live process read from /proc that reading an input needs (when a process
started: is its perf map older than it?); the recorder's fuller view is acquire.proc."""

from __future__ import annotations

import os


def boot_time() -> float:
    """When this machine booted (epoch seconds, whole seconds: /proc/stat's btime)."""
    with open("/proc/stat", "rb") as f:
        return float(next(int(ln.split()[1]) for ln in f if ln.startswith(b"btime ")))


def start_time(stat: bytes) -> float | None:
    """When the process whose /proc/PID/stat is ``stat`` started (epoch seconds, to a
    clock tick); None if the text or /proc/stat cannot be read."""
    try:
        # field 22 (starttime, clock ticks after boot) counts from after the ")" of comm
        ticks = int(stat[stat.rindex(b")") + 2:].split()[19])
        return boot_time() + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_start_time(pid: int) -> float | None:
    """When a live process started (epoch seconds), from /proc; None if not running here."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return start_time(f.read())
    except OSError:
        return None
