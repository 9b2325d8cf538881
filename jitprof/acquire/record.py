"""Record running JIT processes with ``perf record -g`` into a self-contained bundle.

Two ways in: ``--pid`` (``perf record -p PIDS``) and a command (``perf record -- CMD``,
perf starts it and follows its children). perf runs in its own process group, so a
terminal Ctrl-C reaches only jitprof, which then stops perf with SIGINT and waits for it
to finish perf.data: what was recorded is kept. perf stops the command it started (SIGTERM).
perf starts with its events disabled (``-D -1 --control fd:...``); jitprof enables them
and waits for perf's ack, so ``duration`` counts recorded time, not perf's start-up (which
takes a second on a busy machine). ``-k mono`` puts sample times on CLOCK_MONOTONIC, the
clock of jitdump records, so a captured jitdump can name samples by time.

Maps are captured while the processes run, not after (a JIT may delete its map at exit:
HHVM does unless ``Eval.KeepPerfPidMap``). Each process's map is opened as soon as it
exists (``/proc/<pid>/root/tmp/perf-<nspid>.map`` for a process in its own pid namespace,
then ``/tmp/perf-<pid>.map``) and the descriptor is held and read incrementally
(``jitprof.acquire.mapwatch.GrowingFile``) every poll (0.2 s) and once more after perf has
stopped. An unlinked map stays readable through the held descriptor, so even the lines a
JIT writes just before it deletes its map at exit are kept; no need to stop the process.
What is missed: a process (and its map) that lives and dies between two polls.

Checks on every map and jitdump (made on the opened descriptor, ``jitprof.acquire.proc``): never
opened through a symlink, a regular file, owned by one of the process's uids or root, and
last written no earlier than the process started (1 s slack: /proc's start time is only
as exact as the boot time, whole seconds). A failing owner or age check refuses the map
(``RecordError``) unless ``trust_map``; with ``trust_map`` it is kept and the manifest says
why it was doubtful. A symlink or non-regular file is never read, even with ``trust_map``
(then it is only left out).

The bundle is written into a temporary directory beside the destination and renamed into
place at the end, so a bundle directory is always complete (jitprof/inputs/bundle.py).
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import platform
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from jitprof import __version__
from jitprof.acquire.mapwatch import GrowingFile
from jitprof.acquire.proc import (
    ProcessInfo,
    descendants,
    no_such_process,
    perf_event_paranoid,
    read_process,
    read_small,
)
from jitprof.errors import RecordError, UnsafeFileError
from jitprof.inputs import bundle as B
from jitprof.model.names import JAVA_MAP_HINT

POLL_S = 0.2
PROC_MAPS_EVERY_S = 1.0
START_SLACK_S = 1.0  # /proc start times are only as exact as btime (whole seconds)

HOW_TO_MAP = ("HHVM: -vEval.PerfPidMap=true -vEval.KeepPerfPidMap=true; node: "
              "--perf-basic-prof; Python 3.12+: -X perf; Java: " + JAVA_MAP_HINT)
def is_jvm(proc_maps: bytes | None) -> bool:
    """A HotSpot JVM: libjvm.so is mapped."""
    return bool(proc_maps) and b"/libjvm.so" in (proc_maps or b"")


HOW_TO_PERF = ("install it: Debian: apt-get install linux-perf; Ubuntu: apt-get install "
               "linux-tools-common linux-tools-$(uname -r); Fedora/RHEL: dnf install perf")


def find_perf() -> str:
    perf = shutil.which("perf")
    if perf is None:
        raise RecordError("perf", "not found on PATH: " + HOW_TO_PERF)
    return perf


def perf_version(perf: str) -> str:
    try:
        r = subprocess.run([perf, "version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) else ""


def not_permitted_message() -> str:
    par = perf_event_paranoid()
    return (f"not permitted (kernel.perf_event_paranoid = {par}): run as root, or lower it "
            "(sysctl kernel.perf_event_paranoid=1; -1 for everything), or give perf "
            "CAP_PERFMON (setcap cap_perfmon,cap_sys_ptrace+ep $(command -v perf)); "
            "another user's process also needs CAP_SYS_PTRACE")


OFF_CPU_TRACEPOINT = "sched:sched_switch"


def sampled_event_argv(event: str, freq: int, off_cpu: bool) -> list[str]:
    """perf record's event options: ``-F freq -e event``; for off-CPU (issue 17) also the
    switch tracepoint (with -g: the switch-out stack) and ``--switch-events`` (when each
    thread runs again). A global ``-F`` would sample the tracepoint by frequency too (at
    most ``freq`` switches a second, the rest lost), so the frequency is then given to the
    CPU event alone (``cpu-clock/freq=999,name=cpu-clock/``) and the tracepoint keeps its
    period of 1 (every switch); an event with modifiers or terms keeps the global ``-F``."""
    if not off_cpu:
        return ["-F", str(freq), "-e", event]
    sw = ["-e", OFF_CPU_TRACEPOINT, "--switch-events"]
    if all(c.isalnum() or c in "-_." for c in event):
        return ["-e", f"{event}/freq={freq},name={event}/", *sw]
    return ["-F", str(freq), "-e", event, *sw]


def tracepoint_not_permitted_message() -> str:
    par = perf_event_paranoid()
    return (f"cannot record the {OFF_CPU_TRACEPOINT} tracepoint that --off-cpu needs "
            f"(kernel.perf_event_paranoid = {par}, and tracefs must be readable): run as "
            "root, or allow tracepoints (sysctl kernel.perf_event_paranoid=-1 and mount -o "
            "remount,mode=755 /sys/kernel/tracing), or give perf CAP_PERFMON (setcap "
            "cap_perfmon,cap_sys_ptrace+ep $(command -v perf))")


def explain_perf_failure(stderr: str, rc: int, event: str, command: Sequence[str],
                         pids: Sequence[int], off_cpu: bool = False) -> RecordError:
    """One line that says what went wrong with ``perf record`` and how to fix it."""
    low = stderr.lower()
    if off_cpu and ("can't access trace events" in low or "/sys/kernel/tracing" in low
                    or "/sys/kernel/debug/tracing" in low or "perf_event_paranoid" in low
                    or "no permission" in low or "permission denied" in low
                    or "access to performance monitoring" in low
                    or "operation not permitted" in low):
        return RecordError("perf record", tracepoint_not_permitted_message())
    if ("perf_event_paranoid" in low or "no permission" in low or "permission denied" in low
            or "access to performance monitoring" in low or "operation not permitted" in low):
        return RecordError("perf record", not_permitted_message())
    if "event syntax error" in low or "unknown tracepoint" in low:
        return RecordError("--event", f"perf does not know the event {event!r} (see: perf "
                           "list)")
    if "no such process" in low or "couldn't find thread" in low:
        gone = [p for p in pids if not os.path.isdir(f"/proc/{p}")]
        if gone:
            return no_such_process(gone[0])
    if "workload failed" in low and command:
        return RecordError(command[0], "cannot run the command: " + _last_line(stderr))
    return RecordError("perf record", f"failed (exit status {rc}): {_last_line(stderr)}")


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()
             and not ln.startswith(("[ perf record", "/bin/dmesg", "Error:"))]
    return lines[-1] if lines else "no message"


@dataclass(slots=True)
class Progress:
    elapsed: float
    duration: float | None
    pids: list[int]
    map_lines: int
    stopping: bool = False


class Reporter(Protocol):
    """Where the recorder tells the user what happens (the CLI draws it; tests collect)."""

    def progress(self, p: Progress) -> None: ...

    def warning(self, text: str) -> None: ...

    def passthrough(self, line: bytes) -> None:
        """A line the command (or perf) wrote to stderr."""


class QuietReporter:
    def progress(self, p: Progress) -> None:
        pass

    def warning(self, text: str) -> None:
        pass

    def passthrough(self, line: bytes) -> None:
        pass


@dataclass(slots=True)
class RecordPlan:
    output: str
    pids: list[int] = field(default_factory=list)
    command: list[str] = field(default_factory=list)
    duration: float | None = None
    freq: int = 999
    event: str = "cpu-clock"
    trust_map: bool = False
    argv: list[str] = field(default_factory=list)  # how jitprof was called (manifest)
    off_cpu: bool = False  # also context switches (issue 17: off-cpu and wall events)
    # also perf script's text (perf.script.gz): frames named by perf on this host, for
    # reading the bundle where its binaries and kernel are not
    script: bool = False


@dataclass(slots=True)
class _Captured:
    """One file captured from a process (its map or jitdump)."""

    kind: str  # "map" or "jitdump"
    source: str
    file: GrowingFile
    doubts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Proc:
    info: ProcessInfo
    captured: dict[str, _Captured] = field(default_factory=dict)  # kind -> capture
    proc_maps: bytes | None = None
    last_maps_read: float = 0.0
    map_candidates: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unsafe files left out


def map_candidates(info: ProcessInfo) -> list[tuple[str, str]]:
    """(directory, name) where a process's perf map can be: inside its own mount namespace
    under the pid it knows itself by, then the host's /tmp."""
    out: list[tuple[str, str]] = []
    if info.in_other_pid_namespace:
        out.append((f"/proc/{info.pid}/root/tmp", f"perf-{info.nspid}.map"))
    out.append(("/tmp", f"perf-{info.pid}.map"))
    return out


