"""Name addresses inside ELF files and the kernel: find each dso's file (and its debug
file), turn addresses into ELF virtual addresses, look them up, demangle.

Where a dso's file is looked for, in order (perf's search, simplified):
1. ``--binary DSO=PATH`` (DSO is the recorded path or its base name);
2. ``--symfs DIR``: DIR + the recorded path, then DIR + its base name (else the
   recorded path itself);
3. with a recorded build-id, perf's build-id cache: ``~/.debug/.build-id/xx/rest/elf``.
Whether a file found here may name the recording's frames at all is
``jitprof.inputs.recording.file_verdict``: a build-id that differs from the recorded one, or a
recording from another host without build-ids, keeps its frames unnamed unless the user
named the files (``--symfs``, ``--binary``; then a differing build-id is only a warning).
The local kallsyms names kernel frames by ``jitprof.inputs.recording.kernel_verdict``.
When the file has no ``.symtab`` its symbols come from a
separate debug file, checked against the file's build-id (or the debuglink CRC):
``<root>/.build-id/xx/rest.debug`` for each debug root (``/usr/lib/debug``, under
``--symfs`` too), ``~/.debug/.build-id/xx/rest/debug``, then the ``.gnu_debuglink`` name
in the file's directory, its ``.debug/`` and ``/usr/lib/debug/<dir>``. Without one, the
exported ``.dynsym`` names are used (reported as stripped).

Address forms (see ``detect_address_form``): a file offset (``ip - map_start + pgoff``,
what perf 5.16-6.4 prints for callchain frames in files) becomes an ELF virtual address
through the PT_LOAD segment holding it (``off - p_offset + p_vaddr``); a raw runtime
address (older and newer perf, and every sample ip printed on the header line) first
becomes a file offset through the process's mapping of the file (mmap events or a
/proc/<pid>/maps copy). Symbol tables are read only for dsos that are looked up, once.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from jitprof.errors import ElfError, InputError
from jitprof.inputs.recording import (
    HostFacts,
    RecordingFacts,
    Verdict,
    file_verdict,
    kernel_verdict,
)
from jitprof.symbols.demangle import perf_name
from jitprof.symbols.elfsym import (
    ElfInfo,
    SymbolCache,
    SymbolTable,
    debuglink_crc,
    read_elf_info,
    read_symbols,
    with_runtime_plt,
)

DEFAULT_DEBUG_ROOTS = ("/usr/lib/debug",)


@dataclass(frozen=True, slots=True)
class Name:
    """A symbol as perf shows it (``name``) and in full (``full``: demangled with its
    parameters; equal to ``name`` for C names)."""

    name: str
    full: str


@dataclass(frozen=True, slots=True)
class MemMap:
    """One executable mapping of a file in a process."""

    start: int
    end: int
    pgoff: int
    path: str

    def holds(self, addr: int) -> bool:
        return self.start <= addr < self.end

    def holds_offset(self, off: int) -> bool:
        return self.pgoff <= off < self.pgoff + (self.end - self.start)


_PROC_MAPS_RX = re.compile(
    r"^([0-9a-fA-F]+)-([0-9a-fA-F]+)\s+([r-][w-][x-][sp-])\s+([0-9a-fA-F]+)\s+"
    r"[0-9a-fA-F]+:[0-9a-fA-F]+\s+\d+\s*(.*)$"
)


def parse_proc_maps(path: str) -> list[MemMap]:
    """The executable file mappings of a ``/proc/<pid>/maps`` copy. A line that is not
    a maps line is an error naming the file and line."""
    out: list[MemMap] = []
    try:
        f = open(path, encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise InputError(path, f"cannot read --proc-maps file: {e.strerror}") from None
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            m = _PROC_MAPS_RX.match(line.rstrip("\n"))
            if m is None:
                raise InputError(path, "not a /proc/<pid>/maps line: "
                                 f"{line.strip()[:60]!r}", lineno)
            name = m.group(5).strip()
            if m.group(3)[2] != "x" or not name.startswith("/"):
                continue
            if name.endswith(" (deleted)"):
                name = name[: -len(" (deleted)")]
            out.append(MemMap(int(m.group(1), 16), int(m.group(2), 16), int(m.group(4), 16),
                              name))
    return out


def pid_from_proc_maps_name(path: str) -> int | None:
    """``/proc/123/maps`` or ``maps-123`` / ``123.maps`` copies name their process."""
    m = re.search(r"(?:^|/)(?:proc/)?(\d+)/maps$", path) or re.search(
        r"(?:^|/)(?:maps[-_.](\d+)|(\d+)\.maps)$", path)
    if m is None:
        return None
    return int(next(g for g in m.groups() if g))


# -- kernel ---------------------------------------------------------------------------------

class Kallsyms:
    """Kernel function symbols from a kallsyms file (``/proc/kallsyms`` or a copy); a
    zero-size symbol ends at the next one, the last one a page after its start."""

    def __init__(self, path: str, starts: list[int], names: list[str | None],
                 text: int | None = None) -> None:
        self.path = path
        self.starts = starts
        self.names = names
        self.text = text  # the address of _text (where the kernel's text was relocated)

    def __len__(self) -> int:
        return len(self.starts)

    def lookup(self, addr: int) -> str | None:
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return None
        end = self.starts[i + 1] if i + 1 < len(self.starts) else self.starts[i] + 4096
        return self.names[i] if addr < end else None


_KALLSYMS_RX = re.compile(rb"^([0-9a-fA-F]+) [TtWw] (\S+)", re.M)
# linker markers typed T in kallsyms: they mark where sections start or end, no function
# is there (an address past the last real function must not be named "_einittext")
_MARKER_RX = re.compile(
    rb"^(?:_s?text|_etext|_sinittext|_einittext|_end|_edata|__bss_stop|_stext"
    rb"|__(?:start|stop|end)_\w+|__\w+_text_(?:start|end)|__init_(?:begin|end)"
    rb"|_(?:s|e)\w*_text)$")


def is_kallsyms_marker(name: str) -> bool:
    """A section marker (``_etext``, ``_einittext``, ``__irqentry_text_end``...), not a
    function."""
    return _MARKER_RX.match(name.encode("utf-8", "replace")) is not None


def read_kallsyms(path: str) -> Kallsyms | None:
    """None when the file cannot be read or hides addresses (all zero: kptr_restrict).
    Function lines (types T, t, W, w) only; at one address the last name is kept (as
    perf: its kallsyms symbols have no size, so only the last of the names at one
    address gets one, and perf prefers a symbol with a size), a function's before a
    section marker's. A marker names nothing: it ends the function
    before it (its name is kept as ``None`` at its address). One regex pass over the
    whole text (~200k lines of /proc/kallsyms: ~0.1 s)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    cached = _kallsyms_cache(path, data)
    if cached is not None:
        return cached
    ks = _parse_kallsyms(path, data)
    _store_kallsyms(data, ks)
    return ks


