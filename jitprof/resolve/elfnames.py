"""File frames named from ELF symbols and unnamed kernel frames from kallsyms (the
symbolizer's figures and warnings)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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
from jitprof.resolve.tables import _np_of


def _users_of(flat: Any, ends: Any, stack: Any, pid: Any, used_by_pid: dict[int, Any],
              raw_jit: Any, is_kernel: Any, frames: RawFrames, policy: str
              ) -> dict[int, list[int]]:
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
        ok = ~raw_jit[c] & ~is_kernel[c] & file_dso[fdso[c]]
        if policy != "always":
            ok &= unnamed[fsym[c]]
        for f in c[ok].tolist():
            out.setdefault(f, []).append(p)
    del flat, ends, stack, pid
    return out


def _name_elf_frames(
    b: ProfileBuilder,
    sym: Symbolizer,
    policy: str,
    data: ScriptData,
    users: dict[int, list[int]],
    one_frame: bool,
    used: Any,
    raw_jit: Any,
    is_kernel: Any,
    proc_maps: Mapping[int | None, Sequence[MemMap]],
    leaf_t: Any,
    call_t: Any,
    by_pid: dict[int, dict[int, tuple[int, int]]],
) -> tuple[FileFrameNames, int, int]:
    """Fill the leaf/caller tables for file frames (from ELF symbols; ``users``: file
    frame -> the pids whose stacks hold it) and unnamed kernel frames (from kallsyms);
    frames named differently per process go to ``by_pid``. Returns the file naming's
    figures and (kernel frames, named)."""
    frames = data.frames
    unnamed = ("", "[unknown]")
    nraw = len(frames)
    kernel_fids = [fid for fid in used.tolist()
                   if fid < nraw and is_kernel[fid] and frames.sym_of(fid) in unnamed]
    mmaps = maps_by_pid((m.pid, m.start, m.length, m.pgoff, m.prot, m.filename)
                        for m in data.mmaps)
    names = name_file_frames(sym, _AddrDso(frames), {fid: sorted(p) for fid, p in users.items()},
                             mmaps, proc_maps, one_frame, data.address_form,
                             0 if data.callers_at_return else 1)
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

    for fid in names.leaf:
        dso = frames.dso_of(fid)
        leaf_t[fid] = frame(names.leaf[fid], dso)
        call_t[fid] = frame(names.call[fid], dso)
    for pid, per in names.by_pid.items():
        by_pid[pid] = {fid: (frame(lf, frames.dso_of(fid)), frame(cf, frames.dso_of(fid)))
                       for fid, (lf, cf) in per.items()}
    knamed = 0
    kernel_total = len(kernel_fids)  # unnamed by perf (named here or not)
    recorded = {m.start for m in data.mmaps if m.filename.startswith("[kernel.kallsyms]")}
    verdict = sym.kernel_verdict(recorded) if kernel_fids else None
    if verdict is not None and not verdict.trusted:
        # another machine's or kernel's frames: this kallsyms would name them wrongly
        sym.warnings.append(
            f"{len(kernel_fids):,} kernel frame(s) perf left unnamed stay [unknown]: "
            f"{verdict.reason}; to name them pass the recording machine's kallsyms "
            "(a copy of its /proc/kallsyms taken while it ran that boot) with --kallsyms FILE")
        kernel_fids = []
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
    if kernel_fids and ks is not None:
        kcache: dict[tuple[str, str], int] = {}
        for fid in kernel_fids:
            f = frames[fid]
            dso = f.dso if f.dso not in unnamed else "[kernel.kallsyms]"
            back = 0 if data.callers_at_return else 1
            for table, addr in ((leaf_t, f.addr), (call_t, f.addr - back)):
                kname = sym.kernel(addr)
                if kname is None and back == 0 and table is call_t:
                    kname = sym.kernel(addr - 1)  # (as for file frames)
                if kname is None:
                    continue
                key = (kname, dso)
                pf = kcache.get(key)
                if pf is None:
                    pf = kcache[key] = b.frame(kname, Kind.KERNEL, dso)
                table[fid] = pf
            knamed += sym.kernel(f.addr) is not None
    return names, kernel_total, knamed


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
