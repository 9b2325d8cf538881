"""ELF files through pyelftools (the only module that imports it): build-id, PT_LOAD
segments, ``.gnu_debuglink`` and function symbols, with an on-disk symbol cache.

Facade policies (what callers can rely on):
- Symbols come from ``.symtab``, else ``.dynsym`` (a file with neither is "stripped":
  ``SymbolTable.source == ""``). Kept: STT_FUNC and STT_GNU_IFUNC symbols with a name,
  defined in an allocated section; and, as perf does, named STT_NOTYPE labels in text
  sections that are not hidden/internal. ARM mapping symbols ($a, $d, $t, $x) are dropped.
- Aliases (several symbols at one address) keep one name, by perf's rule
  (``choose_best_symbol``): a non-zero size first, then non-weak, then global, then fewer
  leading underscores, then the longer name, then the one earlier in the table (perf's
  tree keeps insertion order: glibc's ``pthread_rwlock_rdlock@GLIBC_2.2.5`` beats the
  equally long ``pthread_rwlock_rdlock@@GLIBC_2.34`` listed after it).
- A zero-size symbol extends to the next symbol's start; a zero-size last symbol to the
  end of the page after its start's page (perf's ``symbols__fixup_end``).
- ``lookup(vaddr)``: the symbol with the greatest start <= vaddr whose range holds vaddr
  (else the nearest of the 8 before it that holds it, for nested symbols); a zero-size
  symbol extended over a sized one that holds vaddr (an asm label inside a function,
  node's ``construct_stub_create_deopt_addr``) gives way to it, as perf names such
  addresses; O(log n).
- PLT entries get perf's synthesized ``name@plt`` symbols (from .rela.plt, in .plt.sec or
  after .plt's header entry), added after zero sizes were extended, as perf 6.1 does: a
  slot without a symbol name (an ifunc's IRELATIVE) stays inside the extended ``_init``.
- Names are the raw (mangled) ELF names; demangling is ``jitprof.symbols.demangle``'s job.

Costs: pyelftools only locates sections; the symbol table is decoded in bulk with
``struct.iter_unpack`` (ELF32/ELF64, either byte order) and names are sliced from the
string table: ~0.2 s for the 86k function symbols of ``/usr/bin/node``, against ~3 s for
pyelftools' per-symbol iterator. A decoded table is cached under ``cache_dir()`` (keyed by
build-id and size, or by path for files without a build-id, and checked against the
file's size and mtime); loading a cached table takes milliseconds. A cache entry that
cannot be read is ignored and rewritten; a cache directory that cannot be written is
not an error.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import operator
import os
import struct
import sys
import tempfile
import zlib
from array import array
from dataclasses import dataclass
from itertools import compress
from typing import IO, Any

from elftools.common.exceptions import ELFError as _PyElfError
from elftools.elf.elffile import ELFFile

from jitprof.errors import ElfError

# ELF constants (see elf(5))
STT_NOTYPE = 0
STT_FUNC = 2
STT_GNU_IFUNC = 10
STB_LOCAL = 0
STB_GLOBAL = 1
STB_WEAK = 2
STV_INTERNAL = 1
STV_HIDDEN = 2
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
PF_X = 0x1
NT_GNU_BUILD_ID = 3

CACHE_VERSION = 5  # bump when the decoded table changes meaning
_CACHE_MAGIC = b"JPSYMS\x00\x01"
_ARM_MACHINES = ("EM_ARM", "EM_AARCH64")


@dataclass(frozen=True, slots=True)
class Segment:
    """One PT_LOAD program header (bytes of the file at ``offset`` load at ``vaddr``)."""

    offset: int
    vaddr: int
    filesz: int
    memsz: int
    flags: int

    @property
    def executable(self) -> bool:
        return bool(self.flags & PF_X)


@dataclass(frozen=True, slots=True)
class ElfInfo:
    """What one ELF file says about itself (no symbols)."""

    path: str
    build_id: str | None  # lower-case hex
    elf_type: str  # "ET_EXEC", "ET_DYN", ...
    machine: str
    segments: tuple[Segment, ...]
    debuglink: str | None  # file name from .gnu_debuglink
    debuglink_crc: int | None
    has_symtab: bool
    has_dynsym: bool
    size: int
    mtime_ns: int

    @property
    def stripped(self) -> bool:
        """No .symtab: only exported (.dynsym) names, if any."""
        return not self.has_symtab

    def offset_to_vaddr(self, offset: int) -> int | None:
        """ELF virtual address of a file offset: ``off - p_offset + p_vaddr`` of the
        PT_LOAD holding it, an executable one first (with lld, or -z noseparate-code,
        two segments can share a file page). None if no segment holds it."""
        best: Segment | None = None
        for s in self.segments:
            if s.offset <= offset < s.offset + max(s.filesz, 1):
                if s.executable:
                    return offset - s.offset + s.vaddr
                if best is None:
                    best = s
        return None if best is None else offset - best.offset + best.vaddr

    def vaddr_to_offset(self, vaddr: int) -> int | None:
        for s in self.segments:
            if s.vaddr <= vaddr < s.vaddr + max(s.filesz, 1):
                return vaddr - s.vaddr + s.offset
        return None


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str  # raw ELF name (mangled)
    start: int  # ELF virtual address
    end: int


class SymbolTable:
    """Function symbols of one ELF file, sorted by start; see the module docstring."""

    __slots__ = ("path", "source", "build_id", "_starts", "_ends", "_offs", "_blob", "_names",
                 "_extended")

    def __init__(self, path: str, source: str, build_id: str | None, starts: array,
                 ends: array, offs: array, blob: bytes, extended: bytes = b"") -> None:
        self.path = path
        self.source = source  # ".symtab", ".dynsym" or "" (stripped: no symbols)
        self.build_id = build_id
        self._starts = starts
        self._ends = ends
        self._offs = offs  # name i is the NUL-terminated string at blob[offs[i]:]
        self._blob = blob  # the ELF string table
        # 1 where the symbol had size 0 and was extended to the next one: such a symbol
        # (an asm label inside a function) does not shadow a sized symbol holding it
        self._extended = extended or bytes(len(starts))
        self._names: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._starts)

    @property
    def stripped(self) -> bool:
        return self.source == ""

    def lookup(self, vaddr: int) -> int:
        """Index of the symbol holding ``vaddr``, or -1."""
        starts = self._starts
        i = bisect.bisect_right(starts, vaddr) - 1
        if i < 0:
            return -1
        ends = self._ends
        hit = i if vaddr < ends[i] else -1
        if hit >= 0 and not self._extended[i]:
            return i
        for j in range(i - 1, max(i - 9, -1), -1):  # nested symbols
            if starts[j] <= vaddr < ends[j] and (hit < 0 or not self._extended[j]):
                return j
        return hit

    def name(self, i: int) -> str:
        s = self._names.get(i)
        if s is None:
            o = self._offs[i]
            z = self._blob.find(b"\0", o)
            s = self._blob[o: z if z >= 0 else len(self._blob)].decode("utf-8",
                                                                     "surrogateescape")
            self._names[i] = s
        return s

    def start(self, i: int) -> int:
        return int(self._starts[i])

    def end(self, i: int) -> int:
        return int(self._ends[i])

    def symbol(self, i: int) -> Symbol:
        return Symbol(self.name(i), self.start(i), self.end(i))

    def find(self, vaddr: int) -> Symbol | None:
        i = self.lookup(vaddr)
        return None if i < 0 else self.symbol(i)

    def __iter__(self) -> Any:
        return (self.symbol(i) for i in range(len(self)))


def _empty() -> SymbolTable:
    return SymbolTable("", "", None, array("Q"), array("Q"), array("Q"), b"", b"")


# -- reading ------------------------------------------------------------------------------

def _open(path: str) -> tuple[IO[bytes], ELFFile, os.stat_result]:
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ElfError(path, f"cannot read: {e.strerror}") from None
    try:
        st = os.fstat(f.fileno())
        if f.read(4) != b"\x7fELF":
            raise ElfError(path, "not an ELF file")
        f.seek(0)
        return f, ELFFile(f), st
    except (_PyElfError, struct.error, ValueError) as e:
        f.close()
        raise ElfError(path, f"corrupt ELF file: {e}") from None
    except BaseException:
        f.close()
        raise


def _notes_build_id(data: bytes, little: bool) -> str | None:
    end = "<" if little else ">"
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from(end + "III", data, pos)
        pos += 12
        name = data[pos: pos + namesz]
        pos += (namesz + 3) & ~3
        desc = data[pos: pos + descsz]
        pos += (descsz + 3) & ~3
        if ntype == NT_GNU_BUILD_ID and name.rstrip(b"\0") == b"GNU" and desc:
            return desc.hex()
    return None


def _sections(elf: ELFFile) -> list[tuple[str, Any]]:
    """(name, header) of every section. Headers only: pyelftools' Section objects parse
    some sections eagerly (.gnu.hash costs ~0.2 s in node)."""
    out = []
    for i in range(elf.num_sections()):
        h = elf._get_section_header(i)
        out.append((elf._get_section_name(h), h))
    return out


def _read(f: IO[bytes], header: Any) -> bytes:
    if header["sh_type"] == "SHT_NOBITS":
        return b""
    f.seek(header["sh_offset"])
    return f.read(header["sh_size"])


def _info(path: str, f: IO[bytes], elf: ELFFile, st: os.stat_result,
          sections: list[tuple[str, Any]]) -> ElfInfo:
    little = elf.little_endian
    segments: list[Segment] = []
    build_id: str | None = None
    notes: list[tuple[int, int]] = []
    for i in range(elf.num_segments()):
        seg = elf._get_segment_header(i)
        t = seg["p_type"]
        if t == "PT_LOAD":
            segments.append(Segment(seg["p_offset"], seg["p_vaddr"], seg["p_filesz"],
                                    seg["p_memsz"], seg["p_flags"]))
        elif t == "PT_NOTE":
            notes.append((seg["p_offset"], seg["p_filesz"]))
    debuglink: str | None = None
    crc: int | None = None
    has_symtab = has_dynsym = False
    for name, h in sections:
        t = h["sh_type"]
        if t == "SHT_SYMTAB":
            has_symtab = True
        elif t == "SHT_DYNSYM":
            has_dynsym = True
        elif t == "SHT_NOTE" and build_id is None and h["sh_size"]:
            build_id = _notes_build_id(_read(f, h), little)
        elif name == ".gnu_debuglink":
            data = _read(f, h)
            nul = data.find(b"\0")
            if nul > 0:
                debuglink = os.fsdecode(data[:nul])
                at = (nul + 4) & ~3
                if at + 4 <= len(data):
                    crc = struct.unpack_from("<I" if little else ">I", data, at)[0]
    for off, size in notes:  # files without section headers
        if build_id is not None:
            break
        f.seek(off)
        build_id = _notes_build_id(f.read(size), little)
    return ElfInfo(path, build_id, str(elf["e_type"]), str(elf["e_machine"]),
                   tuple(segments), debuglink, crc, has_symtab, has_dynsym, st.st_size,
                   st.st_mtime_ns)


def read_elf_info(path: str) -> ElfInfo:
    """Build-id, PT_LOAD segments, debuglink and which symbol tables ``path`` has."""
    f, elf, st = _open(path)
    try:
        return _info(path, f, elf, st, _sections(elf))
    except (_PyElfError, struct.error, ValueError) as e:
        raise ElfError(path, f"corrupt ELF file: {e}") from None
    finally:
        f.close()


def _choose_key(size: int, bind: int, name: bytes, index: int
                ) -> tuple[int, int, int, int, int, int]:
    """Sort key: the smallest is the alias perf's choose_best_symbol keeps (a tie goes
    to the symbol earlier in the table, as perf's tree keeps insertion order)."""
    under = len(name) - len(name.lstrip(b"_"))
    return (size == 0, bind == STB_WEAK, bind != STB_GLOBAL, under, -len(name), index)