KALLSYMS_CACHE_VERSION = 2


def _kallsyms_cache_file(data: bytes) -> str | None:
    """Where the parsed form of this kallsyms text is kept (by its content: a kallsyms
    changes with modules and BPF programs); None without a cache directory."""
    import hashlib

    from jitprof.symbols.elfsym import cache_dir

    d = cache_dir()
    if not d:
        return None
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    return os.path.join(d, "kallsyms", f"v{KALLSYMS_CACHE_VERSION}-{digest}.bin")


def _kallsyms_cache(path: str, data: bytes) -> Kallsyms | None:
    """The parsed kallsyms of this text from the cache (``read_kallsyms`` takes ~0.2 s
    to parse /proc/kallsyms; this ~20 ms)."""
    from array import array

    where = _kallsyms_cache_file(data)
    if where is None:
        return None
    try:
        with open(where, "rb") as f:
            blob = f.read()
        n, text, nbytes = (int(x) for x in blob[:64].split(b"\0", 1)[0].split())
        starts = array("Q")
        starts.frombytes(blob[64 : 64 + 8 * n])
        offs = array("I")
        at = 64 + 8 * n
        offs.frombytes(blob[at : at + 4 * (n + 1)])
        at += 4 * (n + 1)
        names = _BlobNames(blob[at : at + nbytes], offs)
    except (OSError, ValueError, UnicodeError):
        return None
    if len(starts) != n or len(names) != n:
        return None
    return Kallsyms(path, starts, names, text or None)  # type: ignore[arg-type]