def jitdump_candidates(info: ProcessInfo, proc_maps: bytes | None) -> list[tuple[str, str]]:
    """Where ``jit-<pid>.dump`` can be: the path the process mapped it at (the marker
    mmap perf looks for), its working directory, /tmp."""
    names = {f"jit-{info.pid}.dump", f"jit-{info.nspid}.dump"}
    out: list[tuple[str, str]] = []
    for line in (proc_maps or b"").splitlines():
        path = line.split(maxsplit=5)[5].decode("utf-8", "replace") if len(
            line.split(maxsplit=5)) == 6 else ""
        base = os.path.basename(path)
        if base in names:
            d = os.path.dirname(path)
            root = f"/proc/{info.pid}/root" if info.in_other_pid_namespace else ""
            out.append((root + d, base))
    if info.cwd is not None:
        for n in sorted(names):
            out.append((f"/proc/{info.pid}/cwd", n))
    out.append(("/tmp", f"jit-{info.pid}.dump"))
    if info.in_other_pid_namespace:
        out.append((f"/proc/{info.pid}/root/tmp", f"jit-{info.nspid}.dump"))
    return list(dict.fromkeys(out))


def doubts_about(st: os.stat_result, info: ProcessInfo, not_before: float | None) -> list[str]:
    """Why a file may not belong to this process: its owner, or written before it began."""
    out: list[str] = []
    if st.st_uid != 0 and st.st_uid not in info.uids:
        out.append(f"owned by uid {st.st_uid}, but process {info.pid} runs as uid "
                   f"{info.uids[1] if len(info.uids) > 1 else info.uids[0]} (and it is not "
                   "root's): another user may have planted it")
    if not_before is not None and st.st_mtime < not_before - START_SLACK_S:
        when = datetime.datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds")
        began = datetime.datetime.fromtimestamp(not_before).isoformat(timespec="seconds")
        out.append(f"last written {when}, before process {info.pid} started ({began}): "
                   "stale, left by an older process with the same pid?")
    return out