def _type_table(*types: int) -> bytes:
    """A bytes.translate table: st_info byte -> 1 if its type is one of ``types``."""
    return bytes(1 if (b & 15) in types else 0 for b in range(256))


_FUNC_TYPES = _type_table(STT_FUNC, STT_GNU_IFUNC)
_NOTYPE = _type_table(STT_NOTYPE)


def _column(data: bytes, code: str, swap: bool, start: int, step: int) -> array:
    a = array(code)
    a.frombytes(data)
    if swap:
        a.byteswap()
    return a[start::step]


def _decode_symbols(f: IO[bytes], elf: ELFFile, sections: list[tuple[str, Any]]
                    ) -> tuple[str, SymbolTable]:
    """The function symbols: aliases resolved, zero sizes extended (path not set).

    The table is cut into columns with strided slices (C speed, no per-symbol tuple);
    Python-level work is done only for the symbols kept."""
    pick = None
    source = ""
    for name, kind in ((".symtab", "SHT_SYMTAB"), (".dynsym", "SHT_DYNSYM")):
        pick = next((h for _n, h in sections if h["sh_type"] == kind), None)
        if pick is not None:
            source = name
            break
    if pick is None:
        return "", _empty()
    is64 = elf.elfclass == 64
    entsize = 24 if is64 else 16
    data = _read(f, pick)
    data = data[: len(data) - len(data) % entsize]
    link = pick["sh_link"]
    if not 0 < link < len(sections):
        raise ValueError(f"{source} links to no string table")
    strtab = _read(f, sections[link][1])
    cols = _symbol_columns(data, is64, elf.little_endian != (sys.byteorder == "little"))
    keep, values = _function_symbols(cols, sections, strtab, elf["e_machine"])
    keep.sort(key=values.__getitem__)
    starts = array(values.typecode, map(values.__getitem__, keep))
    keep, starts = _without_aliases(keep, starts, cols, strtab)
    ksizes = array(values.typecode, map(cols.sizes.__getitem__, keep))
    ends, extended = _symbol_ends(starts, ksizes)
    offs = array("Q", map(cols.names.__getitem__, keep))
    starts_q = array("Q", starts)
    plt = _plt_symbols(f, elf, sections)
    if plt:
        starts_q, ends, offs, extended, strtab = _splice_plt(
            plt, starts_q, ends, offs, extended, strtab)
    return source, SymbolTable("", source, None, starts_q, ends, offs, strtab,
                               bytes(extended))


