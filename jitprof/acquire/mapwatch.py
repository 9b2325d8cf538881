"""Follow a perf map (or jitdump) that a live JIT appends to: read only the new bytes.

``GrowingFile`` holds one descriptor on the file (opened without following symlinks,
``jitprof.acquire.proc.open_in_dir``) and reads what was appended since the last poll. Holding the
descriptor is what keeps the content when the JIT deletes its map at exit (HHVM without
``Eval.KeepPerfPidMap``): the unlinked file stays readable through it.

What a poll notices (and then reads the file again from its first byte):
- truncated: the file is shorter than what was read (``fopen("w")`` again);
- rewritten: the first bytes or the bytes just before the read offset changed (a rewrite
  that grew past the old size before the poll; checked by two small ``pread``s, so a
  rewrite that reproduces both checked stretches byte for byte is not noticed);
- replaced: the path now names another file (deleted and created again). A path that is
  gone is not a replacement: the held descriptor keeps being read.

``LiveMap`` parses only complete new lines into a new ``PerfMap`` segment (a partial last
line waits for its newline); lookups merge the segments with later lines winning. Segments
are merged LSM-style (a segment at least half the size of the one before it is parsed
together with it), so there are O(log n) of them and each byte is parsed O(log n) times.
"""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass

from jitprof.acquire.proc import open_in_dir, same_file
from jitprof.model import Diagnostic
from jitprof.symbols.perfmap import PerfMap, parse_perf_map

_HEAD_CHECK = 4096  # bytes compared at the start of the file on every poll
_TAIL_CHECK = 256  # bytes compared just before the read offset
_READ = 1 << 20


class GrowingFile:
    """Incremental reader of one file in ``directory`` (see the module docstring)."""

    def __init__(self, directory: str, name: str) -> None:
        self.directory = directory
        self.name = name
        self.path = os.path.join(directory, name)
        self.fd = open_in_dir(directory, name)
        self.st = os.fstat(self.fd)
        self.data = bytearray()
        self.resets = 0  # truncations, rewrites and replacements seen

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _reopen(self) -> bool:
        try:
            fd = open_in_dir(self.directory, self.name)
        except OSError:
            return False  # gone again, or unsafe now: keep reading what we hold
        os.close(self.fd)
        self.fd = fd
        self.st = os.fstat(fd)
        return True

    def _changed_under_us(self) -> bool:
        n = len(self.data)
        if n == 0:
            return False
        head = min(n, _HEAD_CHECK)
        if os.pread(self.fd, head, 0) != bytes(self.data[:head]):
            return True
        tail = min(n, _TAIL_CHECK)
        return os.pread(self.fd, tail, n - tail) != bytes(self.data[n - tail :])

    def poll(self) -> tuple[bool, int]:
        """Read what is new. Returns (reset, new bytes): ``reset`` when the content was
        read again from the start (truncated, rewritten or replaced)."""
        reset = False
        if not same_file(self.path, self.st) and os.path.lexists(self.path) and self._reopen():
            reset = True
        st = os.fstat(self.fd)
        self.st = st
        if not reset and (st.st_size < len(self.data) or self._changed_under_us()):
            reset = True
        if reset:
            self.resets += 1
            self.data.clear()
        before = len(self.data)
        while True:
            chunk = os.pread(self.fd, _READ, len(self.data))
            if not chunk:
                break
            self.data += chunk
        return reset, len(self.data) - before

    def deleted(self) -> bool:
        """The file was unlinked (by the JIT at exit): only our descriptor holds it."""
        return os.fstat(self.fd).st_nlink == 0


@dataclass(slots=True)
class _Segment:
    start: int  # byte offset of its first line in the file
    end: int  # byte offset after its last newline
    first_line: int  # line number of its first line (1-based)
    pm: PerfMap


class LiveMap:
    """A growing perf map kept parsed: ``refresh()`` reads and parses only new complete
    lines; ``maps()`` are the parsed segments, in file order (later wins)."""

    def __init__(self, directory: str, name: str, strict: bool = False,
                 display_path: str | None = None) -> None:
        self.file = GrowingFile(directory, name)
        self.path = display_path or self.file.path
        self.strict = strict
        self.segments: list[_Segment] = []

    def close(self) -> None:
        self.file.close()

    @property
    def parsed_bytes(self) -> int:
        return self.segments[-1].end if self.segments else 0

    def _parse(self, start: int, end: int, first_line: int) -> _Segment:
        pm = parse_perf_map(bytes(self.file.data[start:end]), self.path, strict=self.strict)
        if first_line > 1:
            shift = first_line - 1
            pm.linenos = array("L", (x + shift for x in pm.linenos))
            pm.diagnostics = [Diagnostic(d.path, d.lineno + shift if d.lineno else 0, d.message)
                              for d in pm.diagnostics]
        pm.mtime = self.file.st.st_mtime
        return _Segment(start, end, first_line, pm)

    def refresh(self) -> int:
        """Read appended bytes; parse the new complete lines. Returns new lines parsed."""
        reset, _ = self.file.poll()
        if reset:
            self.segments.clear()
        data = self.file.data
        start = self.parsed_bytes
        end = data.rfind(b"\n", start) + 1
        if end <= start:
            for s in self.segments:
                s.pm.mtime = self.file.st.st_mtime
            return 0
        first_line = self.segments[-1].first_line + self.segments[-1].pm.lines if (
            self.segments) else 1
        seg = self._parse(start, end, first_line)
        self.segments.append(seg)
        while len(self.segments) >= 2 and (
                2 * (self.segments[-1].end - self.segments[-1].start)
                >= self.segments[-2].end - self.segments[-2].start):
            b = self.segments.pop()
            a = self.segments.pop()
            self.segments.append(self._parse(a.start, b.end, a.first_line))
        for s in self.segments:
            s.pm.mtime = self.file.st.st_mtime
        return seg.pm.lines

    def maps(self) -> list[PerfMap]:
        return [s.pm for s in self.segments]

    @property
    def lines(self) -> int:
        return sum(s.pm.lines for s in self.segments)
