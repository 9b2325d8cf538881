"""Live profiles of running processes: perf samples streamed, maps followed as they grow.

The stream (``PerfStream``) is one perf process, no shell::

    perf record -g -F HZ -e EVENT -m PAGES -p PIDS -o -

whose pipe-mode perf.data jitprof reads itself (``jitprof.parse.perfdata.PerfDataStream``;
``--perf-data-reader script``, or a stream holding what only perf decodes, reads it as
before through ``| perf script -i - --show-mmap-events --show-task-events``).
perf record in pipe mode writes what it reads from the kernel's ring buffer each time it
is woken, which happens when the buffer is half full: with ``-m PAGES`` sized for about
1/20 s of samples (``ring_pages``: 8 at 999 Hz) the data arrives about every 0.1 s at
``-F 999`` (perf 6.1: 52 wake-ups in 4 s with 4 pages, 13 with 16); and every 0.2 s a
``ping`` on perf's ``--control`` pipe wakes it anyway, so a process with few samples is
not shown seconds late. Rotating perf.data files (``--switch-output``) was the other
choice; it costs a file and a read start per interval, so the pipe was chosen.

``LiveProfiler`` reads the stream in a thread into one-second buckets of raw samples (by
sample time). Natively, the bytes are decoded as they come and every ``CONVERT_S`` the
samples decoded since (``PerfDataStream.take``: the stream then forgets them) become
frames, stacks and threads of one table each for the run (interned: a stack seen again is
the same id) and per-second columns of ids; side-band records (mmap, comm, fork: which
thread is which process, which file at which address) stay in the stream for the whole
run. Through perf script, the text is read into one ScriptReader per bucket (one frame
table shared by all). A snapshot merges the buckets of the whole run or of the last N
seconds, re-reads the appended part of each process's map (``LiveMap``: perf top reads a
map once; JITs keep appending) and builds a ``Profile`` the usual way (``build_profile``:
the same naming rules as ``jitprof report``; natively, file and kernel frames named by
one ``Symbolizer`` kept for the run). Buckets older than the longest window are folded
into one. Pause drops what arrives meanwhile (counted); reset forgets the samples.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from jitprof.acquire.mapwatch import LiveMap
from jitprof.acquire.proc import ProcessInfo, read_process
from jitprof.acquire.record import (
    HOW_TO_PERF,
    doubts_about,
    explain_perf_failure,
    map_candidates,
    perf_has_control,
    sampled_event_argv,
)
from jitprof.errors import EmptyInputError, JitprofError, RecordError, UnsafeFileError
from jitprof.inputs.classify import PerfDataReader
from jitprof.model import TIMELINE_BIN, MapHealth, Profile
from jitprof.parse import RawFrames, RawStacks, ScriptData, ScriptReader
from jitprof.parse.native import script_data as native_script_data
from jitprof.parse.perfdata import PerfDataStream
from jitprof.resolve import ElfOptions, FileNaming, MapFinder, build_profile
from jitprof.symbols.perfmap import PerfMap
from jitprof.symbols.symbolize import Symbolizer

LIVE_INPUT = "perf (live)"
_TIME_RX = re.compile(r"(?:^|\s)(\d+\.\d+):(?=\s|$)")
SAMPLE_BYTES_GUESS = 200  # a -g sample in perf's ring buffer, roughly
PING_S = 0.2  # how often perf record is asked to write what it has
CONVERT_S = 0.5  # how often the perf.data read natively is made samples


def ring_pages(freq: int, seconds: float = 0.05) -> int:
    """``perf record -m`` pages (a power of two, 4..128) whose half fills in about
    ``seconds`` at ``freq`` samples per second: how often perf record writes (perf
    script shows a round when the next one arrives)."""
    want = 2 * freq * SAMPLE_BYTES_GUESS * seconds / 4096
    pages = 4
    while pages < want and pages < 128:
        pages *= 2
    return pages


class PerfStream:
    """``perf record ... -o -`` for some pids, read as perf.data (``native``) or through
    ``| perf script -i -`` (see the module doc)."""

    def __init__(self, pids: Sequence[int], freq: int = 999, event: str = "cpu-clock",
                 off_cpu: bool = False, native: bool = True) -> None:
        perf = shutil.which("perf")
        if perf is None:
            raise RecordError("perf", "not found on PATH: " + HOW_TO_PERF)
        self.perf = perf
        self.pids = list(pids)
        self.event = event
        self.off_cpu = off_cpu
        self.record_argv = [perf, "record", "-g", *sampled_event_argv(event, freq, off_cpu),
                            "-m", str(ring_pages(freq) * (4 if off_cpu else 1)),
                            "-p", ",".join(map(str, pids)), "-o", "-"]
        self.script_argv = [perf, "script", "-i", "-", "--show-mmap-events",
                            "--show-task-events"]
        if off_cpu:
            # from a pipe, perf script prints a tracepoint's callchain without dsos:
            # its fields given (issue 17)
            self.script_argv += ["--show-switch-events",
                                 "-F", "trace:comm,tid,cpu,time,event,trace,ip,sym,dso"]
        self._rec_err: IO[bytes] = tempfile.TemporaryFile()
        self._scr_err: IO[bytes] = tempfile.TemporaryFile()
        kw: dict[str, Any] = {}
        if sys.version_info >= (3, 11):
            kw["process_group"] = 0  # a terminal Ctrl-C reaches jitprof only
        else:  # pragma: no cover - 3.10
            kw["preexec_fn"] = os.setpgrp
        # a "ping" on perf's control pipe wakes it to drain the ring buffers now: the text
        # keeps coming when few samples fill the buffer slowly (perf 5.11+)
        self._ctl_w = self._ack_r = -1
        theirs: tuple[int, ...] = ()
        if perf_has_control(perf):
            ctl_r, self._ctl_w = os.pipe()
            self._ack_r, ack_w = os.pipe()
            os.set_blocking(self._ctl_w, False)
            os.set_blocking(self._ack_r, False)
            theirs = (ctl_r, ack_w)
            self.record_argv[-2:-2] = ["--control", f"fd:{ctl_r},{ack_w}"]
        try:
            self.record = subprocess.Popen(self.record_argv, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=self._rec_err,
                                           pass_fds=theirs, **kw)
        finally:
            for fd in theirs:
                os.close(fd)
        assert self.record.stdout is not None
        self.native = native
        self.script: subprocess.Popen[bytes] | None = None
        if native:
            self.stdout = self.record.stdout
            return
        self.script = subprocess.Popen(self.script_argv, stdin=self.record.stdout,
                                       stdout=subprocess.PIPE, stderr=self._scr_err, **kw)
        self.record.stdout.close()  # the script process holds the pipe's read end now
        assert self.script.stdout is not None
        self.stdout = self.script.stdout

    def ping(self) -> None:
        """Have perf record write what its ring buffers hold (no-op without --control)."""
        if self._ctl_w < 0:
            return
        try:
            os.write(self._ctl_w, b"ping\n")
            while os.read(self._ack_r, 4096):  # the acks, not needed
                pass
        except (BlockingIOError, BrokenPipeError, OSError):
            pass

    def stop(self, timeout: float = 10) -> None:
        """SIGINT perf record (it flushes and exits); perf script sees the end of its
        input and exits too. Killed if they do not within ``timeout``."""
        if self.record.poll() is None:
            try:
                self.record.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
        for p in (self.record, self.script):
            if p is None:
                continue
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def failure(self) -> RecordError | None:
        """Why perf record stopped by itself, when it failed (None while it runs or if
        it ended normally: the processes exited)."""
        rc = self.record.poll()
        if rc is None or rc in (0, -signal.SIGINT):
            return None
        self._rec_err.seek(0)
        err = self._rec_err.read().decode("utf-8", "replace")
        return explain_perf_failure(err, rc, self.event, [], self.pids, self.off_cpu)

    def close(self) -> None:
        for fd in (self._ctl_w, self._ack_r):
            if fd >= 0:
                os.close(fd)
        self._ctl_w = self._ack_r = -1
        self.stdout.close()
        self._rec_err.close()
        self._scr_err.close()


class _LiveFinder(MapFinder):
    """Each process's map is its ``LiveMap`` segments (never /tmp looked up by name)."""

    def __init__(self, maps: dict[int, LiveMap]) -> None:
        super().__init__(search_tmp=False)
        self.live = maps

    def find(self, pid: int, input_dirs: Iterable[str]) -> list[PerfMap]:
        lm = self.live.get(pid)
        return lm.maps() if lm is not None else []

    def find_jitdump(self, pid: int, input_dirs: Iterable[str]) -> None:
        return None