@dataclass(frozen=True, slots=True)
class _SymbolColumns:
    """A symbol table's fields as columns (one entry a symbol): st_name (offset in the
    string table), st_info and st_other (bytes), st_shndx, st_value, st_size."""

    names: array
    info: bytes
    other: bytes
    shndx: array
    values: array
    sizes: array


def _symbol_columns(data: bytes, is64: bool, swap: bool) -> _SymbolColumns:
    if is64:
        return _SymbolColumns(_column(data, "I", swap, 0, 6), data[4::24], data[5::24],
                              _column(data, "H", swap, 3, 12), _column(data, "Q", swap, 1, 3),
                              _column(data, "Q", swap, 2, 3))
    return _SymbolColumns(_column(data, "I", swap, 0, 4), data[12::16], data[13::16],
                          _column(data, "H", swap, 7, 8), _column(data, "I", swap, 1, 4),
                          _column(data, "I", swap, 2, 4))


def _function_symbols(cols: _SymbolColumns, sections: list[tuple[str, Any]], strtab: bytes,
                      machine: str) -> tuple[list[int], array]:
    """The symbols that are functions (FUNC/IFUNC in an allocated section, and visible
    NOTYPE symbols in a text section; no ARM mapping symbols), and the values (a copy
    with thumb functions' bit 0 cleared on ARM)."""
    alloc: set[int] = set()
    text: set[int] = set()
    for i, (name, h) in enumerate(sections):
        if h["sh_flags"] & SHF_ALLOC and h["sh_type"] != "SHT_NULL":
            alloc.add(i)
            if "text" in name:
                text.add(i)
    names, info, other, shndx, values = cols.names, cols.info, cols.other, cols.shndx, cols.values
    n = len(info)
    keep = [i for i in compress(range(n), info.translate(_FUNC_TYPES))
            if names[i] and shndx[i] in alloc]
    if text:
        keep += [i for i in compress(range(n), info.translate(_NOTYPE))
                 if names[i] and shndx[i] in text and (other[i] & 3) not in
                 (STV_INTERNAL, STV_HIDDEN)]
    if machine in _ARM_MACHINES:
        keep = [i for i in keep if not _arm_mapping_symbol(strtab, names[i])]
        if machine == "EM_ARM":  # thumb functions have bit 0 set
            values = array(values.typecode, values)
            for i in keep:
                if values[i] & 1 and (info[i] & 15) == STT_FUNC:
                    values[i] -= 1
    return keep, values


