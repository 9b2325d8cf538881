"""The one frozen load-options object and the whole pipeline: ``load_profile(inputs,
options)``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from jitprof.errors import InputError
from jitprof.inputs.classify import PerfDataReader, is_perf_data, is_profile_json
from jitprof.inputs.perftool import perf_data_clock
from jitprof.model import (
    Profile,
)
from jitprof.parse import ScriptData
from jitprof.symbols.symbolize import (
    MemMap,
    Symbolizer,
    parse_proc_maps,
    pid_from_proc_maps_name,
    read_kallsyms,
)

if TYPE_CHECKING:
    pass
from jitprof.resolve.build import FileNaming, build_profile
from jitprof.resolve.elfnames import _RecordedBuildIds
from jitprof.resolve.finder import MapFinder, _size

# which file frames are named from ELF symbols: those perf left unnamed, every one, none
ElfPolicy = Literal["auto", "always", "never"]
ELF_POLICIES: tuple[ElfPolicy, ...] = get_args(ElfPolicy)

MAP_BYTE_COST = 4  # parsing a byte of map costs about as much as reading 4 of samples


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Everything that decides what is read and how frames are named, for every command
    that loads a profile (built once by the CLI's shared input options).

    ``maps``/``map_dirs``/``search_tmp``/``jitdumps``: where JIT names come from
    (``MapFinder``); ``event``/``pids``/``comms``: which samples; ``strict``: a bad map
    line fails; ``jobs``: processes that may read one big input at once; ``bin_width``
    (seconds): keep samples per time bin (``Profile.group_bin``; diff's bootstrap);
    ``elf``: how file and kernel frames are named (ELF symbols, kallsyms)."""

    maps: tuple[str, ...] = ()
    map_dirs: tuple[str, ...] = ()
    search_tmp: bool = True
    jitdumps: tuple[str, ...] = ()
    event: str | None = None
    pids: tuple[int, ...] = ()
    comms: tuple[str, ...] = ()
    strict: bool = False
    jobs: int = 1
    bin_width: float | None = None
    elf: ElfOptions | None = None
    perf_data: PerfDataReader = "auto"  # how a perf.data is read


def load_profile(
    inputs: Sequence[str],
    options: LoadOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    **changes: Any,
) -> Profile:
    """The whole pipeline for perf script inputs: read, resolve, aggregate, with
    ``options`` (``LoadOptions``; ``changes``: fields of it to change, e.g. ``jobs=1``).

    Inputs named ``*.json`` are jitprof JSON profiles (jitprof/inputs/profilefile.py), merged
    with the rest; a directory made by ``jitprof record`` (jitprof/inputs/bundle.py) reads as its
    perf.data (or its script text) with its own maps and jitdumps only, never /tmp.
    ``progress(bytes read, total)``: see ``read_scripts`` (the perf script inputs only)."""
    import dataclasses

    from jitprof.inputs.bundle import expand_inputs
    from jitprof.inputs.profilefile import load_profile_inputs
    from jitprof.parse import read_scripts, splittable

    opt = options if options is not None else LoadOptions()
    if changes:
        for key in ("maps", "map_dirs", "jitdumps", "pids", "comms"):
            if key in changes:
                changes[key] = tuple(changes[key])
        opt = dataclasses.replace(opt, **changes)
    if any(is_profile_json(p) for p in inputs):  # (bundles are expanded in the call back)
        unfiltered = dataclasses.replace(opt, pids=(), comms=(), bin_width=None)
        return load_profile_inputs(
            inputs, lambda perf: load_profile(perf, unfiltered, progress), opt.event,
            opt.pids, opt.comms)

    map_dirs: Sequence[str] = opt.map_dirs
    search_tmp = opt.search_tmp
    bundles = expand_inputs(inputs, prefer_data=opt.perf_data == "native")
    if bundles.bundles:
        inputs = bundles.inputs
        map_dirs = [*map_dirs, *bundles.map_dirs]
        search_tmp = False

    elf = opt.elf if opt.elf is not None else ElfOptions()
    finder = MapFinder(maps=list(opt.maps), map_dirs=list(map_dirs), search_tmp=search_tmp,
                       strict=opt.strict, jitdumps=list(opt.jitdumps),
                       perf_jit_names=not bundles.bundles)
    finder.check_explicit()
    proc_maps = elf.read_proc_maps()
    input_dirs = [os.path.dirname(os.path.abspath(p)) for p in inputs if p != "-"]
    big = finder.big_maps() if opt.jobs > 1 else []
    if big and any(splittable(p) for p in inputs):
        # worker processes read most of the samples while this one parses the maps
        cost = MAP_BYTE_COST * sum(_size(p) for p in big)
        data = read_scripts(inputs, jobs=opt.jobs, side_job=lambda: finder.load_all(big),
                            side_job_bytes=cost, progress=progress, perf_data=opt.perf_data,
                            perf_script_args=elf.perf_script_args())
    else:
        if big:
            finder.preload()
        data = read_scripts(inputs, jobs=opt.jobs, progress=progress, perf_data=opt.perf_data,
                            perf_script_args=elf.perf_script_args())
    if finder.has_jitdumps(input_dirs):
        finder.sample_clock = _sample_clock(inputs, data)
    try:
        symbolizer = elf.symbolizer(data) if elf.policy != "never" else None
        files = FileNaming(symbolizer, elf.policy, proc_maps or {}) if (
            symbolizer is not None) else None
        prof = build_profile(data, finder, event=opt.event, pids=opt.pids, comms=opt.comms,
                             bin_width=opt.bin_width, files=files)
    finally:
        finder.close()
    prof.diagnostics.warnings[:0] = bundles.warnings
    prof.diagnostics.recorded_on = [s for s in (f.summary() for f in data.recordings.values())
                                    if s is not None]
    return prof


