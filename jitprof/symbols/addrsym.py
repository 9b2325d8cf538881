"""Name single addresses the way perf names frames (``jitprof symbolize``): JIT code from a
jitdump or perf map, file-backed code from the ELF symbols of the mapped file and the
kernel from kallsyms (both through ``jitprof.symbols.symbolize.Symbolizer``).

Policy (``Symbolizer.symbolize``), per address:
1. Kernel half (>= 0xffff800000000000): ``/proc/kallsyms`` when readable, else ``??``.
2. With a process's mappings (``/proc/PID/maps``): an address in a file-backed mapping is
   named from that file's ELF symbols (file offset -> ELF vaddr through its PT_LOAD
   segments; names shortened like perf's: no parameter list); a perf map or jitdump is
   consulted only for anonymous memory, as perf does (node's ``Builtin:`` map lines that
   point into /usr/bin/node are never used).
3. Anonymous memory, or no mappings at all: the jitdump first (the load written last, or
   the one at ``time`` when given), then the perf map (the later line wins).
Output offsets are from the symbol's start. Cost: a map or dump is read once; ELF
symbols are found and read (debug files, build-id cache: ``jitprof.symbols.symbolize``) only for
files that addresses hit.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jitprof.errors import InputError
from jitprof.model.names import KERNEL_MIN_ADDR
from jitprof.symbols.jitdump import JitDump, JitTimeline
from jitprof.symbols.perfmap import PerfMap

if TYPE_CHECKING:
    from jitprof.symbols.symbolize import Symbolizer as ElfSymbolizer

_MAPS_RX = re.compile(
    rb"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ \d+ *(.*)$"
)
ANON_NAMES = ("", "[heap]", "[stack]", "//anon")


@dataclass(frozen=True, slots=True)
class Mapping:
    """One line of /proc/PID/maps."""

    start: int
    end: int
    perms: str
    offset: int
    path: str

    @property
    def anonymous(self) -> bool:
        p = self.path
        return p in ANON_NAMES or p.startswith(("[anon:", "/anon_hugepage", "/dev/zero",
                                                "/memfd:", "[stack"))

    @property
    def file_backed(self) -> bool:
        return self.path.startswith("/") and not self.anonymous and not self.path.endswith(
            " (deleted)")


def read_mappings(data: bytes) -> list[Mapping]:
    """Every mapping of a /proc/PID/maps text (anonymous ones too: they decide where a
    perf map applies)."""
    out = []
    for line in data.splitlines():
        m = _MAPS_RX.match(line)
        if m:
            out.append(Mapping(int(m.group(1), 16), int(m.group(2), 16),
                               m.group(3).decode(), int(m.group(4), 16),
                               m.group(5).decode("utf-8", "surrogateescape")))
    return out


@dataclass(frozen=True, slots=True)
class Symbolized:
    """One named address: ``name`` None means unknown (printed ``??``)."""

    addr: int
    name: str | None
    offset: int
    dso: str
    source: str | None = None  # "file:line" from jitdump DEBUG_INFO

    def text(self, srcline: bool = False) -> str:
        name = "??" if self.name is None else f"{self.name}+{self.offset:#x}"
        dso = self.dso if self.dso.startswith("[") and self.dso.endswith("]") else (
            f"[{self.dso}]")
        out = f"{self.addr:#x} {name} {dso}"
        if srcline and self.source:
            out += f" at {self.source}"
        return out

    def as_dict(self) -> dict[str, object]:
        return {"addr": f"{self.addr:#x}", "name": self.name,
                "offset": self.offset if self.name is not None else None,
                "dso": self.dso, "source": self.source}


@dataclass(slots=True)
class AddressNamer:
    """Names addresses of one process (or of a map/jitdump without a process)."""

    perf_map: PerfMap | None = None
    dump: JitDump | None = None
    mappings: list[Mapping] = field(default_factory=list)
    binaries: dict[str, str] = field(default_factory=dict)  # mapped path -> file to read
    time_ns: int | None = None  # name jitdump code as of this time (CLOCK_MONOTONIC ns)
    root: str = ""  # /proc/PID/root: mapped paths as the process sees them
    _timeline: JitTimeline | None = None
    _elf: ElfSymbolizer | None = None
    _map_starts: list[int] = field(default_factory=list)

    def symbolize(self, addr: int) -> Symbolized:
        if addr >= KERNEL_MIN_ADDR:
            return self._kernel(addr)
        m = self._mapping(addr)
        if m is not None and m.file_backed:
            return self._file(addr, m)
        jit = self._jit(addr)
        if jit is not None:
            return jit
        dso = (m.path or "[anon]") if m is not None else "[unknown]"
        return Symbolized(addr, None, 0, dso)

    def symbolize_all(self, addrs: list[int]) -> list[Symbolized]:
        return [self.symbolize(a) for a in addrs]

    # -- JIT code ------------------------------------------------------------------------
    def _jit(self, addr: int) -> Symbolized | None:
        if self.dump is not None:
            if self._timeline is None:
                self._timeline = self.dump.timeline()
            c = (self._timeline.latest(addr) if self.time_ns is None
                 else self._timeline.at(addr, self.time_ns))
            if c is not None:
                line = c.source_line(addr)
                src = f"{line.file}:{line.line}" if line is not None else None
                return Symbolized(addr, c.name, addr - c.start, self.dump.path, src)
        if self.perf_map is not None:
            e = self.perf_map.lookup_all([addr]).get(addr)
            if e is not None:
                return Symbolized(addr, e.name, addr - e.start, self.perf_map.path)
        return None

    # -- files -----------------------------------------------------------------------------
    def _mapping(self, addr: int) -> Mapping | None:
        if not self.mappings:
            return None
        if not self._map_starts:
            self.mappings.sort(key=lambda m: m.start)
            self._map_starts = [m.start for m in self.mappings]
        i = bisect_right(self._map_starts, addr) - 1
        if i >= 0 and addr < self.mappings[i].end:
            return self.mappings[i]
        return None

    def _symbolizer(self) -> ElfSymbolizer:
        if self._elf is None:
            from jitprof.symbols.symbolize import Symbolizer as ElfSymbolizer

            self._elf = ElfSymbolizer(symfs=self.root or None, binaries=dict(self.binaries))
        return self._elf

    def _file(self, addr: int, m: Mapping) -> Symbolized:
        df = self._symbolizer().dso_file(m.path)
        vaddr = df.info.offset_to_vaddr(addr - m.start + m.offset) if df.info else None
        table = df.symbols
        i = table.lookup(vaddr) if table is not None and vaddr is not None else -1
        if table is None or vaddr is None or i < 0:
            return Symbolized(addr, None, 0, m.path)
        from jitprof.symbols.demangle import perf_name

        return Symbolized(addr, perf_name(table.name(i))[0], vaddr - table.start(i), m.path)

    # -- kernel ----------------------------------------------------------------------------
    def _kernel(self, addr: int) -> Symbolized:
        k = self._symbolizer().kallsyms()
        i = bisect_right(k.starts, addr) - 1 if k is not None else -1
        name = k.lookup(addr) if k is not None else None
        if k is None or i < 0 or name is None or not k.starts[i]:
            return Symbolized(addr, None, 0, "[kernel.kallsyms]")
        return Symbolized(addr, name, addr - k.starts[i], "[kernel.kallsyms]")


def parse_address(text: str, where: str, lineno: int = 0) -> int:
    """A hex address, with or without 0x (addr2line's form)."""
    t = text.strip()
    try:
        if t.lower().startswith("0x"):
            t = t[2:]
        if not t or not all(c in "0123456789abcdefABCDEF" for c in t):
            raise ValueError
        return int(t, 16)
    except ValueError:
        raise InputError(where, f"not a hex address: {text.strip()[:40]!r}", lineno) from None


def for_pid(pid: int, perf_map: str | None = None, jitdump: str | None = None,
            binaries: dict[str, str] | None = None) -> AddressNamer:
    """A symbolizer for a live process: its /proc/PID/maps, its perf map (given, or
    /tmp/perf-PID.map) and jitdump (given, or the jit-PID.dump it has mapped, else in its
    working directory or /tmp)."""
    from jitprof.symbols.jitdump import load_jitdump
    from jitprof.symbols.perfmap import load_perf_map

    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            mappings = read_mappings(f.read())
    except OSError as e:
        raise InputError(f"/proc/{pid}/maps", f"cannot read: {e.strerror} (is process {pid} "
                         "running, and yours?)") from None
    if perf_map is None and os.path.isfile(f"/tmp/perf-{pid}.map"):
        perf_map = f"/tmp/perf-{pid}.map"
    if jitdump is None:
        name = f"jit-{pid}.dump"
        mapped = [m.path for m in mappings if os.path.basename(m.path) == name]
        cwd = _readlink(f"/proc/{pid}/cwd")
        for p in [*mapped, *([os.path.join(cwd, name)] if cwd else []), f"/tmp/{name}"]:
            if os.path.isfile(p):
                jitdump = p
                break
    return AddressNamer(
        perf_map=load_perf_map(perf_map) if perf_map else None,
        dump=load_jitdump(jitdump) if jitdump else None,
        mappings=mappings, binaries=dict(binaries or {}), root=f"/proc/{pid}/root",
    )


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None