@dataclass(slots=True)
class RecordResult:
    bundle: str
    manifest: dict[str, Any]


class Recorder:
    """Runs one recording (see the module docstring). ``run()`` returns the bundle."""

    def __init__(self, plan: RecordPlan, reporter: Reporter | None = None) -> None:
        if bool(plan.pids) == bool(plan.command):
            raise ValueError("give pids or a command")
        self.plan = plan
        self.rep: Reporter = reporter or QuietReporter()
        self.procs: dict[int, _Proc] = {}
        self.warnings: list[str] = []
        self.perf = ""
        self.started = 0.0  # when perf began to record (epoch seconds)
        self.launched = 0.0  # when perf was started
        self.stopped_by = ""
        self.dest = os.path.abspath(plan.output)
        self.tmp = ""
        self._stderr_tail = bytearray()
        self._stderr_log: Any = None
        self._stderr_thread: threading.Thread | None = None
        self._ctl_w = -1

    # --- processes and their files -------------------------------------------------
    def _warn(self, text: str) -> None:
        self.warnings.append(text)
        self.rep.warning(text)

    def _adopt(self, pid: int, fail: bool) -> None:
        """Start following a process (its map and jitdump)."""
        try:
            info = read_process(pid)
        except RecordError:
            if fail:
                raise
            return
        p = self.procs[pid] = _Proc(info, map_candidates=map_candidates(info))
        self._refresh_proc(p, force=True)
        self._find_files(p, fail)

    def _not_before(self, info: ProcessInfo) -> float | None:
        # a process of the command started after the recording did
        if self.plan.command:
            return max(info.start_time or 0.0, self.launched)
        return info.start_time

    def _open(self, p: _Proc, kind: str, directory: str, name: str, fail: bool) -> bool:
        path = os.path.join(directory, name)
        try:
            gf = GrowingFile(directory, name)
        except UnsafeFileError as e:
            if path not in p.skipped:
                p.skipped.append(path)
                if fail and not self.plan.trust_map:
                    raise RecordError(e.path, f"{e.message}; refused (copy the real file into "
                                      "place, or record with --trust-map to go on without "
                                      "it)") from None
                self._warn(f"{e.path}: {e.message}; left out")
            return False
        except FileNotFoundError:
            return False
        except OSError as e:
            if path not in p.skipped:
                p.skipped.append(path)
                self._warn(f"{path}: cannot read: {e.strerror}; left out")
            return False
        doubts = doubts_about(gf.st, p.info, self._not_before(p.info))
        if doubts and fail and not self.plan.trust_map:
            gf.close()
            raise RecordError(path, f"refused: {doubts[0]} (check it, then record with "
                              "--trust-map to use it anyway)")
        p.captured[kind] = _Captured(kind, path, gf)
        return True

    def _find_files(self, p: _Proc, fail: bool = False) -> None:
        if "map" not in p.captured:
            for d, n in p.map_candidates:
                if self._open(p, "map", d, n, fail):
                    break
        if "jitdump" not in p.captured:
            for d, n in jitdump_candidates(p.info, p.proc_maps):
                if self._open(p, "jitdump", d, n, fail):
                    break

    def _refresh_proc(self, p: _Proc, force: bool = False) -> None:
        try:  # again: a command perf started is seen before its exec (perf's cmdline)
            info = read_process(p.info.pid)
            # the same process (not a new one with that pid), not yet a zombie (whose
            # cmdline is empty)
            if (info.start_time == p.info.start_time and b"\nState:\tZ" not in info.status
                    and info.cmdline):
                p.info = info
        except RecordError:
            pass
        now = time.monotonic()
        if not force and now - p.last_maps_read < PROC_MAPS_EVERY_S:
            return
        p.last_maps_read = now
        maps = read_small(f"/proc/{p.info.pid}/maps")
        if maps:  # keep the last view while the process lived
            p.proc_maps = maps

    def _poll_files(self) -> None:
        for p in self.procs.values():
            for c in p.captured.values():
                try:
                    c.file.poll()
                except OSError as e:
                    self._warn(f"{c.source}: cannot read: {e.strerror}")

    # --- perf ----------------------------------------------------------------------
    def perf_argv(self, control: tuple[int, int] | None = None) -> list[str]:
        plan = self.plan
        # -k mono: sample times on CLOCK_MONOTONIC, the clock jitdump records use (node
        # --perf-prof, HHVM Eval.PerfJitDump), so a jitdump can name samples by time
        argv = [self.perf, "record", "-g", "-k", "mono",
                *sampled_event_argv(plan.event, plan.freq, plan.off_cpu),
                "-o", os.path.join(self.tmp, B.PERF_DATA)]
        if control is not None:
            # start disabled; jitprof enables the events through the control pipe and
            # perf acknowledges: the recording time is counted from that ack
            argv += ["-D", "-1", "--control", f"fd:{control[0]},{control[1]}"]
        if plan.pids:
            return [*argv, "-p", ",".join(str(p) for p in plan.pids)]
        return [*argv, "--", *plan.command]

    def _start_perf(self) -> tuple[subprocess.Popen[bytes], int | None]:
        """Start perf; returns it and the read end of its ack pipe (None when this perf
        has no --control: then the recording is counted from perf's start)."""
        kw: dict[str, Any] = {}
        if sys.version_info >= (3, 11):
            kw["process_group"] = 0
        else:  # pragma: no cover - 3.10
            kw["preexec_fn"] = os.setpgrp
        ack_r: int | None = None
        theirs: tuple[int, ...] = ()
        control = None
        if perf_has_control(self.perf):
            ctl_r, ctl_w = os.pipe()
            ack_r, ack_w = os.pipe()
            control = (ctl_r, ack_w)
            theirs = (ctl_r, ack_w)
            os.write(ctl_w, b"enable\n")  # read by perf once it is ready
        self._stderr_log = open(os.path.join(self.tmp, B.PERF_LOG), "wb")  # noqa: SIM115
        try:
            proc = subprocess.Popen(self.perf_argv(control),
                                    stdin=subprocess.DEVNULL if self.plan.pids else None,
                                    stderr=subprocess.PIPE, pass_fds=theirs, **kw)
        finally:
            for fd in theirs:
                os.close(fd)
        if control is not None:
            self._ctl_w = ctl_w
        t = threading.Thread(target=self._pump_stderr, args=(proc,), daemon=True)
        t.start()
        self._stderr_thread = t
        return proc, ack_r

    def _pump_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        """perf's stderr (and the command's, which perf passes on): kept in the bundle's
        log, the tail kept for error messages, the command's lines shown to the user."""
        assert proc.stderr is not None
        for line in proc.stderr:
            self._stderr_log.write(line)
            self._stderr_tail += line
            del self._stderr_tail[:-65536]
            if self.plan.command and not line.startswith(_PERF_OWN_LINES):
                self.rep.passthrough(line)

    def _fresh_jvm_maps(self) -> None:
        """A JVM writes its perf map only when asked and never appends to it: before perf
        stops, ask each followed JVM (``record --pid``) for a fresh one with ``jcmd PID
        Compiler.perfmap`` while it still runs, and read it."""
        if not self.plan.pids:
            return
        for p in self.procs.values():
            if not is_jvm(p.proc_maps):
                continue
            jcmd = shutil.which("jcmd")
            if jcmd is None:
                self._warn(f"pid {p.info.pid} is a JVM but jcmd is not installed: its perf "
                           "map may be old or missing (install the JDK's jcmd)")
                continue
            try:
                r = subprocess.run([jcmd, str(p.info.pid), "Compiler.perfmap"],
                                   capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
            except (OSError, subprocess.SubprocessError) as e:
                self._warn(f"jcmd {p.info.pid} Compiler.perfmap failed: {e}")
                continue
            if r.returncode != 0:
                self._warn(f"jcmd {p.info.pid} Compiler.perfmap failed ({r.returncode}): "
                           + _last_line(r.stdout.decode("utf-8", "replace")
                                        + r.stderr.decode("utf-8", "replace")))
                continue
            self._find_files(p)
        self._poll_files()

    def _stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass

    def _record(self) -> tuple[int, float]:
        """Run perf until the duration, Ctrl-C, or the end of what it records; poll the
        maps meanwhile. Returns perf's exit status and the seconds recorded."""
        plan = self.plan
        self.launched = self.started = time.time()
        proc, ack = self._start_perf()
        t0: float | None = None if ack is not None else time.monotonic()
        stop_sent = False
        t_stop: float | None = None
        last_progress = -1.0
        try:
            while True:
                if t0 is None:  # waiting for perf's ack of "enable"
                    assert ack is not None
                    ready, _, _ = select.select([ack], [], [], POLL_S)
                    if ready and os.read(ack, 64).startswith(b"ack"):
                        t0 = time.monotonic()
                        self.started = time.time()
                    if proc.poll() is not None:
                        rc = proc.returncode
                        break
                else:
                    try:
                        rc = proc.wait(timeout=POLL_S)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                if plan.command:  # the command perf started and its children
                    for pid in descendants(proc.pid):
                        if pid not in self.procs:
                            self._adopt(pid, fail=False)
                for p in self.procs.values():
                    if "map" not in p.captured or "jitdump" not in p.captured:
                        self._find_files(p)
                    self._refresh_proc(p)
                self._poll_files()
                if t0 is None:
                    continue
                elapsed = time.monotonic() - t0
                if plan.duration is not None and elapsed >= plan.duration and not stop_sent:
                    self._fresh_jvm_maps()
                    self._stop(proc)
                    stop_sent = True
                    t_stop = time.monotonic()
                    self.stopped_by = "duration"
                    self.rep.progress(Progress(elapsed, plan.duration, sorted(self.procs),
                                               self._map_lines(), True))
                if stop_sent:
                    continue  # perf is writing perf.data
                if elapsed - last_progress >= 0.5 or last_progress < 0:
                    last_progress = elapsed
                    self.rep.progress(Progress(elapsed, plan.duration, sorted(self.procs),
                                               self._map_lines(), stop_sent))
        except KeyboardInterrupt:
            self.stopped_by = "interrupt"
            self._fresh_jvm_maps()
            self._stop(proc)
            t_stop = time.monotonic()
            try:
                if t0 is not None:
                    self.rep.progress(Progress(time.monotonic() - t0, plan.duration,
                                               sorted(self.procs), self._map_lines(), True))
                rc = proc.wait()
            except KeyboardInterrupt:  # a second Ctrl-C: give up
                proc.kill()
                proc.wait()
                raise
        finally:
            if ack is not None:
                os.close(ack)
                os.close(self._ctl_w)
        # recorded: from perf's ack of "enable" to our SIGINT (or to perf's exit)
        ended = t_stop if t_stop is not None else time.monotonic()
        elapsed = max(ended - t0, 0.0) if t0 is not None else 0.0
        if not self.stopped_by:
            self.stopped_by = "process exit" if plan.pids else "command exit"
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=10)
        self._stderr_log.close()
        return rc, elapsed

    def _map_lines(self) -> int:
        return sum(c.file.data.count(b"\n") for p in self.procs.values()
                   for c in p.captured.values() if c.kind == "map")

    # --- the whole run -------------------------------------------------------------
    def run(self) -> RecordResult:
        plan = self.plan
        parent = os.path.dirname(self.dest)
        # the user's own mistakes first, then what this machine lacks (perf)
        if os.path.lexists(self.dest):
            raise RecordError(self.dest, "already exists: choose another -o DIR or remove it")
        if not os.path.isdir(parent):
            raise RecordError(parent, "no such directory (for -o)")
        self.perf = find_perf()
        if plan.pids:
            for pid in plan.pids:
                self._adopt(pid, fail=True)
        self.tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(self.dest)}.tmp-", dir=parent)
        try:
            return self._run_in_tmp()
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        finally:
            for p in self.procs.values():
                for c in p.captured.values():
                    c.file.close()

    def _run_in_tmp(self) -> RecordResult:
        plan = self.plan
        rc, elapsed = self._record()
        started_wall = self.started
        # perf has stopped: the last lines of every map (still held if it was deleted)
        for p in self.procs.values():
            self._refresh_proc(p, force=True)
            self._find_files(p)
        self._poll_files()
        data = os.path.join(self.tmp, B.PERF_DATA)
        log = bytes(self._stderr_tail).decode("utf-8", "replace")
        wrote = os.path.isfile(data) and os.path.getsize(data) > 0 and "Captured and wrote" in log
        # perf exits with the command's status (and with SIGINT's when we stopped it)
        ok_rc = rc in (0, -signal.SIGINT) or bool(plan.command)
        if not (ok_rc and wrote):
            raise explain_perf_failure(log, rc, plan.event, plan.command, plan.pids,
                                       plan.off_cpu)
        self._final_checks()
        samples = _samples(log)
        if samples == 0:
            self._warn("perf recorded no samples (was the process idle?)")
        if plan.script:
            self._write_script(data)
        self._write_buildids(data)
        files = self._write_process_files()
        manifest = self._manifest(started_wall, elapsed, samples, files)
        with open(os.path.join(self.tmp, B.MANIFEST), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        os.chmod(self.tmp, 0o755)  # mkdtemp made it 0700
        try:
            os.rename(self.tmp, self.dest)
        except OSError as e:
            raise RecordError(self.dest, f"cannot put the bundle in place: {e.strerror}"
                              ) from None
        return RecordResult(self.dest, manifest)

    def _final_checks(self) -> None:
        """Owner and age of every captured file, on its descriptor, now that it is final."""
        missing: list[int] = []
        for p in self.procs.values():
            for c in p.captured.values():
                st = os.fstat(c.file.fd)
                c.doubts = doubts_about(st, p.info, self._not_before(p.info))
                if c.doubts:
                    if not self.plan.trust_map:
                        raise RecordError(c.source, f"refused: {c.doubts[0]} (check it, then "
                                          "record with --trust-map to use it anyway); nothing "
                                          "was written")
                    self._warn(f"{c.source}: kept with --trust-map although {c.doubts[0]}")
            # a captured jitdump names the JIT code as well as a map would
            named = "map" in p.captured or "jitdump" in p.captured
            if not named and (self.plan.pids or _has_anon_exec(p.proc_maps)):
                missing.append(p.info.pid)
        if self.plan.command and not any("map" in p.captured or "jitdump" in p.captured
                                         for p in self.procs.values()):
            missing = sorted(self.procs)
        for pid in missing:
            where = ", ".join(os.path.join(d, n) for d, n in self.procs[pid].map_candidates)
            self._warn(f"no perf map for pid {pid} (looked at {where}): JIT frames will stay "
                       f"[unknown], native ones are fine. To have one: {HOW_TO_MAP}")

    def _write_script(self, data: str) -> None:
        out = os.path.join(self.tmp, B.SCRIPT)
        argv = [self.perf, "script", "-i", data, "--show-mmap-events", "--show-task-events",
                "--header"]  # --header: where it was recorded (jitprof.inputs.recording)
        if self.plan.off_cpu:  # when each switched-out thread ran again (issue 17)
            argv.append("--show-switch-events")
        with tempfile.TemporaryFile() as err, open(out, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6,
                               mtime=0) as gz:
                proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                                        stdin=subprocess.DEVNULL)
                assert proc.stdout is not None
                shutil.copyfileobj(proc.stdout, gz, 1 << 20)
                proc.stdout.close()
                rc = proc.wait()
            if rc != 0:
                err.seek(0)
                raise RecordError("perf script", f"failed (exit status {rc}): "
                                  + _last_line(err.read().decode("utf-8", "replace")))

    def _write_buildids(self, data: str) -> None:
        """``buildids.txt`` as ``perf buildid-list -i perf.data`` prints it, from the
        perf.data's own build-id section (the files its samples hit)."""
        from jitprof.errors import JitprofError
        from jitprof.parse.perfdata import read_perf_data

        try:
            ids = read_perf_data(data, records=False).build_ids
        except JitprofError as e:
            ids = {}
            self._warn(f"cannot read the build-ids of perf.data: {e}")
        with open(os.path.join(self.tmp, B.BUILDIDS), "w", encoding="utf-8",
                  errors="surrogateescape") as f:
            f.writelines(f"{bid} {name}\n" for name, bid in ids.items())

    def _write_process_files(self) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for pid, p in sorted(self.procs.items()):
            d = os.path.join(self.tmp, B.PROC_DIR, str(pid))
            os.makedirs(d, exist_ok=True)
            for name, content in (("maps", p.proc_maps), ("cmdline", p.info.cmdline),
                                  ("status", p.info.status)):
                if content is not None:
                    with open(os.path.join(d, name), "wb") as f:
                        f.write(content)
            entry: dict[str, Any] = {}
            for c in p.captured.values():
                sub = B.MAPS_DIR if c.kind == "map" else B.JITDUMP_DIR
                name = f"perf-{pid}.map" if c.kind == "map" else f"jit-{pid}.dump"
                os.makedirs(os.path.join(self.tmp, sub), exist_ok=True)
                rel = f"{sub}/{name}"
                with open(os.path.join(self.tmp, rel), "wb") as f:
                    f.write(c.file.data)
                entry[c.kind] = {
                    "file": rel, "source": c.source, "bytes": len(c.file.data),
                    "lines": c.file.data.count(b"\n") if c.kind == "map" else None,
                    "owner_uid": c.file.st.st_uid, "mtime": c.file.st.st_mtime,
                    "deleted_by_process": c.file.deleted(), "rewritten": c.file.resets,
                    "doubts": c.doubts,
                }
            entry["skipped_unsafe"] = p.skipped
            out[pid] = entry
        return out

    def _manifest(self, started: float, elapsed: float, samples: int | None,
                  files: dict[int, dict[str, Any]]) -> dict[str, Any]:
        plan = self.plan
        ended = started + elapsed
        u = platform.uname()
        procs = []
        for pid, p in sorted(self.procs.items()):
            info = p.info
            procs.append({
                "pid": pid, "nspid": info.nspid, "comm": info.comm, "uids": list(info.uids),
                "cmdline": info.argv(), "cwd": info.cwd, "start_time": info.start_time,
                "start_time_iso": _iso(info.start_time) if info.start_time else None,
                **files.get(pid, {}),
            })
        return {
            "format": B.FORMAT,
            "version": B.FORMAT_VERSION,
            "jitprof_version": __version__,
            "perf_version": perf_version(self.perf),
            "command": plan.argv or sys.argv,
            "perf_command": self.perf_argv_for_manifest(),
            "target": {"pids": plan.pids, "command": plan.command, "duration_s": plan.duration,
                       "freq_hz": plan.freq, "event": plan.event,
                       "off_cpu": plan.off_cpu, "trust_map": plan.trust_map},
            "host": {"hostname": socket.gethostname(), "system": u.system,
                     "kernel": u.release, "machine": u.machine,
                     "perf_event_paranoid": perf_event_paranoid()},
            "times": {"started": _iso(started), "ended": _iso(ended),
                      "started_epoch": started, "ended_epoch": ended,
                      "duration_s": round(elapsed, 3), "stopped_by": self.stopped_by},
            "samples": samples,
            "processes": procs,
            "warnings": self.warnings,
            "files": B.file_list(self.tmp),
        }

    def perf_argv_for_manifest(self) -> list[str]:
        argv = self.perf_argv((3, 4) if self._ctl_w >= 0 else None)
        i = argv.index("-o")
        argv[i + 1] = B.PERF_DATA
        return argv


_PERF_OWN_LINES = (b"[ perf record:", b"Events disabled", b"Events enabled")


def perf_has_control(perf: str) -> bool:
    """Whether this perf has ``--control`` and ``-D -1`` (perf 5.10 and later)."""
    try:
        r = subprocess.run([perf, "record", "-h"], capture_output=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--control" in r.stdout + r.stderr


def _iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(
        timespec="milliseconds")


def _samples(log: str) -> int | None:
    import re

    m = re.search(r"Captured and wrote .*\((\d+) samples\)", log)
    if m:
        return int(m.group(1))
    # perf leaves the count out when it processed no sample
    return 0 if "Captured and wrote" in log else None


def _has_anon_exec(proc_maps: bytes | None) -> bool:
    """An anonymous executable mapping: where a JIT puts its code."""
    for line in (proc_maps or b"").splitlines():
        parts = line.split()
        if len(parts) >= 2 and b"x" in parts[1] and (len(parts) < 6 or parts[5].startswith(
                (b"[anon", b"/memfd:"))):
            return True
    return False


def record(plan: RecordPlan, reporter: Reporter | None = None) -> RecordResult:
    return Recorder(plan, reporter).run()