class _BlobNames:
    """Kallsyms names as one NUL-separated blob, decoded when looked up ("" stands for
    a section marker: None)."""

    def __init__(self, blob: bytes, offs: Sequence[int]) -> None:
        self._blob = blob
        self._offs = offs  # name i is blob[offs[i]:offs[i + 1]]

    def __len__(self) -> int:
        return len(self._offs) - 1

    def __getitem__(self, i: int) -> str | None:
        raw = self._blob[self._offs[i] : self._offs[i + 1]]
        return raw.decode("utf-8", "replace") if raw else None

    def __iter__(self) -> Iterator[str | None]:
        return (self[i] for i in range(len(self)))


def _store_kallsyms(data: bytes, ks: Kallsyms | None) -> None:
    from array import array

    where = _kallsyms_cache_file(data) if ks is not None else None
    if where is None or ks is None:
        return
    encoded = [(n or "").encode("utf-8", "replace") for n in ks.names]
    offs = array("I", [0])
    for e in encoded:
        offs.append(offs[-1] + len(e))
    names = b"".join(encoded)
    head = f"{len(ks.starts)} {ks.text or 0} {len(names)}".encode().ljust(64, b"\0")
    try:
        os.makedirs(os.path.dirname(where), exist_ok=True)
        tmp = f"{where}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(head + array("Q", ks.starts).tobytes() + offs.tobytes() + names)
        os.replace(tmp, where)
    except OSError:
        pass  # no cache: parsed again next time


def _parse_kallsyms(path: str, data: bytes) -> Kallsyms | None:
    rows: dict[int, str | None] = {}
    text: int | None = None
    for a, n in _KALLSYMS_RX.findall(data):
        addr = int(a, 16)
        if n == b"_text" and addr:
            text = addr
        if not addr:
            continue
        marker = _MARKER_RX.match(n) is not None
        if addr not in rows or not marker:
            rows[addr] = None if marker else n.decode("utf-8", "replace")
    if not any(v is not None for v in rows.values()):
        return None
    starts = sorted(rows)
    while starts and rows[starts[-1]] is None and len(starts) > 1 and (
            rows[starts[-2]] is None):
        starts.pop()  # markers after markers end nothing
    return Kallsyms(path, starts, [rows[a] for a in starts], text)


# -- files ----------------------------------------------------------------------------------

@dataclass(slots=True)
class DsoFile:
    """What was found for one dso."""

    dso: str
    path: str | None = None  # the file read for segments (None: not found)
    info: ElfInfo | None = None
    symbols: SymbolTable | None = None
    symbols_path: str | None = None  # where the symbols came from (a debug file?)
    recorded_build_id: str | None = None
    build_id_mismatch: bool = False
    problem: str | None = None  # why names are missing or may be wrong

    @property
    def stripped(self) -> bool:
        return self.symbols is not None and self.symbols.source != ".symtab"


def _bid_path(root: str, bid: str, suffix: str) -> str:
    return os.path.join(root, ".build-id", bid[:2], bid[2:] + suffix)