@dataclass(slots=True)
class _Bucket:
    second: int  # floor of the samples' perf time
    reader: ScriptReader


@dataclass(slots=True)
class _Columns:
    """One event's samples in a native bucket: ids into the profiler's shared stack and
    thread tables, weights, times (seconds)."""

    stack: array = field(default_factory=lambda: array("i"))
    thread: array = field(default_factory=lambda: array("i"))
    weight: array = field(default_factory=lambda: array("q"))
    time: array = field(default_factory=lambda: array("d"))

    def extend(self, other: _Columns) -> None:
        self.stack.extend(other.stack)
        self.thread.extend(other.thread)
        self.weight.extend(other.weight)
        self.time.extend(other.time)


@dataclass(slots=True)
class _NativeBucket:
    second: int
    events: dict[str, _Columns] = field(default_factory=dict)

    def columns(self, event: str) -> _Columns:
        c = self.events.get(event)
        if c is None:
            c = self.events[event] = _Columns()
        return c

    def extend(self, other: _NativeBucket) -> None:
        for name, c in other.events.items():
            self.columns(name).extend(c)


@dataclass(slots=True)
class LiveStats:
    blocks: int = 0  # samples (and side-band blocks) read
    samples: int = 0  # sample blocks read (paused or not; a reset does not clear it)
    dropped_paused: int = 0
    bytes: int = 0