def _sample_clock(inputs: Sequence[str], data: ScriptData) -> str | None:
    """The samples' clock (jitdump times are CLOCK_MONOTONIC): a natively read perf.data
    says it; perf report --header-only tells for the others; None: unknown."""
    clocks = {data.clocks[p] if p in data.clocks else perf_data_clock(p)
              for p in inputs if p != "-" and is_perf_data(p) or p in data.clocks}
    clocks.discard(None)
    if not clocks:
        return None
    # one clock not monotonic is enough to distrust the times
    return next((c for c in clocks if c != "monotonic"), "monotonic")


@dataclass(frozen=True, slots=True)
class ElfOptions:
    """``report``'s ELF options: ``--symfs``, ``--binary DSO=PATH``, ``--proc-maps``,
    ``--kallsyms``, and the policy (``--elf-symbols auto|always|never``)."""

    symfs: str | None = None
    binaries: Mapping[str, str] = field(default_factory=dict)
    proc_maps: Sequence[str] = ()
    kallsyms: str | None = None  # None: /proc/kallsyms (<symfs>/proc/kallsyms with symfs)
    policy: ElfPolicy = "auto"

    def perf_script_args(self) -> list[str]:
        """The same files for perf script (a perf.data read through it)."""
        out = []
        if self.symfs is not None:
            out += ["--symfs", self.symfs]
        if self.kallsyms is not None:
            out += ["--kallsyms", self.kallsyms]
        return out

    def read_proc_maps(self) -> dict[int | None, list[MemMap]]:
        out: dict[int | None, list[MemMap]] = {}
        for p in self.proc_maps:
            out.setdefault(pid_from_proc_maps_name(p), []).extend(parse_proc_maps(p))
        return out

    def check(self) -> None:
        if self.symfs is not None and not os.path.isdir(self.symfs):
            raise InputError(self.symfs, "--symfs is not a directory")
        for dso, path in self.binaries.items():
            if not os.path.isfile(path):
                raise InputError(path, f"--binary {dso}=: no such file")
        if self.kallsyms is not None:
            if not os.path.isfile(self.kallsyms):
                raise InputError(self.kallsyms, "--kallsyms: no such file (or not a regular file)")
            if read_kallsyms(self.kallsyms) is None:
                raise InputError(self.kallsyms, "--kallsyms: no kernel function symbols in it "
                                 "(not a kallsyms file, or addresses hidden by kptr_restrict)")

    def symbolizer(self, data: ScriptData) -> Symbolizer:
        known = dict(data.build_ids)  # a natively read perf.data's own
        known.update({m.filename: m.build_id for m in data.mmaps if m.build_id})
        build_ids = _RecordedBuildIds(
            known, [p for p in data.inputs if is_perf_data(p) and p not in data.native_inputs])
        kallsyms = self.kallsyms
        if kallsyms is None:  # like perf: under --symfs, the copy of the recording machine's
            kallsyms = os.path.join(self.symfs or "/", "proc/kallsyms")
        return Symbolizer(symfs=self.symfs, binaries=dict(self.binaries), build_ids=build_ids,
                          kallsyms_path=kallsyms, recordings=list(data.recordings.values()),
                          kallsyms_given=self.kallsyms is not None or self.symfs is not None,
                          files_given=self.symfs is not None or bool(self.binaries))