@dataclass
class Symbolizer:
    """Names addresses of ELF files and the kernel (see the module docstring).

    ``symbolize(dso, addresses)`` is the one-call API: ELF virtual addresses of a dso in,
    names out."""

    symfs: str | None = None
    binaries: Mapping[str, str] = field(default_factory=dict)
    build_ids: Mapping[str, str] = field(default_factory=dict)  # dso -> recorded build-id
    debug_roots: Sequence[str] = DEFAULT_DEBUG_ROOTS
    build_id_cache: str | None = field(
        default_factory=lambda: os.path.join(os.path.expanduser("~"), ".debug"))
    kallsyms_path: str | None = "/proc/kallsyms"
    cache: SymbolCache | None = None
    # whether local files and kallsyms may name the recording (jitprof.inputs.recording)
    recordings: Sequence[RecordingFacts] = ()
    host: HostFacts | None = None  # None: this host (os.uname, /sys/kernel/notes)
    kallsyms_given: bool = False  # --kallsyms or --symfs: the recording machine's
    files_given: bool = False  # --symfs or --binary: the recording machine's files
    files: dict[str, DsoFile] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _kallsyms: Kallsyms | None = None
    _kallsyms_read: bool = False
    _names: dict[tuple[str, int], Name | None] = field(default_factory=dict)

    # -- finding files --------------------------------------------------------------------
    def _root(self, path: str) -> str:
        if self.symfs:
            return os.path.join(self.symfs, path.lstrip("/"))
        return path

    def _binary_candidates(self, dso: str, bid: str | None) -> list[str]:
        out: list[str] = []
        explicit = self.binaries.get(dso) or self.binaries.get(os.path.basename(dso))
        if explicit:
            return [explicit]
        paths = [dso]
        if dso.endswith(" (deleted)"):  # a file replaced or removed while it ran
            paths.append(dso[: -len(" (deleted)")])
        for p in paths:
            out.append(self._root(p))
            if self.symfs:  # also the base name right under the symfs root
                out.append(os.path.join(self.symfs, os.path.basename(p)))
        if bid and self.build_id_cache:
            out.append(os.path.join(self.build_id_cache, ".build-id", bid[:2], bid[2:], "elf"))
            out.append(_bid_path(self.build_id_cache, bid, ""))
            if dso == VDSO:  # the image perf record copied from the process
                out.append(os.path.join(self.build_id_cache, VDSO, bid, "vdso"))
        if dso == VDSO:  # as perf: this process's own vdso (checked by build-id if known)
            own = own_vdso_file()
            if own is not None:
                out.append(own)
        return out

    def _host(self) -> HostFacts:
        if self.host is None:
            from jitprof.inputs.recording import this_host

            self.host = this_host()
        return self.host

    def kernel_verdict(self, recorded_text: Iterable[int] = ()) -> Verdict:
        """May the local kallsyms name the recording's kernel frames?"""
        recs = list(self.recordings)
        kbid = self.build_ids.get("[kernel.kallsyms]")
        if kbid:
            recs.append(RecordingFacts(kernel_build_id=kbid))
        ks = self.kallsyms() if not self.kallsyms_given else None
        return kernel_verdict(recs, self._host(), kallsyms_given=self.kallsyms_given,
                              recorded_text=set(recorded_text),
                              local_text=ks.text if ks is not None else None)

    def file_verdict(self, recorded_build_id: str | None, local_build_id: str | None
                     ) -> Verdict:
        return file_verdict(self.recordings, self._host(), explicit=self.files_given,
                            recorded_build_id=recorded_build_id, local_build_id=local_build_id)

    def dso_file(self, dso: str) -> DsoFile:
        """Find and read ``dso``'s file once (a missing file is recorded, not raised)."""
        df = self.files.get(dso)
        if df is not None:
            return df
        bid = self.build_ids.get(dso)
        df = self.files[dso] = DsoFile(dso, recorded_build_id=bid)
        mismatched: tuple[str, ElfInfo] | None = None
        errors: list[str] = []
        for cand in self._binary_candidates(dso, bid):
            if not os.path.isfile(cand):
                continue
            try:
                info = read_elf_info(cand)
            except ElfError as e:
                errors.append(str(e))
                continue
            if bid and info.build_id and info.build_id != bid:
                if mismatched is None:
                    mismatched = (cand, info)
                continue
            df.path, df.info = cand, info
            break
        if df.info is None and mismatched is not None:
            if not self.files_given:  # not the recorded file: its names would be wrong
                df.build_id_mismatch = True
                df.problem = (f"build-id of {mismatched[0]} ({mismatched[1].build_id}) is "
                              f"not the recorded one ({bid})")
                self.warnings.append(
                    f"{dso}: {df.problem}: its frames stay [unknown] (give the recorded "
                    "file with --symfs DIR or --binary DSO=PATH)")
                return df
            df.path, df.info = mismatched
            df.build_id_mismatch = True
            self.warnings.append(
                f"{dso}: build-id of {mismatched[0]} ({mismatched[1].build_id}) differs from "
                f"the recorded one ({bid}): its names may be wrong")
        if df.info is not None and not bid:
            verdict = self.file_verdict(None, df.info.build_id)
            if not verdict.trusted:  # a recording from elsewhere, without build-ids
                df.problem = f"not named from {df.path}: {verdict.reason}"
                self.warnings.append(
                    f"{dso}: frames stay [unknown]: {verdict.reason}, and the file here "
                    "may not be the one recorded (give the recording machine's files with "
                    "--symfs DIR or --binary DSO=PATH)")
                df.path = df.info = None
                return df
        if df.info is None:
            df.problem = "file not found" + (f" ({errors[0]})" if errors else "")
            self.warnings.append(
                f"{dso}: no readable ELF file (looked at "
                + ", ".join(self._binary_candidates(dso, bid)) + "): its frames stay [unknown]"
                + ("; use --symfs DIR or --binary DSO=PATH" if not self.binaries else ""))
            return df
        self._load_symbols(df)
        return df

    def _debug_candidates(self, df: DsoFile) -> list[tuple[str, str]]:
        """(path, how) of debug files to try for ``df``."""
        assert df.info is not None and df.path is not None
        out: list[tuple[str, str]] = []
        bid = df.info.build_id or df.recorded_build_id
        roots = [self._root(r) for r in self.debug_roots]
        if self.symfs:
            roots += [r for r in self.debug_roots if r not in roots]
        if bid:
            for r in roots:
                out.append((_bid_path(r, bid, ".debug"), "build-id"))
            if self.build_id_cache:
                out.append((os.path.join(self.build_id_cache, ".build-id", bid[:2], bid[2:],
                                         "debug"), "build-id"))
        link = df.info.debuglink
        if link:
            d = os.path.dirname(df.path)
            out.append((os.path.join(d, link), "debuglink"))
            out.append((os.path.join(d, ".debug", link), "debuglink"))
            dso_dir = os.path.dirname(df.dso)
            for r in roots:
                out.append((os.path.join(r, dso_dir.lstrip("/"), link), "debuglink"))
        seen: set[str] = set()
        return [(p, h) for p, h in out if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]

    def _load_symbols(self, df: DsoFile) -> None:
        assert df.info is not None and df.path is not None
        try:
            table = read_symbols(df.path, cache=self.cache, info=df.info)
        except ElfError as e:
            df.problem = str(e)
            self.warnings.append(f"{df.dso}: {e}")
            return
        df.symbols, df.symbols_path = table, df.path
        if table.source == ".symtab":
            return
        bid = df.info.build_id
        crc_want = df.info.debuglink_crc
        for cand, how in self._debug_candidates(df):
            if cand == df.path or not os.path.isfile(cand):
                continue
            try:
                dinfo = read_elf_info(cand)
            except ElfError:
                continue
            if not dinfo.has_symtab:
                continue
            if bid and dinfo.build_id and dinfo.build_id != bid:
                self.warnings.append(f"{df.dso}: debug file {cand} has build-id "
                                     f"{dinfo.build_id}, not {bid}: not used")
                continue
            if how == "debuglink" and not (bid and dinfo.build_id) and crc_want is not None:
                if debuglink_crc(cand) != crc_want:
                    self.warnings.append(f"{df.dso}: debug file {cand} fails the debuglink "
                                         "CRC check: not used")
                    continue
            try:
                dtable = read_symbols(cand, cache=self.cache, info=dinfo)
            except ElfError:
                continue
            if df.path is not None:  # perf takes the PLT from the file itself
                dtable = with_runtime_plt(dtable, df.path)
            if len(dtable):
                df.symbols, df.symbols_path = dtable, cand
                return
        df.problem = ("stripped: only exported (.dynsym) names" if len(table)
                      else "stripped: no symbols")
        if df.dso == VDSO and len(table):
            return  # the vdso exports every function it has: nothing is missing
        self.warnings.append(f"{df.dso}: {df.path} is {df.problem} (no debug file found by "
                             "build-id or debuglink)")

    # -- naming -----------------------------------------------------------------------------
    def lookup_vaddr(self, dso: str, vaddr: int) -> Name | None:
        key = (dso, vaddr)
        if key in self._names:
            return self._names[key]
        out: Name | None = None
        df = self.dso_file(dso)
        if df.symbols is not None:
            i = df.symbols.lookup(vaddr)
            if i >= 0:
                short, full = perf_name(df.symbols.name(i))
                out = Name(short, full)
        self._names[key] = out
        return out

    def offset_to_vaddr(self, dso: str, offset: int) -> int | None:
        df = self.dso_file(dso)
        if df.info is None:
            return None
        return df.info.offset_to_vaddr(offset)

    def lookup_offset(self, dso: str, offset: int) -> Name | None:
        vaddr = self.offset_to_vaddr(dso, offset)
        return None if vaddr is None else self.lookup_vaddr(dso, vaddr)

    def symbolize(self, dso: str, addresses: Iterable[int], form: str = "vaddr"
                  ) -> list[Name | None]:
        """Names of ``addresses`` in ``dso`` (None where no symbol holds one). ``form``:
        "vaddr" (ELF virtual addresses) or "offset" (file offsets)."""
        look = self.lookup_vaddr if form == "vaddr" else self.lookup_offset
        return [look(dso, a) for a in addresses]

    def kallsyms(self) -> Kallsyms | None:
        if not self._kallsyms_read:
            self._kallsyms_read = True
            if self.kallsyms_path:
                self._kallsyms = read_kallsyms(self.kallsyms_path)
        return self._kallsyms

    def kernel(self, addr: int) -> str | None:
        k = self.kallsyms()
        return None if k is None else k.lookup(addr)


