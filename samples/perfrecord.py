"""Shared helpers for recording the sample programs with Linux perf.

Stdlib only, Python >= 3.10.  External programs are always run with argument lists
(``subprocess.run([...])``), never through a shell.  Used by
``samples/hhvm-demo/record.py`` and ``samples/node-demo/record.py`` (which load this file
by path, so it does not need to be importable as a package).

The recording recipe (see ``samples/README.md``):

    perf record -F 999 -g -e cpu-clock -o OUT/perf.data -- COMMAND...
    cp /tmp/perf-<pid>.map OUT/perf-<pid>.map
    perf script -i OUT/perf.data --show-mmap-events > OUT/perf.script

perf reads ``/tmp/perf-<pid>.map`` when ``perf script``/``perf report`` runs (not when
recording), so ``perf.script`` must be produced while the map is still in ``/tmp``.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

PERF_RECORD_ARGS: tuple[str, ...] = ("record", "-F", "999", "-g", "-e", "cpu-clock")

# "hhvm_demo  5140   549.382700: PERF_RECORD_COMM exec: hhvm_demo:5140/5140"
_COMM_EXEC_RE = re.compile(r"PERF_RECORD_COMM exec: (?P<comm>.*):(?P<pid>\d+)/(?P<tid>\d+)\s*$")
# "... PERF_RECORD_MMAP2 5140/5140: [0x7fe2200a0000(0x10000) @ ... 0]: rwxp //anon"
_ANON_EXEC_RE = re.compile(
    r"PERF_RECORD_MMAP2? (?P<pid>-?\d+)/(?P<tid>-?\d+): \[[^\]]*\]: [r-][w-]x[sp-]? //anon\s*$"
)
# "[ perf record: Captured and wrote 0.215 MB slow.data (1996 samples) ]"
_CAPTURED_RE = re.compile(r"Captured and wrote .*\((?P<n>\d+) samples\)")
_MAP_NAME_RE = re.compile(r"^perf-\d+\.map(\.gz)?$")


class RecordError(RuntimeError):
    """Building or recording a sample failed; the message says what and why."""


def _tail(text: str | bytes | None, lines: int = 25) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


def which(program: str) -> str:
    """Absolute path of ``program`` on PATH, or RecordError."""
    path = shutil.which(program)
    if path is None:
        raise RecordError(f"{program!r} not found on PATH (needed to build/record the samples)")
    return path


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    timeout: float,
    what: str,
    cwd: str | os.PathLike[str] | None = None,
    stdout_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (no shell), raise RecordError with stderr on failure or timeout.

    With ``stdout_path`` the program's stdout goes straight to that file (for big
    ``perf script`` outputs); otherwise it is captured as text.  The program runs in its
    own session; on timeout that whole process group (e.g. perf *and* the workload it
    started) is terminated, then killed.
    """
    args = [os.fspath(a) for a in argv]
    out_file = open(stdout_path, "wb") if stdout_path is not None else None
    try:
        try:
            proc = subprocess.Popen(
                args, cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=out_file if out_file is not None else subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as e:
            raise RecordError(f"{what}: cannot run {args[0]!r}: {e}") from e
        try:
            out_b, err_b = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_group(proc)
            _, err_b = proc.communicate()
            raise RecordError(
                f"{what}: timed out after {timeout:g} s: {' '.join(args)}\n{_tail(err_b)}"
            ) from None
    finally:
        if out_file is not None:
            out_file.close()
    res = subprocess.CompletedProcess(
        args, proc.returncode,
        (out_b or b"").decode("utf-8", "replace"), (err_b or b"").decode("utf-8", "replace"),
    )
    if res.returncode != 0:
        raise RecordError(
            f"{what}: exit status {res.returncode}: {' '.join(args)}\n"
            f"--- stderr ---\n{_tail(res.stderr)}\n--- stdout ---\n{_tail(res.stdout)}"
        )
    return res


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL, the process group led by ``proc`` (started by ``run``)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def clean_outdir(outdir: Path) -> None:
    """Create ``outdir``; delete a previous recording's files in it (perf.data*,
    perf.script*, perf-report.txt, perf-<pid>.map[.gz])."""
    outdir.mkdir(parents=True, exist_ok=True)
    for p in outdir.iterdir():
        if not p.is_file():
            continue
        if (
            p.name in ("perf.data", "perf.data.old", "perf.script", "perf.script.gz",
                       "perf-report.txt")
            or _MAP_NAME_RE.match(p.name)
        ):
            p.unlink()


def perf_record(
    command: Sequence[str | os.PathLike[str]],
    perf_data: Path,
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``perf record -F 999 -g -e cpu-clock -o perf_data -- command...``."""
    perf = which("perf")
    res = run(
        [perf, *PERF_RECORD_ARGS, "-o", perf_data, "--", *command],
        timeout=timeout, what="perf record", cwd=cwd,
    )
    if not perf_data.is_file() or perf_data.stat().st_size == 0:
        raise RecordError(f"perf record did not write {perf_data}\n{_tail(res.stderr)}")
    return res


def samples_captured(perf_record_stderr: str) -> int | None:
    """The sample count perf record reports on stderr, if it says so."""
    m = _CAPTURED_RE.search(perf_record_stderr)
    return int(m.group("n")) if m else None


def task_events(perf_data: Path, *, timeout: float = 300) -> str:
    """``perf script --show-task-events --show-mmap-events`` with samples hidden."""
    perf = which("perf")
    res = run(
        [perf, "script", "-i", perf_data, "--show-task-events", "--show-mmap-events",
         "-F", "comm,tid,time,event", "--hide-call-graph"],
        timeout=timeout, what="perf script (task events)",
    )
    return res.stdout


def find_pid(perf_data: Path, comm: str, *, hint: int | None = None) -> int:
    """The pid of the process perf record launched (its ``PERF_RECORD_COMM exec``).

    ``comm`` is the executable's comm (at most 15 characters, as the kernel keeps it).
    If several processes exec'ed with that comm, the one that mapped anonymous executable
    memory (a JIT) wins; ``hint`` (e.g. a pid the program printed) is checked against the
    recording and used if it is part of it.
    """
    events = task_events(perf_data)
    execs: list[int] = []
    anon: set[int] = set()
    for line in events.splitlines():
        m = _COMM_EXEC_RE.search(line)
        if m and m.group("comm") == comm[:15]:
            execs.append(int(m.group("pid")))
            continue
        m = _ANON_EXEC_RE.search(line)
        if m:
            anon.add(int(m.group("pid")))
    if hint is not None:
        if hint in execs or hint in anon:
            return hint
        raise RecordError(
            f"pid {hint} (printed by the program) does not appear in {perf_data} "
            f"(exec'ed {comm!r} pids: {execs}, pids with //anon exec maps: {sorted(anon)})"
        )
    jit = [p for p in execs if p in anon]
    if jit:
        return jit[0]
    if execs:
        return execs[0]
    raise RecordError(f"no 'PERF_RECORD_COMM exec: {comm}:<pid>' in {perf_data}")


def copy_map(pid: int, outdir: Path) -> Path:
    """Copy ``/tmp/perf-<pid>.map`` to ``outdir/perf-<pid>.map``."""
    src = Path(f"/tmp/perf-{pid}.map")
    if not src.is_file():
        raise RecordError(
            f"{src} does not exist: the recorded process (pid {pid}) wrote no perf map "
            "(was it started with perf-map support, and did something delete /tmp files?)"
        )
    dst = outdir / src.name
    shutil.copyfile(src, dst)
    if dst.stat().st_size == 0:
        raise RecordError(f"{src} is empty")
    return dst


def perf_script(perf_data: Path, out: Path, *, timeout: float = 600) -> Path:
    """``perf script -i perf_data --show-mmap-events > out``."""
    perf = which("perf")
    run([perf, "script", "-i", perf_data, "--show-mmap-events"],
        timeout=timeout, what="perf script", stdout_path=out)
    if out.stat().st_size == 0:
        raise RecordError(f"perf script wrote nothing for {perf_data}")
    return out


def perf_report(perf_data: Path, out: Path, *, timeout: float = 600) -> Path:
    """``perf report -i perf_data --stdio --no-children --sort sym > out``."""
    perf = which("perf")
    run([perf, "report", "-i", perf_data, "--stdio", "--no-children", "--sort", "sym"],
        timeout=timeout, what="perf report", stdout_path=out)
    return out


def gzip_file(path: Path, *, remove: bool = True) -> Path:
    """Write ``path.gz`` reproducibly (mtime 0, no stored name); optionally delete ``path``."""
    dst = path.with_name(path.name + ".gz")
    with open(path, "rb") as src, open(dst, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            shutil.copyfileobj(src, gz, 1 << 20)
    if remove:
        path.unlink()
    return dst


def version_of(argv: Sequence[str], *, timeout: float = 30) -> str:
    """First line of ``argv``'s output (e.g. ``perf version``), or '' if it fails."""
    try:
        res = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                             check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (res.stdout or res.stderr).strip()
    return text.splitlines()[0] if text else ""