def _without_aliases(keep: list[int], starts: array, cols: _SymbolColumns, strtab: bytes
                     ) -> tuple[list[int], array]:
    """Of several symbols at one start (``keep`` sorted by start), perf's choice."""
    dups = set(compress(range(1, len(starts)), map(operator.eq, starts[1:], starts[:-1])))
    if not dups:
        return keep, starts
    sizes, info, names = cols.sizes, cols.info, cols.names
    dups |= {k - 1 for k in dups}
    groups: dict[int, list[int]] = {}  # start -> positions in keep
    for k in sorted(dups):
        groups.setdefault(starts[k], []).append(k)
    find = strtab.find
    mask = bytearray(b"\x01") * len(keep)
    for g in groups.values():
        for k in g:
            mask[k] = 0
        i = min((keep[k] for k in g), key=lambda i: _choose_key(
            sizes[i], info[i] >> 4, strtab[names[i]: find(b"\0", names[i])], i))
        mask[g[[keep[k] for k in g].index(i)]] = 1
    return list(compress(keep, mask)), array(starts.typecode, compress(starts, mask))


def _symbol_ends(starts: array, sizes: array) -> tuple[array, bytearray]:
    """Each symbol's end, and whether it was extended: zero sizes extend to the next
    symbol (perf's symbols__fixup_end); the last one to the end of the page after its
    own."""
    ends = array("Q", map(operator.add, starts, sizes))
    last = len(starts) - 1
    extended = bytearray(len(starts))
    for k in compress(range(len(starts)), map(operator.not_, sizes)):
        ends[k] = starts[k + 1] if k < last else (starts[k] + 4095) // 4096 * 4096 + 4096
        extended[k] = 1
    return ends, extended


