"""Stream perf script text into the tables of ``jitprof.parse.tables``: blocks, the line
reader, side-band records, parallel reading.

The reader never holds the file. It reads blocks (the text of one sample, between blank
lines) and keeps only distinct frame lines (a dict keyed by the raw text), distinct stacks
with their counts and weights (a dict keyed by the frames' text finds a repeated stack in
one lookup), and the mmap/comm/fork facts needed later to map threads to processes and
addresses to files. Blocks of any other shape go through a line-by-line reader that knows
the whole grammar; both give the same result (tests/test_script_blocks.py). A big file
can be cut at blank lines and read by several processes."""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import multiprocessing
import os
import shutil
import stat
import sys
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import IO

from jitprof.errors import EmptyInputError, InputError
from jitprof.inputs.classify import InputKind, PerfDataReader, classify, is_perf_data
from jitprof.inputs.perftool import perf_script_text
from jitprof.inputs.recording import RecordingFacts, is_header_comment, note_header_comment
from jitprof.parse.grammar import (
    _COMM_RX,
    _FORK_RX,
    _HEX_DIGITS,
    _MMAP_RX,
    _SWITCH_RX,
    _TIME_RX,
    _first_junk,
    _parse_frame,
    is_frame_line,
    not_text,
    parse_bare_header,
    parse_bare_header_numbers,
    parse_frame_text,
    parse_header,
    parse_sched_switch,
    unreadable_text,
)
from jitprof.parse.tables import (
    SWITCH_EVENT,
    SWITCH_OUT,
    SWITCH_PREEMPT,
    EventData,
    Mmap,
    ScriptData,
)


