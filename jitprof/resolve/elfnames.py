"""File frames named from ELF symbols and unnamed kernel frames from kallsyms (the
symbolizer's figures and warnings)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jitprof.inputs.perftool import perf_build_ids
from jitprof.model import (
    Kind,
    ProfileBuilder,
)
from jitprof.model.names import (
    runtime_kind,
)
from jitprof.parse import RawFrames, ScriptData
from jitprof.symbols.symbolize import (
    FileFrameNames,
    MemMap,
    Name,
    Symbolizer,
    is_file_dso,
    maps_by_pid,
    name_file_frames,
)

if TYPE_CHECKING:
    pass
from jitprof.resolve.tables import _FrameFacts, _np_of


def _users_of(used_by_pid: dict[int, Any], facts: _FrameFacts, frames: RawFrames,
              policy: str) -> dict[int, list[int]]:
    """File frames to be named from ELF symbols -> the pids whose stacks hold them."""
    import numpy as np

    nraw = len(frames)
    unnamed = np.array([s in ("", "[unknown]") for s in frames.syms], dtype=bool)
    file_dso = np.array([is_file_dso(d) for d in frames.dsos], dtype=bool)
    fsym = _np_of(frames.sym, np.int32)
    fdso = _np_of(frames.dso, np.int32)
    out: dict[int, list[int]] = {}
    for p, fids in used_by_pid.items():
        c = fids[fids < nraw]
        ok = ~facts.jit[c] & ~facts.kernel[c] & file_dso[fdso[c]]
        if policy != "always":
            ok &= unnamed[fsym[c]]
        for f in c[ok].tolist():
            out.setdefault(f, []).append(p)
    return out


@dataclass(frozen=True, slots=True)
class ElfWanted:
    """What file and kernel naming looks at: file frame -> the pids whose stacks hold it
    (``_users_of``), every raw frame the samples use, whether every sample is a single
    frame, and copies of /proc/<pid>/maps (pid None: any process)."""

    users: dict[int, list[int]]
    used: Any
    one_frame: bool
    proc_maps: Mapping[int | None, Sequence[MemMap]]


@dataclass(frozen=True, slots=True)
class ElfNames:
    """The leaf/caller tables (raw frame id -> profile frame) with file frames named from
    ELF symbols and unnamed kernel frames from kallsyms; frames named differently per
    process (pid -> fid -> (leaf, caller)); the file naming's figures; kernel frames perf
    left unnamed, and how many of them kallsyms named."""

    leaf: Any
    call: Any
    by_pid: dict[int, dict[int, tuple[int, int]]]
    files: FileFrameNames
    kernel_frames: int
    kernel_named: int


def _name_elf_frames(b: ProfileBuilder, sym: Symbolizer, data: ScriptData,
                     facts: _FrameFacts, want: ElfWanted, common: Any) -> ElfNames:
    """Name file frames (from ELF symbols) and unnamed kernel frames (from kallsyms) over
    the ``common`` tables (perf's names; not changed). Warnings go to ``sym.warnings``."""
    frames = data.frames
    nraw = len(frames)
    kernel_fids = [fid for fid in want.used.tolist()
                   if fid < nraw and facts.kernel[fid] and frames.sym_of(fid) in _UNNAMED]
    mmaps = maps_by_pid((m.pid, m.start, m.length, m.pgoff, m.prot, m.filename)
                        for m in data.mmaps)
    names = name_file_frames(sym, _AddrDso(frames),
                             {fid: sorted(p) for fid, p in want.users.items()}, mmaps,
                             want.proc_maps, want.one_frame, data.address_form,
                             0 if data.callers_at_return else 1)
    frame = _file_framer(b)
    leaf_t, call_t = common.copy(), common.copy()
    for fid in names.leaf:
        dso = frames.dso_of(fid)
        leaf_t[fid] = frame(names.leaf[fid], dso)
        call_t[fid] = frame(names.call[fid], dso)
    by_pid = {pid: {fid: (frame(lf, frames.dso_of(fid)), frame(cf, frames.dso_of(fid)))
                    for fid, (lf, cf) in per.items()}
              for pid, per in names.by_pid.items()}
    recorded = {m.start for m in data.mmaps if m.filename.startswith("[kernel.kallsyms]")}
    named = _usable_kernel_fids(sym, kernel_fids, recorded)
    kleaf, kcall, knamed = _kernel_names(b, sym, frames, named, data.callers_at_return)
    for fid, pf in kleaf.items():
        leaf_t[fid] = pf
    for fid, pf in kcall.items():
        call_t[fid] = pf
    return ElfNames(leaf_t, call_t, by_pid, names, len(kernel_fids), knamed)


_UNNAMED = ("", "[unknown]")


def _file_framer(b: ProfileBuilder) -> Callable[[Name | None, str], int]:
    """Profile frame of an ELF name (None: unnamed) in a dso, made once per (name, dso)."""
    cache: dict[tuple[Name | None, str], int] = {}

    def frame(n: Name | None, dso: str) -> int:
        key = (n, dso)
        out = cache.get(key)
        if out is None:
            if n is None:
                out = b.frame("[unknown]", Kind.UNKNOWN, dso)
            else:
                kind = runtime_kind(n.name) or Kind.NATIVE
                out = b.frame(n.name, kind, dso, "" if kind is not Kind.NATIVE else None)
                if n.full != n.name:
                    b.full_name(out, n.full)
            cache[key] = out
        return out

    return frame


def _usable_kernel_fids(sym: Symbolizer, kernel_fids: list[int], recorded: set[int]
                        ) -> list[int]:
    """The kernel frames kallsyms may name: none when its kernel is not the recording's
    or it is unreadable (each case a warning in ``sym.warnings``)."""
    verdict = sym.kernel_verdict(recorded) if kernel_fids else None
    if verdict is not None and not verdict.trusted:
        # another machine's or kernel's frames: this kallsyms would name them wrongly
        sym.warnings.append(
            f"{len(kernel_fids):,} kernel frame(s) perf left unnamed stay [unknown]: "
            f"{verdict.reason}; to name them pass the recording machine's kallsyms "
            "(a copy of its /proc/kallsyms taken while it ran that boot) with --kallsyms FILE")
        return []
    ks = sym.kallsyms() if kernel_fids else None
    if ks is not None and ks.text is not None:
        # the recording's kernel map starts at its _text: another boot's or machine's
        # kallsyms (KASLR) would name every frame wrongly
        if recorded and ks.text not in recorded:
            sym.warnings.append(
                f"{ks.path}: its _text ({ks.text:#x}) is not where the recorded kernel was "
                f"({', '.join(hex(a) for a in sorted(recorded))}): kernel names may be wrong "
                "(pass the recording machine's kallsyms with --kallsyms)")
    if kernel_fids and ks is None:
        sym.warnings.append(
            f"{sym.kallsyms_path or 'kallsyms'}: unreadable, or its addresses are hidden "
            "(kptr_restrict): kernel frames perf left unnamed stay [unknown] "
            "(pass a readable copy with --kallsyms)")
        return []
    return kernel_fids


def _kernel_names(b: ProfileBuilder, sym: Symbolizer, frames: RawFrames,
                  kernel_fids: list[int], callers_at_return: bool
                  ) -> tuple[dict[int, int], dict[int, int], int]:
    """Kernel frames named from kallsyms: raw frame id -> profile frame as a leaf and as a
    caller (where named), and how many are named as a leaf."""
    leaf: dict[int, int] = {}
    call: dict[int, int] = {}
    knamed = 0
    kcache: dict[tuple[str, str], int] = {}
    back = 0 if callers_at_return else 1
    for fid in kernel_fids:
        f = frames[fid]
        dso = f.dso if f.dso not in _UNNAMED else "[kernel.kallsyms]"
        for table, addr in ((leaf, f.addr), (call, f.addr - back)):
            kname = sym.kernel(addr)
            if kname is None and back == 0 and table is call:
                kname = sym.kernel(addr - 1)  # (as for file frames)
            if kname is None:
                continue
            key = (kname, dso)
            pf = kcache.get(key)
            if pf is None:
                pf = kcache[key] = b.frame(kname, Kind.KERNEL, dso)
            table[fid] = pf
        knamed += sym.kernel(f.addr) is not None
    return leaf, call, knamed


class _AddrDso:
    """Raw frame id -> (address, dso): what ``name_file_frames`` reads of a frame."""

    def __init__(self, frames: RawFrames) -> None:
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, fid: int) -> tuple[int, str]:
        return self.frames.addr[fid], self.frames.dso_of(fid)


class _RecordedBuildIds(Mapping[str, str]):
    """dso -> recorded build-id: MMAP2 build-ids, then ``perf buildid-list`` of the
    perf.data inputs, run only when a file is first looked up."""

    def __init__(self, known: dict[str, str], perf_data: list[str]) -> None:
        self._ids = known
        self._pending = perf_data

    def _load(self) -> dict[str, str]:
        if self._pending:
            pending, self._pending = self._pending, []
            for p in pending:
                for dso, bid in perf_build_ids(p).items():
                    self._ids.setdefault(dso, bid)
        return self._ids

    def __getitem__(self, dso: str) -> str:
        return self._load()[dso]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())