# -- address forms --------------------------------------------------------------------------

OFFSET = "offset"
RAW = "raw"


def evidence(addr: int, maps: Sequence[MemMap], info: ElfInfo | None) -> tuple[bool, bool]:
    """(could be raw, could be a file offset) for an address printed for a file frame."""
    if maps:
        raw = any(m.holds(addr) for m in maps)
        off = any(m.holds_offset(addr) for m in maps)
        return raw, off
    if info is None:
        return False, False
    off = info.offset_to_vaddr(addr) is not None
    raw = info.elf_type == "ET_EXEC" and info.vaddr_to_offset(addr) is not None
    return raw, off


def detect_address_form(votes_raw: int, votes_offset: int, one_frame_stacks: bool) -> str:
    """The form of the file frames of a text whose own evidence is ambiguous: the majority
    of the frames that could only be one form; with no such frame, raw for texts without
    callchains (sample ips are always raw) and file offsets otherwise (perf 5.16-6.4)."""
    if votes_raw or votes_offset:
        return RAW if votes_raw > votes_offset else OFFSET
    return RAW if one_frame_stacks else OFFSET


def to_vaddr(addr: int, form: str, maps: Sequence[MemMap], info: ElfInfo) -> int | None:
    """ELF virtual address of a printed address of form ``form``."""
    if form == OFFSET:
        return info.offset_to_vaddr(addr)
    for m in maps:
        if m.holds(addr):
            return info.offset_to_vaddr(addr - m.start + m.pgoff)
    if info.elf_type == "ET_EXEC" and info.vaddr_to_offset(addr) is not None:
        return addr  # a non-PIE file loads at its link address
    return None