def open_text(path: str) -> IO[str]:
    """Open a text input: '-' is stdin; .gz/.xz/.bz2 are decompressed on the fly."""
    try:
        if path == "-":
            return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape")
        if path.endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape")
        if path.endswith(".xz"):
            return lzma.open(path, "rt", encoding="utf-8", errors="surrogateescape")
        if path.endswith(".bz2"):
            return bz2.open(path, "rt", encoding="utf-8", errors="surrogateescape")
        return open(path, encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None


# The sample being read: (event, thread id, weight, time or None, header rest)
_Cur = tuple[EventData, int, int, "float | None", str]


_HEADER_CACHE_MAX = 65536


# Frame lines kept in the text -> id cache (about 150 bytes each): a profile with a
# distinct leaf address in every sample would otherwise keep every line it ever read.
# When full it is emptied (lines read again get new ids; they resolve the same).
_FRAME_CACHE_MAX = 1 << 18


# Stack texts kept (about 1 KB each) to find a repeated callchain in one lookup. When the
# cache fills with stacks that are not repeated (a distinct leaf in every sample), it is
# switched off for the next _STACK_CACHE_REST samples, then tried again.
_STACK_CACHE_MAX = 1 << 15


_STACK_CACHE_REST = 1 << 18


class _StackCache:
    """``read_text``'s cache of whole frame texts: frames text -> (raw stack id, lines in
    the block); bounded, and switched off while it does not pay (see _STACK_CACHE_MAX):
    hits since it was last cleared, the sample count until which it is off, samples."""

    __slots__ = ("stacks", "hits", "off_until", "samples")

    def __init__(self) -> None:
        self.stacks: dict[str, tuple[int, int]] = {}
        self.hits = 0
        self.off_until = -1
        self.samples = 0


class ScriptReader:
    """Feeds lines of one or more perf script texts into a ``ScriptData``.

    Every sample's time is kept (``EventData.s_time``); ``bin_width`` is only what the
    ``EventData.bins`` view counts by (the resolver bins from the times)."""

    def __init__(self, data: ScriptData | None = None,
                 bin_width: float | None = None, perf_data: PerfDataReader = "auto",
                 perf_script_args: Sequence[str] = ()) -> None:
        self.data = data if data is not None else ScriptData()
        # what perf script is also given (--symfs, --kallsyms: it names what the user's
        # files name, as the native reading does)
        self.perf_script_args = list(perf_script_args)
        self.bin_width = bin_width
        # how a perf.data is read: "auto" (natively, through perf script where jitprof
        # cannot: DWARF/LBR call graphs, AUX tracing), "native" or "script"
        self.perf_data = perf_data
        self._forms: set[str | None] = set()
        self._cache: dict[str, int] = {}
        self._old_cache: dict[str, int] = {}
        self._hcache: dict[str, tuple[EventData, int, int, str]] = {}
        self._thread_ids: dict[tuple[int, str], int] = {
            k: i for i, k in enumerate(self.data.threads)}
        self._cur: _Cur | None = None
        self._pending: tuple[str, int, str] | None = None  # a bare header line, if frames follow
        self._stack: list[int] = []
        self._short: dict[tuple[int, ...], int] = {}  # the line reader's stacks -> ids
        # a frame line's text after the address -> its (symbol id, dso id): bounded
        self._rest_ids: dict[str, tuple[int, int]] = {}
        self._blank_at = -1  # the number of the last blank line read (issue 13: frames
        # indented with blanks right after one start a callchain of their own)
        # progress(bytes): called once per chunk read (4 MiB) with the bytes of the input
        # read so far (compressed bytes for .gz/.xz/.bz2; text bytes from a pipe)
        self.progress: Callable[[int], None] | None = None

    def _event(self, name: str) -> EventData:
        ev = self.data.event(name)
        ev.bin_width = self.bin_width
        return ev

    def _thread(self, tid: int, comm: str) -> int:
        key = (tid, comm)
        th = self._thread_ids.get(key)
        if th is None:
            th = self._thread_ids[key] = len(self.data.threads)
            self.data.threads.append(key)
        return th

    def _frame_id(self, line: str) -> int:
        """The id of a frame line (cached by its text without the newline); -1 if the
        line is not a frame."""
        if line[-1:] == "\n":
            line = line[:-1]
        fid = self._cache.get(line)
        if fid is None:
            fid = self._old_cache.get(line)  # read before the cache was last emptied
            if fid is not None:
                self._remember(line, fid)
                return fid
            # most new lines differ from earlier ones by the address only: the rest
            # ("sym+0xoff (dso)") is parsed once and its symbol and dso ids kept
            text = line.strip()
            sp = text.find(" ")
            ids = None
            if sp > 0 and not text[:sp].strip(_HEX_DIGITS):
                rest = text[sp + 1 :].lstrip()
                ids = self._rest_ids.get(rest)
                if ids is None:
                    fr = _parse_frame(text)
                    if fr is None:
                        return -1
                    ids = self.data.frames.ids(fr[1], fr[2])
                    if len(self._rest_ids) >= _FRAME_CACHE_MAX:
                        self._rest_ids.clear()
                    self._rest_ids[rest] = ids
                fid = self.data.frames.add_ids(int(text[:sp], 16), ids)
            else:
                fr = _parse_frame(line)
                if fr is None:
                    return -1
                fid = self.data.frames.add(*fr)
            self._remember(line, fid)
        return fid

    def _remember(self, line: str, fid: int) -> None:
        """Cache a frame line's id. The cache keeps two generations: when the newer fills,
        it becomes the older one (the oldest is forgotten), so lines still in use
        survive and the memory stays bounded (2 x _FRAME_CACHE_MAX lines)."""
        cache = self._cache
        if len(cache) >= _FRAME_CACHE_MAX:
            self._old_cache = dict(cache)
            cache.clear()  # (the same dict: readers hold its .get)
        cache[line] = fid

    def read_file(self, path: str) -> None:
        # stdin under --perf-data-reader script is text (perf script cannot read a pipe)
        stdin_text = path == "-" and self.perf_data == "script"
        if not stdin_text and classify(path) is InputKind.PERF_DATA:
            if self.perf_data == "script":
                self._read_perf_data(path)
                self._forms.add(None)
            else:
                self._read_native(path)
            self._native_forms()
            return
        self._forms.add(None)
        self._native_forms()
        try:
            with open_text(path) as f:
                self.read_text(f, path)
        except (OSError, EOFError, lzma.LZMAError) as e:
            raise InputError(path, f"cannot read: {e}") from None
        except UnicodeDecodeError as e:  # pragma: no cover - surrogateescape decodes all
            raise InputError(path, f"cannot decode: {e}") from None

    def _native_forms(self) -> None:
        """Frame addresses are all runtime addresses, and callers named as perf names
        them, only when every input so far was a perf.data read natively."""
        native = self._forms == {"raw"}
        self.data.address_form = "raw" if native else None
        self.data.callers_at_return = native

    def read_lines(self, lines: Iterable[str], path: str) -> None:
        """Read one text given as lines (each ending in "\\n" but maybe the last)."""
        start = self._begin(path)
        lineno, last = self._run_lines(lines, path, 0)
        self._end(path, start, lineno, last)

    def read_text(self, f: IO[str], path: str, chunk: int = 1 << 22) -> None:
        """Read one text from a stream, a block (one sample: the text between blank
        lines) at a time. A block that is a header and tab-indented frames - what perf
        prints for callchains - is taken whole: its frame lines are looked up in the
        frame cache by one ``map`` in C, with no Python code per line. Any other block goes
        through the line-by-line reader."""
        start = self._begin(path)
        cache = _StackCache()
        lineno = 0
        last = ""
        for blocks, final in self._text_blocks(f, path, chunk):
            if not final:
                lineno, last = self._read_blocks(blocks, path, lineno, last, cache)
                continue
            for block in blocks:  # the end of the text: the last block, as it is
                lines = block.split("\n")
                last = lines[-1]
                self._run_lines([ln + "\n" for ln in lines[:-1]] + ([last] if last else []),
                                path, lineno)
                lineno += len(lines) - (0 if last else 1)
                last = last or "\n"
        self._end(path, start, lineno, last)

    def _text_blocks(self, f: IO[str], path: str, chunk: int
                     ) -> Iterator[tuple[list[str], bool]]:
        """The text's complete blocks, a chunk at a time (progress told per chunk), and
        last (``True``) what remains at its end."""
        progress = self.progress
        position = _position(f) if progress is not None else None
        chars = 0
        rest = ""
        first = True
        while True:
            data = f.read(chunk)
            if progress is not None:
                chars += len(data)
                progress(position() if position is not None else chars)
            if first and data:  # the first chunk: is it text at all?
                why = not_text(data)
                if why is not None:
                    raise InputError(path, why)
            first = False
            if not data:
                yield ([rest] if rest else []), True
                return
            data = rest + data
            blocks = data.split("\n\n")
            rest = blocks.pop()  # may continue in the next chunk
            yield blocks, False

    # per sample (block) of perf script text: the stack cache's fields are locals here,
    # loaded and stored once a chunk (an attribute access per sample would cost)
    def _read_blocks(self, blocks: list[str], path: str, lineno: int, last: str,
                     cache: _StackCache) -> tuple[int, str]:
        """Read a chunk's complete blocks; returns the line number and last line after."""
        cache_get = self._cache.get
        hcache_get = self._hcache.get
        add_stack = self.data.stacks.add
        stacks = cache.stacks
        stacks_get = stacks.get
        stack_hits, cache_off_until, nsamples = cache.hits, cache.off_until, cache.samples
        for block in blocks:
            # the usual block: "header\n\tframe\n\tframe..." (no side-band records)
            nl = block.find("\n\t")
            if nl > 0 and self._cur is None and self._pending is None and block[0] != "\t" and (
                    block.find("\n", 0, nl) < 0):  # a one-line header
                frames_text = block[nl + 1 :]
                # (hashing a 1 KB text costs: not while the cache is off)
                entry = stacks_get(frames_text) if nsamples >= cache_off_until else None
                if entry is None:
                    frame_lines = frames_text.split("\n")
                    if frames_text.count("\n\t") == len(frame_lines) - 1:
                        found = list(map(cache_get, frame_lines))
                        if None in found:
                            found = [self._frame_id(ln) if fid is None else fid
                                     for ln, fid in zip(frame_lines, found, strict=True)]
                        # a line that is no frame: the line reader counts it (once)
                        if -1 not in found:
                            entry = (add_stack(found), len(frame_lines) + 2)  # type: ignore[arg-type]
                            if nsamples >= cache_off_until:
                                if len(stacks) >= _STACK_CACHE_MAX:
                                    if stack_hits < len(stacks) // 4:  # not repeated
                                        cache_off_until = nsamples + _STACK_CACHE_REST
                                    stacks.clear()
                                    stack_hits = 0
                                else:
                                    stacks[frames_text] = entry
                else:
                    stack_hits += 1
                if entry is not None:
                    head = block[:nl]
                    # the header cache (see _header), inlined: this runs per sample
                    i = head.find(": ")
                    if i > 0:
                        j = head.rfind(" ", 0, i) + 1
                        hit = hcache_get(head[:j] + head[i:])
                        if hit is not None and "." in head[j:i]:
                            try:
                                t = float(head[j:i])
                            except ValueError:
                                hit = None
                            if hit is not None:
                                hit[0].add(entry[0], hit[1], hit[2], t)
                                nsamples += 1
                                lineno += entry[1]
                                continue
                    if "PERF_RECORD_" not in head:
                        cur = self._other(head, lineno + 1, path, None, self._stack)
                        if cur is not None:
                            self._count(cur, entry[0])
                        else:  # _other took the line (junk, a message): the rest as lines
                            self._run_lines([ln + "\n" for ln in frames_text.split("\n")]
                                            + ["\n"], path, lineno + 1)
                            last = "\n"
                        lineno += frames_text.count("\n") + 3
                        continue
            # anything else: line by line, then the blank line that ended the block
            lines = block.split("\n")
            self._run_lines([ln + "\n" for ln in lines] + ["\n"], path, lineno)
            lineno += len(lines) + 1
            last = "\n"
        cache.hits, cache.off_until, cache.samples = stack_hits, cache_off_until, nsamples
        return lineno, last

    def read_file_parallel(self, path: str, cuts: list[int],
                           side_job: Callable[[], object] | None = None) -> None:
        """Read ``path`` in pieces [cuts[i], cuts[i+1]): the first here (after
        ``side_job``), the others in worker processes at the same time; merge theirs into
        ours in file order."""
        try:
            ctx = multiprocessing.get_context("fork")
            pool = ProcessPoolExecutor(max_workers=len(cuts) - 2, mp_context=ctx)
        except (ValueError, OSError):
            self.read_file(path)
            return
        with pool:
            futures = [pool.submit(_read_range, path, cuts[i], cuts[i + 1],
                                   self.bin_width)
                       for i in range(1, len(cuts) - 1)]
            if side_job is not None:
                side_job()
            lines_before = self.data.lines
            try:
                f = _ByteRangeText(path, 0, cuts[1])
                try:
                    self.read_text(f, path)  # type: ignore[arg-type] # only read() is used
                finally:
                    f.close()
            except OSError as e:
                raise InputError(path, f"cannot read: {e}") from None
            offset = self.data.lines - lines_before
            for fut in futures:
                try:
                    part = fut.result()
                except OSError as e:
                    raise InputError(path, f"cannot read: {e}") from None
                self._merge(part, offset)
                offset += part.lines

    def _merge(self, other: ScriptData, line_offset: int) -> None:
        """Add another reader's data (a later piece of the same text) to ours: its
        tables are appended, its ids shifted (frames are not compared: a frame read by
        both gets two ids, which name the same function)."""
        d = self.data
        shared = other.frames is d.frames  # one frame table (jitprof.acquire.live): the same ids
        frame_offset = 0 if shared else d.frames.extend(other.frames)
        stack_offset = d.stacks.extend(other.stacks, frame_offset)
        tmap = array("i", (self._thread(tid, comm) for tid, comm in other.threads))
        d.switches.extend(other.switches)
        for name, oe in other.events.items():
            ev = self._event(name)
            ev.merge_switch(oe)
            ev.s_stack.extend(array("i", [s + stack_offset for s in oe.s_stack])
                              if stack_offset else oe.s_stack)
            ev.s_thread.extend(array("i", map(tmap.__getitem__, oe.s_thread)))
            ev.s_weight.extend(oe.s_weight)
            ev.s_time.extend(oe.s_time)
            ev.has_period = ev.has_period or oe.has_period
        for tid, pid in other.tid_pid.items():
            d.tid_pid.setdefault(tid, pid)
        for path, facts in other.recordings.items():
            d.recordings.setdefault(path, RecordingFacts()).merge(facts)
        d.mmaps.extend(other.mmaps)
        for dso, bid in other.build_ids.items():
            d.build_ids.setdefault(dso, bid)
        d.notes.extend(other.notes)
        d.native_inputs.extend(other.native_inputs)
        d.clocks.update(other.clocks)
        d.lines += other.lines
        d.srclines += other.srclines
        d.unparsed += other.unparsed
        d.warnings += other.warnings
        d.truncated += other.truncated
        d.empty_stacks += other.empty_stacks
        for x in other.diagnostics:
            d.note(x.path, x.lineno + line_offset if x.lineno else 0, x.message)

    def _begin(self, path: str) -> tuple[int, int, int, int]:
        d = self.data
        d.inputs.append(path)
        self._cur = None
        self._pending = None
        self._stack.clear()
        self._blank_at = -1
        return (sum(e.samples for e in d.events.values()), d.unparsed, d.truncated,
                d.empty_stacks)

    def _end(self, path: str, start: tuple[int, int, int, int], lineno: int, last: str
             ) -> None:
        d = self.data
        self._flush_pending()
        d.lines += lineno
        cur = self._cur
        if cur is not None:
            if last and not last.endswith("\n"):
                # the text stops mid-line: the last sample is cut, drop it
                d.truncated += 1
                d.note(path, lineno, "truncated last sample (no end of line), dropped")
                self._stack.clear()
            else:
                self._finish(cur, self._stack)
            self._cur = None
        if lineno == 0:
            raise EmptyInputError(path, "empty input: no perf script text")
        got = sum(e.samples for e in d.events.values()) - start[0]
        unparsed = d.unparsed - start[1]  # this text's junk, not earlier inputs'
        why = unreadable_text(got, unparsed, lineno, d.truncated - start[2],
                              d.recordings[path].header_lines if path in d.recordings else 0,
                              _first_junk(d.diagnostics, path), d.empty_stacks - start[3])
        if why is not None:
            raise InputError(path, *why)

    def _run_lines(self, lines: Iterable[str], path: str, before: int) -> tuple[int, str]:
        """The line-by-line reader: the loop body is the hot path for texts that are not
        blocks of frames (a frame line costs one dict lookup of its raw text, a blank line
        closes the sample; everything else goes to ``_other``). Returns the last line
        number and the last line."""
        d = self.data
        cache_get = self._cache.get
        stack = self._stack
        append = stack.append
        finish = self._finish
        other = self._other
        cur = self._cur
        line = ""
        lineno = before
        for lineno, line in enumerate(lines, before + 1):  # noqa: B007 - used after the loop
            c = line[0]
            if c == "\t":
                fid = cache_get(line[:-1] if line[-1] == "\n" else line)
                if fid is None:
                    fid = self._frame_id(line)
                    if fid < 0:
                        self._flush_pending()
                        d.unparsed += 1
                        d.note(path, lineno, f"not a callchain line: {line.strip()[:60]!r}")
                        continue
                if cur is None:  # a bare header before, or none (-F ip,sym: empty line)
                    cur = self._adopt_pending()
                append(fid)
            elif c == "\n":
                self._blank_at = lineno  # issue 13 (see _other)
                if cur is not None:
                    finish(cur, stack)
                    cur = None
                elif self._pending is not None:
                    self._flush_pending()
            else:
                cur = other(line, lineno, path, cur, stack)
        self._cur = cur
        return lineno, line

    def _finish(self, cur: _Cur, stack: list[int]) -> None:
        """Count the finished sample under its thread and stack and clear ``stack``."""
        if not stack and cur[4]:
            fid = self._frame_id(cur[4])
            if fid >= 0:
                stack.append(fid)
        if not stack:
            self.data.empty_stacks += 1
        key = tuple(stack)
        sid = self._short.get(key)
        if sid is None:
            sid = self.data.stacks.add(key)
            if len(self._short) >= _STACK_CACHE_MAX:
                self._short.clear()
            self._short[key] = sid
        self._count(cur, sid)
        stack.clear()

    def _count(self, cur: _Cur, sid: int) -> None:
        ev = cur[0]
        ev.add(sid, cur[1], cur[2], cur[3])
        if ev.name == SWITCH_EVENT:  # issue 17: its trace fields, per sample
            sw = parse_sched_switch(cur[4])
            if sw is None:  # (printed without the trace field): the header's thread
                ev.add_switch(self.data.threads[cur[1]][0], -1, 0)
            else:
                ev.add_switch(*sw)

    def _other(
        self, line: str, lineno: int, path: str, cur: _Cur | None, stack: list[int]
    ) -> _Cur | None:
        """Every line that is not a tab-indented frame or an empty line; returns the
        sample now being read (None between samples)."""
        d = self.data
        # issue 13: callchain lines indented with blanks, or not at all (is_frame_line)
        if cur is not None and not cur[4] and is_frame_line(line):
            fid = self._frame_id(line)
            if fid >= 0:
                stack.append(fid)
                return cur
        if cur is None and is_frame_line(line) and parse_bare_header_numbers(line) is None:
            if self._pending is not None:  # a bare header ("-F comm,ip,sym") starts them
                cur = self._adopt_pending()
            elif lineno == self._blank_at + 1:  # after an empty header line (-F ip,sym)
                cur = self._implicit("")
            if cur is not None:
                fid = self._frame_id(line)
                if fid >= 0:
                    stack.append(fid)
                return cur
        if self._pending is not None:
            self._flush_pending()
        if not line.strip():  # a blank line with blanks in it
            self._blank_at = lineno
            if cur is not None:
                self._finish(cur, stack)
            return None
        if line[0] == " " and stack and line.startswith("  "):
            d.srclines += 1  # "  file:line" after a frame (-F +srcline)
            return cur
        # a header line: finish any sample without a trailing blank line
        one_line = False
        if cur is not None:
            one_line = not stack and bool(cur[4])
            self._finish(cur, stack)
        if is_header_comment(line):  # perf script --header: the recording's facts
            note_header_comment(d.recordings.setdefault(path, RecordingFacts()), line)
            return None
        if "PERF_RECORD_" in line:
            self._side_band(line, path, lineno)
            return None
        new = self._header(line)
        if new is not None:
            return new
        if (line[0] == " " and parse_frame_text(line) is not None) or is_frame_line(line):
            # -F ip,sym,dso without a callchain: a sample is one frame line; unless frames
            # follow, when " 4605 " was a tid (-F tid): see _flush_pending
            bare = parse_bare_header(line)
            if bare is not None and not bare[0]:  # numbers only: a tid (and a period)?
                self._pending = (line, lineno, path)
                return None
            return self._implicit(line.strip())
        if one_line and line.startswith("  "):
            d.srclines += 1  # "  file:line" after a one-line sample (-G, no -g)
            return None
        low = line.lower()
        if low.startswith(("warning", "error", "failed")) or "warning:" in low:
            d.warnings += 1
            d.note(path, lineno, f"perf message: {line.strip()[:80]}")
        elif parse_bare_header(line) is not None:
            # "-F tid,ip,sym" / "-F comm,ip,sym": a header of a comm and/or tid (and a
            # period) only; it is one if frames follow, else junk (see _adopt_pending)
            self._pending = (line, lineno, path)
        else:
            self._junk(line, lineno, path)
        return None

    def _junk(self, line: str, lineno: int, path: str) -> None:
        self.data.unparsed += 1
        self.data.note(path, lineno, f"not perf script output: {line.strip()[:60]!r}")

    def _flush_pending(self) -> None:
        """The bare header line was not followed by frames: it was a one-frame sample
        (" 4605" from -F ip) or junk."""
        if self._pending is not None:
            line, lineno, path = self._pending
            self._pending = None
            if (line[0] == " " and parse_frame_text(line) is not None) or is_frame_line(line):
                self._finish(self._implicit(line.strip()), [])
            else:
                self._junk(line, lineno, path)

    def _adopt_pending(self) -> _Cur:
        """Frames follow: the line before them (if a bare header) starts their sample."""
        pending = self._pending
        self._pending = None
        bare = parse_bare_header(pending[0]) if pending is not None else None
        if bare is None:
            return self._implicit("")
        comm, tid, period = bare
        ev = self._event("")
        if period is not None:
            ev.has_period = True
        return (ev, self._thread(-1 if tid is None else tid, comm),
                1 if period is None else period, None, "")

    def _header(self, line: str) -> _Cur | None:
        """A sample header -> the sample being read. Headers differ mostly by their time,
        so the parse is cached under the text without the time (found as the token
        before the first ": "); a miss or an odd line takes the full parser."""
        i = line.find(": ")
        key: str | None = None
        t: float | None = None
        if i > 0:
            j = line.rfind(" ", 0, i) + 1
            tok = line[j:i]
            if "." in tok:
                try:
                    t = float(tok)
                except ValueError:
                    t = None
                if t is not None:
                    key = line[:j] + line[i:]
                    hit = self._hcache.get(key)
                    if hit is not None:
                        ev, th, w, rest = hit
                        return (ev, th, w, t, rest)
        h = parse_header(line.rstrip("\n"))
        if h is None:
            return None
        d = self.data
        if h.pid is not None and h.tid is not None:
            d.tid_pid.setdefault(h.tid, h.pid)
        event = self._event(h.event)
        if h.period is not None:
            event.has_period = True
        th = self._thread(h.tid if h.tid is not None else -1, h.comm)
        w = h.period if h.period is not None else 1
        if key is not None and h.time == t and h.event != SWITCH_EVENT:
            # (switch samples are not cached: _count reads each one's trace fields)
            if len(self._hcache) >= _HEADER_CACHE_MAX:  # -G output: every ip differs
                self._hcache.clear()
            self._hcache[key] = (event, th, w, h.rest)
        return (event, th, w, h.time, h.rest)

    def _implicit(self, rest: str) -> _Cur:
        """A sample whose text has no header fields (``-F ip,sym,dso``)."""
        return (self._event(""), self._thread(-1, ""), 1, None, rest)

    def _read_native(self, path: str) -> None:
        """A perf.data (or a perf.data stream on stdin) read by jitprof itself; where it
        holds what only perf can decode, through perf script (``perf_data`` "auto") or
        an error naming it ("native", or perf missing)."""
        import sys

        from jitprof.parse.native import script_data
        from jitprof.parse.perfdata import read_perf_data

        name = "standard input" if path == "-" else path
        if path == "-":
            pd = read_perf_data(name, stream=sys.stdin.buffer, progress=self.progress)
        else:
            pd = read_perf_data(path, progress=self.progress)
        if pd.unsupported:
            why = "; ".join(pd.unsupported)
            if self.perf_data == "native" or path == "-":
                raise InputError(name, f"holds {why}: jitprof cannot read that itself "
                                 "(read it with --perf-data-reader script, which runs perf "
                                 "script)")
            if shutil.which("perf") is None:
                raise InputError(path, f"holds {why}, which only perf script decodes, and "
                                 "perf is not installed (Debian: apt-get install linux-perf)")
            note = f"{path}: holds {why}: read through perf script"
            self._read_perf_data(path)
            self.data.notes.append(note)
            self._forms.add(None)
            return
        pd.chains.forget_keys()  # (a whole file: no chain will be added)
        sd = script_data(pd, path, consume=True)
        del pd
        d = self.data
        if not d.inputs and not d.frames and not d.events and not d.mmaps:
            # the first input: its tables are the data (no copy)
            sd.diagnostics[:0] = d.diagnostics
            self.data = sd
            self._thread_ids = {k: i for i, k in enumerate(sd.threads)}
        else:
            d.inputs.append(path)
            self._merge(sd, 0)
        self._forms.add("raw")

    def _read_perf_data(self, path: str) -> None:
        """A perf.data file: have perf print it (with mmap events) and read that text."""
        with perf_script_text(path, self.perf_script_args) as text:
            self.read_text(text, path)

    def _side_band(self, line: str, path: str, lineno: int) -> None:
        d = self.data
        m = _MMAP_RX.search(line)
        if m is not None:
            pid, tid = int(m.group(1)), int(m.group(2))
            h = _TIME_RX.search(line)
            d.mmaps.append(
                Mmap(
                    pid,
                    tid,
                    int(m.group(3), 16),
                    int(m.group(4), 16),
                    int(m.group(5), 16),
                    m.group(7),
                    m.group(8).strip(),
                    float(h.group(1)) if h else None,
                    m.group(6),
                )
            )
            if pid >= 0 and tid >= 0:
                d.tid_pid.setdefault(tid, pid)
            return
        m = _COMM_RX.search(line)
        if m is not None:
            pid, tid = int(m.group(2)), int(m.group(3))
            if pid >= 0 and tid >= 0:
                d.tid_pid.setdefault(tid, pid)
            return
        m = _FORK_RX.search(line)
        if m is not None:
            pid, tid = int(m.group(1)), int(m.group(2))
            if pid >= 0 and tid >= 0:
                d.tid_pid.setdefault(tid, pid)
            return
        sm = _SWITCH_RX.search(line)
        if sm is not None:  # issue 17: when a thread was switched in or out
            sh = parse_header(line[: sm.start()] + "x:")
            if sh is None or sh.tid is None or sh.time is None:
                d.note(path, lineno, f"switch record without a tid and time: {line.strip()[:60]!r}")
                return
            if sh.pid is not None:
                d.tid_pid.setdefault(sh.tid, sh.pid)
            d.switches.add(sh.time, sh.tid, (SWITCH_OUT if sm.group(1) == "OUT" else 0)
                           | (SWITCH_PREEMPT if sm.group(2) else 0))
            return


PARALLEL_MIN_BYTES = 64 << 20  # a text this big is read by several processes


class _ByteRangeText:
    """A text stream over bytes [start, end) of a file (UTF-8, undecodable bytes kept as
    surrogates), for one process's share of a big input."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._f.seek(start)
        self._left = end - start
        self._dec = codecs.getincrementaldecoder("utf-8")("surrogateescape")

    def read(self, n: int) -> str:
        if self._left <= 0:
            return self._dec.decode(b"", final=True)
        b = self._f.read(min(n, self._left))
        self._left -= len(b)
        return self._dec.decode(b, final=self._left <= 0 or not b)

    def close(self) -> None:
        self._f.close()


def _sample_boundaries(path: str, size: int, parts: int, first_less: int = 0) -> list[int]:
    """Offsets that cut the file into ``parts`` pieces at blank lines (between samples);
    fewer pieces when a cut finds no blank line nearby (a text without them). The first
    piece is ``first_less`` bytes shorter than the others (its reader has other work)."""
    unit = (size + first_less) / parts
    first = max(int(unit) - first_less, 1)
    targets = [first + (size - first) * k // (parts - 1) for k in range(parts - 1)]
    cuts = [0]
    with open(path, "rb") as f:
        for at in targets:
            if at <= cuts[-1]:
                continue
            f.seek(at)
            window = f.read(16 << 20)
            i = window.find(b"\n\n")
            if i < 0:
                continue
            cut = at + i + 2
            if cut < size:
                cuts.append(cut)
    cuts.append(size)
    return cuts


def _read_range(path: str, start: int, end: int,
                bin_width: float | None = None) -> ScriptData:
    """Read one piece of a big text (in a worker process)."""
    reader = ScriptReader(bin_width=bin_width)
    f = _ByteRangeText(path, start, end)
    try:
        reader.read_text(f, path)  # type: ignore[arg-type] # read() is all it needs
    finally:
        f.close()
    return reader.data


def can_fork() -> bool:
    """Worker processes are forked; forking a process that runs other threads (a UI
    loading in the background) can deadlock, so then everything stays in this one."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def _position(f: IO[str]) -> Callable[[], int] | None:
    """Bytes of the file under a text stream read so far (the OS file offset: compressed
    bytes for .gz/.xz/.bz2, which all pass fileno() through); None for a pipe."""
    try:
        fd = f.fileno()
        os.lseek(fd, 0, os.SEEK_CUR)
    except (OSError, AttributeError, ValueError):  # io.UnsupportedOperation: both
        return None
    return lambda: os.lseek(fd, 0, os.SEEK_CUR)


def input_bytes(paths: Iterable[str]) -> int:
    """What ``read_scripts``'s progress counts up to: the inputs' sizes in bytes; 0 when
    unknown (stdin, or a perf.data: its text comes from a pipe)."""
    total = 0
    for p in paths:
        if p == "-" or is_perf_data(p):
            return 0
        try:
            total += os.path.getsize(p)
        except OSError:
            return 0
    return total


def read_scripts(paths: Iterable[str], jobs: int = 1,
                 side_job: Callable[[], object] | None = None, side_job_bytes: int = 0,
                 progress: Callable[[int, int], None] | None = None,
                 bin_width: float | None = None, perf_data: PerfDataReader = "auto",
                 perf_script_args: Sequence[str] = ()) -> ScriptData:
    """Read several perf script texts (samples merge) into one ``ScriptData``. With
    ``jobs`` > 1, a big uncompressed file is cut at blank lines into ``jobs`` pieces read
    by as many processes, and their results merged (the same result as one reader).
    ``side_job`` (e.g. parsing a big map) runs in this process while the workers read;
    this process's piece is then shorter by ``side_job_bytes`` (the job's cost in bytes
    of text). Without a split it runs after the reading. Every sample's time is kept
    (``EventData.s_time``: jitdump naming and time bins read it). ``progress(done,
    total)`` is called per 4 MiB read by this process (bytes; total from ``input_bytes``,
    0 = unknown). ``bin_width`` (seconds): also count samples per time bin
    (``EventData.bins``)."""
    reader = ScriptReader(bin_width=bin_width, perf_data=perf_data,
                          perf_script_args=perf_script_args)
    paths = list(paths)
    total = input_bytes(paths) if progress is not None else 0
    done = 0
    for p in paths:
        if progress is not None:
            reader.progress = lambda n, before=done: progress(before + n, total)
            done += _input_size(p)
        size = _plain_file_size(p)
        if jobs > 1 and size >= PARALLEL_MIN_BYTES and can_fork():
            cuts = _sample_boundaries(p, size, jobs, side_job_bytes if side_job else 0)
            if len(cuts) > 2:
                reader.read_file_parallel(p, cuts, side_job)
                side_job = None
                continue
        reader.read_file(p)
    if side_job is not None:
        side_job()
    return reader.data


def _input_size(path: str) -> int:
    try:
        return 0 if path == "-" else os.path.getsize(path)
    except OSError:
        return 0


def splittable(path: str) -> bool:
    """Whether ``read_scripts`` may read this input with several processes."""
    return _plain_file_size(path) >= PARALLEL_MIN_BYTES


def _plain_file_size(path: str) -> int:
    """Size of an uncompressed regular text file; 0 for anything else."""
    if path == "-" or path.endswith((".gz", ".xz", ".bz2")):
        return 0
    try:
        st = os.stat(path)
    except OSError:
        return 0
    if not stat.S_ISREG(st.st_mode) or is_perf_data(path):
        return 0
    return st.st_size