@dataclass(slots=True)
class LiveProcess:
    info: ProcessInfo
    map: LiveMap | None = None
    map_source: str | None = None
    problems: list[str] = field(default_factory=list)


class LiveProfiler:
    """Samples of running processes as rolling ``Profile`` snapshots (module docstring).

    ``feed`` takes perf script text (any chunking); ``start`` runs a ``PerfStream`` and
    feeds from it in a thread. ``keep`` seconds of one-second buckets are kept apart for
    windows; older ones are folded into the whole-run total."""

    def __init__(self, pids: Sequence[int], keep: float = 60.0, trust_map: bool = False,
                 event: str | None = None) -> None:
        self.pids = list(pids)
        self.keep = max(1, int(keep + 0.999))
        self.trust_map = trust_map
        self.event = event
        self.stats = LiveStats()
        self.paused = False
        self.started = time.monotonic()
        self.latest: float | None = None  # perf time of the newest sample
        self._lock = threading.Lock()
        # one frame table for every reader of the run: merging buckets needs no remapping
        # of frame ids (nor comparing frames), only adding stack counts
        self._frames = RawFrames()
        self._frame_ids: dict[str, int] = {}
        self._side = self._reader()
        self._old = self._reader()
        self._old_empty = True
        self._buckets: list[_Bucket] = []
        self._rest = ""  # text after the last complete block
        self.procs: dict[int, LiveProcess] = {}
        self.stream: PerfStream | None = None
        self._thread: threading.Thread | None = None
        # perf.data read natively (``feed_perf_data``): one frame, stack and thread table
        # for the run, the samples in one-second buckets of ids into them
        self.native = False
        self.reader: PerfDataReader = "auto"  # how start() reads perf
        self.notes: list[str] = []  # one-line notes on how perf is read (a fallback)
        self._stop_reason: RecordError | None = None
        self._pstream: PerfDataStream | None = None
        self._unfed: list[bytes] = []  # read, not yet given to the stream
        self._bad_stream: RecordError | None = None  # why the stream cannot be read
        self._converted = False  # a native sample was converted (no fallback after)
        self._last_convert = 0.0
        self._nframes = RawFrames()
        self._nframe_ids: dict[tuple[int, str, str], int] = {}
        self._nstacks = RawStacks()
        self._nstack_ids: dict[tuple[int, ...], int] = {}
        self._nthreads: list[tuple[int, str]] = []
        self._nthread_ids: dict[tuple[int, str], int] = {}
        self._ntid_pid: dict[int, int] = {}
        self._nside: ScriptData | None = None  # the last piece converted: maps, facts
        self._nbuckets: list[_NativeBucket] = []
        self._nold = _NativeBucket(-1)
        self._symbolizer: Symbolizer | None = None
        self._freq = 999
        self._off_cpu = False
        for pid in self.pids:
            self.procs[pid] = LiveProcess(read_process(pid))
            self._open_map(self.procs[pid], fail=True)

    def _reader(self) -> ScriptReader:
        r = ScriptReader(ScriptData(frames=self._frames))
        r._cache = self._frame_ids  # frame line text -> id, for the shared table
        return r

    # --- maps --------------------------------------------------------------------------
    def add_map(self, pid: int, directory: str, name: str) -> None:
        """Follow this file as ``pid``'s map (instead of looking for one)."""
        lm = LiveMap(directory, name)
        p = self.procs.get(pid)
        if p is None:
            info = ProcessInfo(pid, pid, (os.getuid(),), None, b"", "", None)
            p = self.procs[pid] = LiveProcess(info)
        if p.map is not None:
            p.map.close()
        p.map, p.map_source = lm, lm.path

    def _open_map(self, p: LiveProcess, fail: bool = False) -> None:
        for d, n in map_candidates(p.info):
            path = os.path.join(d, n)
            try:
                lm = LiveMap(d, n, display_path=path)
            except FileNotFoundError:
                continue
            except UnsafeFileError as e:
                if fail and not self.trust_map:  # --trust-map: left out, never followed
                    raise RecordError(e.path, f"{e.message}; refused (--trust-map goes on "
                                      "without it)") from None
                continue
            except OSError:
                continue
            doubts = doubts_about(lm.file.st, p.info, p.info.start_time)
            if doubts and not self.trust_map:
                lm.close()
                if fail:
                    raise RecordError(path, f"refused: {doubts[0]} (check it, then use "
                                      "--trust-map to use it anyway)")
                continue
            p.map, p.map_source, p.problems = lm, path, doubts
            return

    def refresh_maps(self) -> None:
        for p in self.procs.values():
            if p.map is None:
                self._open_map(p)
            if p.map is not None:
                p.map.refresh()

    # --- samples -------------------------------------------------------------------------
    def feed(self, text: str) -> None:
        """Add perf script text; an incomplete last block waits for the rest."""
        with self._lock:
            self.stats.bytes += len(text)
            data = self._rest + text
            cut = data.rfind("\n\n")
            if cut < 0:
                self._rest = data
                return
            self._rest = data[cut + 2 :]
            self._feed_blocks(data[: cut + 2].split("\n\n"))

    def _feed_blocks(self, blocks: list[str]) -> None:
        side: list[str] = []
        per_second: dict[int, list[str]] = {}
        for block in blocks:
            if not block.strip():
                continue
            self.stats.blocks += 1
            lines = block.split("\n")
            # side-band records come as single lines before a sample's header
            k = 0
            while k < len(lines) and "PERF_RECORD_" in lines[k]:
                side.append(lines[k] + "\n")
                k += 1
            if k == len(lines):
                continue
            self.stats.samples += 1
            if self.paused:
                self.stats.dropped_paused += 1
                continue
            m = _TIME_RX.search(lines[k])
            if m is not None:
                t = float(m.group(1))
                if self.latest is None or t > self.latest:
                    self.latest = t
                second = int(t)
            else:
                second = self._buckets[-1].second if self._buckets else 0
            per_second.setdefault(second, []).extend(ln + "\n" for ln in lines[k:])
            per_second[second].append("\n")
        if side:
            _read_into(self._side, side)
        for second, lines in sorted(per_second.items()):
            _read_into(self._bucket(second).reader, lines)
        self._fold()

    def _bucket(self, second: int) -> _Bucket:
        for b in reversed(self._buckets):
            if b.second == second:
                return b
            if b.second < second:
                break
        nb = _Bucket(second, self._reader())
        self._buckets.append(nb)
        self._buckets.sort(key=lambda b: b.second)
        return nb

    def _fold(self) -> None:
        """Buckets older than ``keep`` seconds go into the whole-run total."""
        if self.latest is None:
            return
        horizon = int(self.latest) - self.keep
        while self._buckets and self._buckets[0].second <= horizon:
            b = self._buckets.pop(0)
            self._old._merge(b.reader.data, 0)
            self._old_empty = False

    # --- samples: a perf.data stream read natively ----------------------------------------
    def feed_perf_data(self, data: bytes) -> None:
        """Add bytes of ``perf record -o -``'s stream (any chunking). They are decoded at
        once and made samples every ``CONVERT_S`` (and before a snapshot, pause, resume or
        reset)."""
        with self._lock:
            if self._pstream is None:
                self._pstream = PerfDataStream(LIVE_INPUT)
                self.native = True
            self.stats.bytes += len(data)
            # decoded in one go per conversion (each decoding has a fixed numpy cost;
            # perf sends a piece every 0.1 s or so)
            self._unfed.append(data)
            if time.monotonic() - self._last_convert >= CONVERT_S:
                self._convert()

    def unsupported(self) -> list[str]:
        """What the stream holds that jitprof cannot read itself (perf script can)."""
        pd = self._pstream.pd if self._pstream is not None else None
        return list(pd.unsupported) if pd is not None else []

    def _convert(self) -> None:
        """The samples decoded since the last time, into the buckets (with the lock)."""
        self._last_convert = time.monotonic()
        if self._pstream is not None and self._unfed and self._bad_stream is None:
            data = b"".join(self._unfed)
            self._unfed.clear()
            try:
                self._pstream.feed(data)
            except JitprofError as e:  # (the reader thread stops perf: ``_pump``)
                self._bad_stream = RecordError(LIVE_INPUT, e.message)
        if self._bad_stream is not None:
            return
        if self._pstream is None or self._pstream.pd is None or self.unsupported():
            return
        pd = self._pstream.take()
        if not pd.samples:
            return
        self._converted = True
        piece = native_script_data(pd, LIVE_INPUT)
        n = sum(len(e.s_stack) for e in piece.events.values())
        self.stats.blocks += n
        self.stats.samples += n
        self._nside = piece
        for tid, pid in piece.tid_pid.items():
            self._ntid_pid.setdefault(tid, pid)
        if self.paused:
            self.stats.dropped_paused += n
            return
        self._intern(piece)

    def _intern(self, piece: ScriptData) -> None:
        """A converted piece's samples into the shared tables and the buckets."""
        import numpy as np

        fr = piece.frames
        fids = self._nframe_ids
        shared = self._nframes
        fmap = np.empty(len(fr), dtype=np.int32)
        for i, (addr, sym, dso) in enumerate(zip(fr.addr, fr.sym, fr.dso, strict=True)):
            key = (addr, fr.syms[sym], fr.dsos[dso])
            j = fids.get(key)
            if j is None:
                j = fids[key] = shared.add(*key)
            fmap[i] = j
        st = piece.stacks
        flat = fmap[np.frombuffer(st.frames, dtype=np.int32)].tolist() if len(st.frames) else []
        sids = self._nstack_ids
        smap = np.empty(len(st), dtype=np.int32)
        start = 0
        for i, end in enumerate(st.ends):
            key_s = tuple(flat[start:end])
            start = end
            j = sids.get(key_s)
            if j is None:
                j = sids[key_s] = self._nstacks.add(key_s)
            smap[i] = j
        tids = self._nthread_ids
        tmap = np.empty(len(piece.threads), dtype=np.int32)
        for i, th in enumerate(piece.threads):
            j = tids.get(th)
            if j is None:
                j = tids[th] = len(self._nthreads)
                self._nthreads.append(th)
            tmap[i] = j
        for name, ev in piece.events.items():
            if not len(ev.s_stack):
                continue
            stack = smap[np.frombuffer(ev.s_stack, dtype=np.int32)]
            thread = tmap[np.frombuffer(ev.s_thread, dtype=np.int32)]
            weight = np.frombuffer(ev.s_weight, dtype=np.int64)
            t = np.frombuffer(ev.s_time, dtype=np.float64)
            timed = ~np.isnan(t)
            if timed.any():
                newest = float(t[timed].max())
                if self.latest is None or newest > self.latest:
                    self.latest = newest
            last = self._nbuckets[-1].second if self._nbuckets else 0
            secs = np.where(timed, np.floor(np.where(timed, t, 0.0)), last).astype(np.int64)
            for second in np.unique(secs).tolist():
                sel = np.flatnonzero(secs == second)
                c = self._nbucket(int(second)).columns(name)
                c.stack.frombytes(stack[sel].astype(np.int32).tobytes())
                c.thread.frombytes(thread[sel].astype(np.int32).tobytes())
                c.weight.frombytes(weight[sel].astype(np.int64).tobytes())
                c.time.frombytes(t[sel].astype(np.float64).tobytes())
        self._nfold()

    def _nbucket(self, second: int) -> _NativeBucket:
        for b in reversed(self._nbuckets):
            if b.second == second:
                return b
            if b.second < second:
                break
        nb = _NativeBucket(second)
        self._nbuckets.append(nb)
        self._nbuckets.sort(key=lambda b: b.second)
        return nb

    def _nfold(self) -> None:
        if self.latest is None:
            return
        horizon = int(self.latest) - self.keep
        while self._nbuckets and self._nbuckets[0].second <= horizon:
            self._nold.extend(self._nbuckets.pop(0))

    def _native_data(self, window: float | None) -> ScriptData:
        """``data`` of the native buckets (with the lock)."""
        self._convert()
        if window is None:
            chosen = [self._nold, *self._nbuckets]
        else:
            first = int(self.latest - window) if self.latest is not None else 0
            chosen = [b for b in self._nbuckets if b.second >= first]
        out = ScriptData(frames=self._nframes.copy(), threads=list(self._nthreads))
        out.stacks.frames = array("i", self._nstacks.frames)
        out.stacks.ends = array("q", self._nstacks.ends)
        for b in chosen:
            for name, c in b.events.items():
                ev = out.event(name)
                ev.s_stack.extend(c.stack)
                ev.s_thread.extend(c.thread)
                ev.s_weight.extend(c.weight)
                ev.s_time.extend(c.time)
                ev.has_period = True
        out.tid_pid = dict(self._ntid_pid)
        side = self._nside
        if side is not None:
            out.mmaps = list(side.mmaps)
            out.build_ids = dict(side.build_ids)
            out.recordings = dict(side.recordings)
            out.clocks = dict(side.clocks)
            out.notes = list(side.notes)
        out.address_form = "raw"
        out.callers_at_return = True
        out.native_inputs = [LIVE_INPUT]
        return out

    def pause(self) -> None:
        with self._lock:
            if self.native:  # what came before the pause is kept
                self._convert()
            self.paused = True

    def resume(self) -> None:
        with self._lock:
            if self.native:  # what came meanwhile is dropped (counted)
                self._convert()
            self.paused = False

    def reset(self) -> None:
        """Forget the samples so far (the processes' facts and maps stay)."""
        with self._lock:
            if self.native:
                self._convert()  # (what was read before the reset goes too)
            self._buckets.clear()
            self._old = self._reader()
            self._old_empty = True
            self._nbuckets.clear()
            self._nold = _NativeBucket(-1)
            self.latest = None
            self.started = time.monotonic()

    # --- snapshots ---------------------------------------------------------------------
    def data(self, window: float | None = None) -> ScriptData:
        """The raw samples of the whole run, or of the last ``window`` seconds (of perf
        time, counted back from the newest sample; in one-second buckets, so between
        ``window`` and ``window + 1`` seconds)."""
        if window is not None and window > self.keep:
            raise ValueError(f"window {window} s is longer than the {self.keep} s kept")
        if self.native:
            with self._lock:
                nd = self._native_data(window)
            nd.inputs = [LIVE_INPUT]
            nd.notes[:0] = self.notes
            return nd
        out = self._reader()
        with self._lock:
            out._merge(self._side.data, 0)
            if window is None:
                if not self._old_empty:
                    out._merge(self._old.data, 0)
                chosen = self._buckets
            else:
                # the buckets that hold the last ``window`` seconds: at least that much,
                # less than a second more
                first = int(self.latest - window) if self.latest is not None else 0
                chosen = [b for b in self._buckets if b.second >= first]
            for b in chosen:
                out._merge(b.reader.data, 0)
            out.data.frames = self._frames.copy()  # the table grows as text comes in
        out.data.inputs = [LIVE_INPUT]
        out.data.notes[:0] = self.notes
        return out.data

    def snapshot(self, window: float | None = None) -> Profile | None:
        """A Profile of the whole run or the last ``window`` seconds; None before the
        first sample. The maps are brought up to date first."""
        self.refresh_maps()
        data = self.data(window)
        if not any(e.samples for e in data.events.values()):
            return None
        maps = {pid: p.map for pid, p in self.procs.items() if p.map is not None}
        try:
            # with time bins: the TUI's timeline over the run or the window; file and
            # kernel frames of a native stream named by jitprof (perf script names them)
            prof = build_profile(data, _LiveFinder(maps), event=self.event,
                                 bin_width=TIMELINE_BIN,
                                 files=FileNaming(self._symbolizer_for(data)) if (
                                     self.native) else None)
        except EmptyInputError:
            return None
        prof.diagnostics.maps = _one_health_per_map(prof.diagnostics.maps)
        return prof

    def _symbolizer_for(self, data: ScriptData) -> Symbolizer:
        """One ELF/kallsyms symbolizer for the run, made at the first snapshot: its files,
        kallsyms and names are read once (the processes run here, now: the local files
        are theirs; the build-ids perf sends at its end come too late to matter)."""
        if self._symbolizer is None:
            self._symbolizer = ElfOptions().symbolizer(data)
        return self._symbolizer

    # --- the perf stream ---------------------------------------------------------------
    def start(self, freq: int = 999, event: str = "cpu-clock", off_cpu: bool = False,
              reader: PerfDataReader = "auto") -> None:
        """Run perf and read it in a thread: ``reader`` "native" (perf record's stream
        read as perf.data), "script" (through perf script) or "auto" (native; through
        perf script, with a note, when the stream holds what jitprof cannot read).
        ``off_cpu`` (issue 17: the switch tracepoint and switch events too) is read
        through perf script: the native buckets keep no switch columns yet."""
        self.event = self.event or event
        self.reader = "script" if off_cpu else reader
        self._freq = freq
        self._off_cpu = off_cpu
        self.stream = PerfStream(self.pids, freq=freq, event=event, off_cpu=off_cpu,
                                 native=self.reader != "script")
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            self._pump_stream()
        except Exception as e:  # noqa: BLE001 - the reader thread's end: perf stopped, said
            stream = self.stream
            if stream is not None:
                self._give_up(stream, RecordError(LIVE_INPUT, "cannot read perf's stream: "
                                                  f"{type(e).__name__}: {e}"))

    def _pump_stream(self) -> None:
        assert self.stream is not None
        stream = self.stream
        fd = stream.stdout.fileno()
        dec = _Utf8()
        last_ping = 0.0
        while True:
            now = time.monotonic()
            if now - last_ping >= PING_S:
                stream.ping()
                last_ping = now
            ready, _, _ = select.select([fd], [], [], PING_S)
            if not ready:
                if stream.native:
                    with self._lock:
                        self._convert()
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            if not stream.native:
                self.feed(dec.decode(chunk))
                continue
            self.feed_perf_data(chunk)
            if self._bad_stream is not None:  # not a perf.data stream: stop, say why
                self._give_up(stream, self._bad_stream)
                break
            why = self.unsupported()
            if why and not self._fall_back(stream, "; ".join(why)):
                break
            if why:  # reading the text of a new perf record | perf script now
                assert self.stream is not None
                stream = self.stream
                fd = stream.stdout.fileno()
        if stream.native:
            with self._lock:
                self._convert()
                if self._pstream is not None:
                    self._pstream.close()
                self._convert()

    def _fall_back(self, stream: PerfStream, why: str) -> bool:
        """The stream holds ``why``: go on through perf script (a new perf record, with
        a note) where that is allowed and no native sample was taken yet (True), else
        stop perf with the reason (False)."""
        if self.reader == "native" or self._converted:
            self._give_up(stream, RecordError(
                LIVE_INPUT, f"perf's stream holds {why}: jitprof cannot read that itself"
                + (" (use --perf-data-reader script)" if self.reader == "native" else "")))
            return False
        self.notes.append(f"{LIVE_INPUT}: perf's stream holds {why}: read through perf "
                          "script")
        with self._lock:
            self._pstream = None
            self._unfed.clear()
            self.native = False
        # the new perf first (``running`` stays true), then the old one goes: nobody reads
        # its pipe any more, closed so that it does not block writing its last data
        self.stream = PerfStream(self.pids, freq=self._freq, event=stream.event, native=False)
        stream.stdout.close()
        stream.stop()
        stream.close()
        return True

    def _give_up(self, stream: PerfStream, why: RecordError) -> None:
        self._stop_reason = why
        if stream.record.poll() is None:
            try:
                stream.record.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
        try:  # (nobody reads its output any more)
            stream.stdout.close()
        except OSError:
            pass

    def running(self) -> bool:
        return self.stream is not None and self.stream.record.poll() is None

    def failure(self) -> RecordError | None:
        """Why perf stopped by itself, if it failed (ask before ``stop``)."""
        if self._stop_reason is not None or self._bad_stream is not None:
            return self._stop_reason or self._bad_stream
        return self.stream.failure() if self.stream is not None else None

    def stop(self) -> None:
        """Stop perf (what it already sent is read first); snapshots still work."""
        if self.stream is not None:
            self.stream.stop()
            if self._thread is not None:
                self._thread.join(timeout=10)
            self.stream.close()
            self.stream = None

    def close(self) -> None:
        """Stop perf and let go of the maps."""
        self.stop()
        for p in self.procs.values():
            if p.map is not None:
                p.map.close()
                p.map = None


class _Utf8:
    def __init__(self) -> None:
        import codecs

        self._d = codecs.getincrementaldecoder("utf-8")("surrogateescape")

    def decode(self, b: bytes) -> str:
        return self._d.decode(b)


def _read_into(reader: ScriptReader, lines: list[str]) -> None:
    try:
        reader.read_lines(lines, LIVE_INPUT)
    except JitprofError:  # a block of something else: counted as unparsed by the reader
        pass
    del reader.data.inputs[1:]


def _one_health_per_map(maps: list[MapHealth]) -> list[MapHealth]:
    """A live map is read in segments: one row per file, the counts summed (overlaps
    between segments are not counted)."""
    out: dict[str, MapHealth] = {}
    for m in maps:
        o = out.get(m.path)
        if o is None:
            out[m.path] = MapHealth(m.path, m.pid, m.lines, m.entries, m.bad, m.overlapping,
                                    m.zero_size, m.mtime, list(m.bad_lines))
        else:
            o.lines += m.lines
            o.entries += m.entries
            o.bad += m.bad
            o.overlapping += m.overlapping
            o.zero_size += m.zero_size
            o.bad_lines.extend(m.bad_lines)
    return list(out.values())