def _splice_plt(plt: list[tuple[int, int, bytes]], starts_q: array, ends: array, offs: array,
                extended: bytearray, strtab: bytes
                ) -> tuple[array, array, array, bytearray, bytes]:
    """The table with perf's synthesized "name@plt" symbols added: after the others had
    their zero sizes extended (so _init still covers .plt slots without a name, as in
    perf 6.1); lookup prefers the entry with the later start."""
    plt.sort()
    p_starts = array("Q", (r[0] for r in plt))
    p_ends = array("Q", (r[0] + r[1] for r in plt))
    p_offs = array("Q")
    blob = bytearray(strtab)
    for _start, _size, pname in plt:
        p_offs.append(len(blob))
        blob += pname + b"\0"
    strtab = bytes(blob)
    # the PLT is one stretch: splice it in where its first entry sorts (C-speed
    # slices); symbols starting inside it (rare) make the whole table sort again
    lo = bisect.bisect_left(starts_q, p_starts[0])
    hi = bisect.bisect_left(starts_q, p_ends[-1])
    p_ext = bytes(len(plt))
    if lo == hi:
        starts_q = starts_q[:lo] + p_starts + starts_q[lo:]
        ends = ends[:lo] + p_ends + ends[lo:]
        offs = offs[:lo] + p_offs + offs[lo:]
        extended = extended[:lo] + p_ext + extended[lo:]
    else:
        rows = sorted(zip(starts_q + p_starts, ends + p_ends, offs + p_offs,
                          bytes(extended) + p_ext, strict=True),
                      key=operator.itemgetter(0))
        starts_q = array("Q", (r[0] for r in rows))
        ends = array("Q", (r[1] for r in rows))
        offs = array("Q", (r[2] for r in rows))
        extended = bytearray(r[3] for r in rows)
    return starts_q, ends, offs, extended, strtab


def with_runtime_plt(table: SymbolTable, runtime_path: str) -> SymbolTable:
    """A debug file's table plus the PLT symbols of the file it describes (a debug file
    has no PLT bytes; perf synthesizes them from the runtime file)."""
    try:
        f, elf, _st = _open(runtime_path)
    except ElfError:
        return table
    try:
        plt = _plt_symbols(f, elf, _sections(elf), nameless=True)
    except (_PyElfError, struct.error, ValueError, IndexError):
        plt = []
    finally:
        f.close()
    if not plt:
        return table
    starts, ends, offs, ext, blob = _splice_plt(
        plt, array("Q", table._starts), array("Q", table._ends), array("Q", table._offs),
        bytearray(table._extended), table._blob)
    return SymbolTable(table.path, table.source, table.build_id, starts, ends, offs, blob,
                       bytes(ext))