# -- naming the file frames of a recording -----------------------------------------------

@dataclass(slots=True)
class FileFrameNames:
    """Names of file frames (raw frame ids) for leaves (the address) and callers (the
    return address - 1). ``by_pid`` holds the few frames whose name depends on the
    process (a raw address mapped differently in two processes)."""

    leaf: dict[int, Name | None] = field(default_factory=dict)
    call: dict[int, Name | None] = field(default_factory=dict)
    by_pid: dict[int, dict[int, tuple[Name | None, Name | None]]] = field(default_factory=dict)
    form: str = OFFSET  # the form assumed where a frame's own evidence is ambiguous
    votes_raw: int = 0
    votes_offset: int = 0
    frames: int = 0  # distinct (process, frame) pairs looked up
    named: int = 0


VDSO = "[vdso]"


def own_vdso_file() -> str | None:
    """A copy of this process's [vdso] image in the cache directory (what perf names a
    recording's vdso frames from when the recording has no copy: the same kernel's);
    None where it cannot be read."""
    import ctypes
    import hashlib

    from jitprof.symbols.elfsym import cache_dir

    try:
        with open("/proc/self/maps") as f:
            line = next((ln for ln in f if ln.rstrip().endswith(" [vdso]")), None)
    except OSError:
        return None
    if line is None:
        return None
    lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
    try:
        image = ctypes.string_at(lo, hi - lo)
    except (ValueError, OSError):  # pragma: no cover - the vdso is always readable
        return None
    import tempfile

    base = cache_dir() or os.path.join(tempfile.gettempdir(), f"jitprof-{os.getuid()}")
    where = os.path.join(base, "vdso", hashlib.blake2b(image, digest_size=12).hexdigest()
                         + ".so")
    if not os.path.isfile(where):
        try:
            os.makedirs(os.path.dirname(where), exist_ok=True)
            tmp = f"{where}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f2:
                f2.write(image)
            os.replace(tmp, where)
        except OSError:
            return None
    return where


def is_file_dso(dso: str) -> bool:
    """A dso perf tied to a file (JIT memory, /memfd: and the kernel are not), or the
    [vdso] (named from the copy perf record keeps in its build-id cache)."""
    if dso == VDSO:
        return True
    return (dso.startswith("/") and not dso.startswith(("//anon", "/anon_hugepage", "/dev/zero",
                                                        "/SYSV", "/memfd:"))
            and not re.search(r"(?:^|/)perf-\d+\.map$", dso))


