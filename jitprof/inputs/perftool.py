"""perf run to read a recording (``perf script``, ``perf buildid-list``, ``perf report
--header-only``): the only place that starts perf for reading. Always an argument list,
never a shell; perf's own last stderr line explains a failure."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from jitprof.errors import InputError, JitprofError

# task events: threads (a JVM's compiler and GC threads) map to their process;
# --header: the recording's facts (host, kernel: may local symbols name it?);
# switch events (issue 17): when each switched-out thread ran again
SCRIPT_ARGS = ("--show-mmap-events", "--show-task-events", "--show-switch-events", "--header")


def have_perf() -> bool:
    return shutil.which("perf") is not None


@contextmanager
def perf_script_text(path: str, extra_args: Sequence[str] = ()) -> Iterator[IO[str]]:
    """The text ``perf script`` prints for the perf.data ``path`` (with mmap, task and
    switch events and the header), streamed. A failing perf is an ``InputError`` naming
    ``path`` with perf's own message; it wins over an error the reader raised while
    reading the (then odd or empty) text."""
    if not have_perf():
        raise InputError(path, "is a perf.data file and perf is not installed (Debian: "
                         "apt-get install linux-perf); or pass the text of "
                         "'perf script -i FILE --show-mmap-events'")
    argv = ["perf", "script", "-i", path, *SCRIPT_ARGS, *extra_args]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        text = io.TextIOWrapper(proc.stdout, encoding="utf-8", errors="surrogateescape")
        failure: JitprofError | None = None
        try:
            yield text
        except JitprofError as e:
            failure = e
        finally:
            text.close()
            rc = proc.wait()
        if rc != 0:
            err.seek(0)
            msg = err.read().decode("utf-8", "replace").strip().splitlines()
            raise InputError(path, f"perf script failed ({rc}): "
                             + (msg[-1] if msg else "no message"))
        if failure is not None:
            raise failure


def perf_build_ids(path: str) -> dict[str, str]:
    """dso path -> build-id recorded in a perf.data (``perf buildid-list``); {} if perf
    is missing or fails."""
    if not have_perf():
        return {}
    try:
        r = subprocess.run(["perf", "buildid-list", "-i", path], capture_output=True,
                           text=True, errors="replace", timeout=120)
    except (OSError, subprocess.SubprocessError):
        return {}
    out: dict[str, str] = {}
    for line in r.stdout.splitlines():
        bid, _, dso = line.strip().partition(" ")
        if dso and all(c in "0123456789abcdef" for c in bid):
            out[dso.strip()] = bid
    return out


def perf_data_clock(path: str) -> str | None:
    """The clock a perf.data's sample times are on, from its header (``perf report
    --header-only``): "monotonic" with ``perf record -k CLOCK_MONOTONIC``, another clock
    name with another ``-k``, "perf's default clock" without; None if perf cannot tell."""
    if not have_perf():
        return None
    try:
        r = subprocess.run(["perf", "report", "--header-only", "-i", path], capture_output=True,
                           text=True, errors="replace", timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0 or "# event :" not in r.stdout:
        return None
    m = re.search(r"^# clockid: (\S+)", r.stdout, re.M)
    if m is not None:
        return m.group(1)
    if re.search(r"\bclockid = (\d+)", r.stdout) is None:
        return "perf's default clock"
    return None