def _plt_symbols(f: IO[bytes], elf: ELFFile, sections: list[tuple[str, Any]],
                 nameless: bool = False) -> list[tuple[int, int, bytes]]:
    """(vaddr, size, b"name@plt") for each PLT entry, as perf synthesizes them: the
    relocations of .rela.plt (.rel.plt) in order, one entry each, in .plt.sec when the file
    has one, else in .plt after its header entry. None for debug files (no PLT bytes)."""
    by_name = {name: (i, h) for i, (name, h) in enumerate(sections)}
    rel = by_name.get(".rela.plt") or by_name.get(".rel.plt")
    plt = by_name.get(".plt")
    if rel is None or plt is None or plt[1]["sh_type"] != "SHT_PROGBITS":
        return []
    rh = rel[1]
    if rh["sh_type"] not in ("SHT_RELA", "SHT_REL"):
        return []
    link = rh["sh_link"]
    if not 0 < link < len(sections) or sections[link][1]["sh_type"] != "SHT_DYNSYM":
        return []
    dynsym_h = sections[link][1]
    strlink = dynsym_h["sh_link"]
    if not 0 < strlink < len(sections):
        return []
    dynsym = _read(f, dynsym_h)
    dynstr = _read(f, sections[strlink][1])
    is64 = elf.elfclass == 64
    end = "<" if elf.little_endian else ">"
    rela = rh["sh_type"] == "SHT_RELA"
    fmt = end + (("QQq" if rela else "QQ") if is64 else ("IIi" if rela else "II"))
    data = _read(f, rh)
    data = data[: len(data) - len(data) % struct.calcsize(fmt)]
    symsize = 24 if is64 else 16
    sec = by_name.get(".plt.sec")
    if sec is not None and sec[1]["sh_type"] == "SHT_PROGBITS":
        base, entry, first = sec[1]["sh_addr"], sec[1]["sh_entsize"] or 16, 0
    else:
        base, entry, first = plt[1]["sh_addr"], plt[1]["sh_entsize"] or 16, 1
    out: list[tuple[int, int, bytes]] = []
    for k, rec in enumerate(struct.iter_unpack(fmt, data)):
        sym = rec[1] >> 32 if is64 else rec[1] >> 8
        at = sym * symsize
        if at + 4 > len(dynsym) or (not sym and not nameless):
            continue
        # IRELATIVE (an ifunc's slot) has symbol 0, whose name is "": perf 6.1 makes an
        # "@plt" symbol of it too, but _init (size 0, extended over .plt) overlaps it and
        # which of the two perf's symbol tree finds depends on the tree's shape. What
        # perf printed here: _init in a program's own symbol table, "@plt" where the
        # symbols came from a debug file (libc) and the PLT from the file itself
        (noff,) = struct.unpack_from(end + "I", dynsym, at)
        z = dynstr.find(b"\0", noff)
        name = dynstr[noff: z if z >= 0 else len(dynstr)]
        if name or nameless:
            out.append((base + (k + first) * entry, entry, name + b"@plt"))
    return out


def _arm_mapping_symbol(strtab: bytes, off: int) -> bool:
    """ARM ELF mapping symbols ($a, $d, $t, $x, optionally with a "." suffix)."""
    name = strtab[off: off + 3]
    return (name[:1] == b"$" and name[1:2] in (b"a", b"d", b"t", b"x")
            and name[2:3] in (b"", b".", b"\0"))


def read_symbols_uncached(path: str) -> tuple[ElfInfo, SymbolTable]:
    f, elf, st = _open(path)
    try:
        sections = _sections(elf)
        info = _info(path, f, elf, st, sections)
        source, t = _decode_symbols(f, elf, sections)
    except (_PyElfError, struct.error, ValueError, IndexError) as e:
        raise ElfError(path, f"corrupt ELF file: {e}") from None
    finally:
        f.close()
    t.path = path
    t.build_id = info.build_id
    return info, t


# -- the cache ----------------------------------------------------------------------------

def cache_dir() -> str | None:
    """``$JITPROF_CACHE_DIR`` (empty = no cache), else ``$XDG_CACHE_HOME/jitprof``, else
    ``~/.cache/jitprof``."""
    d = os.environ.get("JITPROF_CACHE_DIR")
    if d is not None:
        return d or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jitprof")