def maps_by_pid(mmaps: Iterable[tuple[int, int, int, int, str, str]]
                ) -> dict[int, dict[str, list[MemMap]]]:
    """Executable file mappings per process from (pid, start, length, pgoff, prot, path)."""
    out: dict[int, dict[str, list[MemMap]]] = {}
    for pid, start, length, pgoff, prot, path in mmaps:
        if "x" not in prot or not (path.startswith("/") or path == VDSO):
            continue
        out.setdefault(pid, {}).setdefault(path, []).append(
            MemMap(start, start + length, pgoff, path))
    return out


class FrameLookup(Protocol):
    """Raw frame id -> (address as printed, dso)."""

    def __getitem__(self, fid: int, /) -> tuple[int, str]: ...


def name_file_frames(
    sym: Symbolizer,
    frames: FrameLookup,  # raw frame id -> (address as printed, dso)
    users: Mapping[int, Iterable[int]],  # raw frame id -> pids whose stacks hold it
    maps: Mapping[int, Mapping[str, Sequence[MemMap]]],
    proc_maps: Mapping[int | None, Sequence[MemMap]] = {},  # None: any process
    one_frame_stacks: bool = False,
    form: str | None = None,
    caller_back: int = 1,
) -> FileFrameNames:
    """Decide each file frame's address form (``form``: known for every frame, e.g.
    "raw" for a perf.data read natively), convert, look up (leaf and caller: at the
    return address - ``caller_back``; with 0, perf's rule, and where that names nothing
    at - 1, jitprof's)."""
    out = FileFrameNames()
    any_pid: dict[str, list[MemMap]] = {}
    for per_path in maps.values():
        for path, pms in per_path.items():
            any_pid.setdefault(path, []).extend(pms)
    extra: dict[str, list[MemMap]] = {}
    for m in proc_maps.get(None, ()):
        extra.setdefault(m.path, []).append(m)

    def maps_for(pid: int, dso: str) -> tuple[Sequence[MemMap], bool]:
        """The process's own maps of dso (True), else any process's (False)."""
        own = maps.get(pid, {}).get(dso)
        if own:
            return own, True
        pm = [m for m in proc_maps.get(pid, ()) if m.path == dso] or extra.get(dso, [])
        if pm:
            return pm, True
        return any_pid.get(dso, []), False

    # 1. evidence per (frame, process)
    todo: list[tuple[int, int, str, int, Sequence[MemMap], bool, str | None]] = []
    for fid, pids in users.items():
        addr, dso = frames[fid]
        df = sym.dso_file(dso)
        for pid in pids:
            ms, own = maps_for(pid, dso)
            if form is not None:
                mine: str | None = form
            else:
                raw, off = evidence(addr, ms, df.info)
                mine = RAW if raw and not off else OFFSET if off and not raw else None
            if mine == RAW:
                out.votes_raw += 1
            elif mine == OFFSET:
                out.votes_offset += 1
            todo.append((fid, pid, dso, addr, ms if own else (), own, mine))
    out.form = form or detect_address_form(out.votes_raw, out.votes_offset, one_frame_stacks)

    # 2. names
    per_fid: dict[int, dict[int, tuple[Name | None, Name | None]]] = {}
    for fid, pid, dso, addr, ms, _own, mine in todo:
        df = sym.dso_file(dso)
        fform = mine or out.form
        leaf = call = None
        if df.info is not None:
            v = to_vaddr(addr, fform, ms, df.info)
            leaf = None if v is None else sym.lookup_vaddr(dso, v)
            v = to_vaddr(addr - caller_back, fform, ms, df.info)
            call = None if v is None else sym.lookup_vaddr(dso, v)
            if call is None and caller_back == 0:
                # what perf leaves unnamed at the return address, jitprof names at - 1
                # (as the perf script path does for the frames perf left unnamed)
                v = to_vaddr(addr - 1, fform, ms, df.info)
                call = None if v is None else sym.lookup_vaddr(dso, v)
        out.frames += 1
        out.named += leaf is not None
        per_fid.setdefault(fid, {})[pid] = (leaf, call)
    for fid, by_pid in per_fid.items():
        first = next(iter(by_pid.values()))
        out.leaf[fid], out.call[fid] = first
        if len(set(by_pid.values())) > 1:
            for pid, pair in by_pid.items():
                if pair != first:
                    out.by_pid.setdefault(pid, {})[fid] = pair
    return out