class SymbolCache:
    """Decoded symbol tables on disk, one file per ELF file (see the module docstring)."""

    def __init__(self, directory: str | None) -> None:
        self.directory = os.path.join(directory, "elfsym") if directory else None
        self.hits = 0
        self.misses = 0
        self.rejected = 0  # entries present but unreadable or stale

    def _entry(self, info: ElfInfo) -> str | None:
        if self.directory is None:
            return None
        if info.build_id:
            key = f"b-{info.build_id}-{info.size}"
        else:
            real = os.path.realpath(info.path)
            key = "p-" + hashlib.sha1(os.fsencode(real)).hexdigest()
        return os.path.join(self.directory, key + ".syms")

    def _header(self, info: ElfInfo) -> dict[str, Any]:
        h: dict[str, Any] = {"version": CACHE_VERSION, "build_id": info.build_id,
                             "size": info.size, "byteorder": sys.byteorder}
        if not info.build_id:  # no content id: the file's identity and age stand in
            h["path"] = os.path.realpath(info.path)
            h["mtime_ns"] = info.mtime_ns
        return h

    def load(self, info: ElfInfo) -> SymbolTable | None:
        p = self._entry(info)
        if p is None:
            return None
        try:
            with open(p, "rb") as f:
                blob = f.read()
        except OSError:
            self.misses += 1
            return None
        try:
            t = self._parse(blob, info)
        except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError):
            t = None
        if t is None:
            self.rejected += 1
            self.misses += 1
            return None
        self.hits += 1
        return t

    def _parse(self, blob: bytes, info: ElfInfo) -> SymbolTable | None:
        if not blob.startswith(_CACHE_MAGIC):
            return None
        pos = len(_CACHE_MAGIC)
        (hlen,) = struct.unpack_from("<I", blob, pos)
        pos += 4
        header = json.loads(blob[pos: pos + hlen])
        pos += hlen
        want = self._header(info)
        if any(header.get(k) != v for k, v in want.items()):
            return None
        n = int(header["count"])
        nblob = int(header["names"])
        crc = int(header["crc"])
        need = pos + 8 * n * 3 + n + nblob
        if n < 0 or len(blob) != need or zlib.crc32(blob[pos:]) != crc:
            return None
        starts = array("Q")
        starts.frombytes(blob[pos: pos + 8 * n])
        pos += 8 * n
        ends = array("Q")
        ends.frombytes(blob[pos: pos + 8 * n])
        pos += 8 * n
        offs = array("Q")
        offs.frombytes(blob[pos: pos + 8 * n])
        pos += 8 * n
        extended = blob[pos: pos + n]
        pos += n
        names = blob[pos:]
        if n and max(offs) >= len(names):
            return None
        return SymbolTable(info.path, str(header["source"]), info.build_id, starts, ends,
                           offs, names, extended)

    def store(self, info: ElfInfo, table: SymbolTable) -> None:
        p = self._entry(info)
        if p is None:
            return
        body = (table._starts.tobytes() + table._ends.tobytes() + table._offs.tobytes()
                + table._extended + table._blob)
        header = self._header(info)
        header.update(source=table.source, count=len(table), names=len(table._blob),
                      crc=zlib.crc32(body))
        hb = json.dumps(header, sort_keys=True).encode()
        try:
            os.makedirs(os.path.dirname(p), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(p), suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(_CACHE_MAGIC + struct.pack("<I", len(hb)) + hb + body)
                os.replace(tmp, p)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            pass  # a read-only or full cache directory only costs time


_default_cache: SymbolCache | None = None


def default_cache() -> SymbolCache:
    """The cache in ``cache_dir()`` (read again if the environment changed)."""
    global _default_cache
    d = cache_dir()
    want = os.path.join(d, "elfsym") if d else None
    if _default_cache is None or _default_cache.directory != want:
        _default_cache = SymbolCache(d)
    return _default_cache


def read_symbols(path: str, cache: SymbolCache | None = None,
                 info: ElfInfo | None = None) -> SymbolTable:
    """The function symbols of ``path``, from the cache when it holds them."""
    if cache is None:
        cache = default_cache()
    if info is None:
        info = read_elf_info(path)
    t = cache.load(info)
    if t is not None:
        return t
    _info2, t = read_symbols_uncached(path)
    cache.store(info, t)
    return t


def debuglink_crc(path: str) -> int | None:
    """CRC32 of a whole file, as .gnu_debuglink records it; None if unreadable."""
    crc = 0
    try:
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    return crc
                crc = zlib.crc32(chunk, crc)
    except OSError:
        return None
