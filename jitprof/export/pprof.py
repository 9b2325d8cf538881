"""pprof ``profile.proto``, gzipped, for ``go tool pprof``, Pyroscope and Parca.

Built with the ``protobuf`` library from the published schema (``profile.proto``, vendored
from google/pprof; ``profile_pb2`` is generated from it by ``protoc`` from grpcio-tools:
``python -m grpc_tools.protoc -I jitprof/export --python_out=jitprof/export
--pyi_out=jitprof/export jitprof/export/profile.proto``; a test regenerates and compares).

Layout: one Function per jitprof frame; one Mapping per dso, and for JIT code one per
process's perf map, named by the map's path (``[JIT]`` for processes whose JIT frames were
named without one); ELF files first, the one defining ``main`` first of all, then by self
weight (pprof takes mapping[0] as the main binary). One Location per (frame, mapping)
(jitprof keeps no addresses: address 0). One Sample per (stack, thread), leaf first,
labels ``pid`` and ``comm``. Sample types: ``samples/count``, plus ``cpu/nanoseconds``
(cpu-clock, task-clock) or ``EVENT/count`` (other events) when the input had periods; the
default sample type follows ``--weight``. ``period`` is the mean period (perf's period
varies with ``-F``); ``duration_nanos`` is the time span; ``time_nanos`` stays 0: perf
timestamps are not wall-clock time.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import BinaryIO

from jitprof import __version__
from jitprof.export import profile_pb2 as pb
from jitprof.export.base import Exporter, is_clock_event
from jitprof.model import SYNTHETIC_EVENTS, Kind, Profile

JIT_DSO = "[JIT]"


class _Strings:
    def __init__(self) -> None:
        self.table: list[str] = [""]
        self.ids: dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self.ids.get(s)
        if i is None:
            i = self.ids[s] = len(self.table)
            try:
                s.encode("utf-8")
            except UnicodeEncodeError:  # undecodable input bytes: proto strings are UTF-8
                s = s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            self.table.append(s)
        return i


def sample_types(profile: Profile) -> list[tuple[str, str]]:
    """(type, unit) of each Sample.value, in order."""
    types = [("samples", "count")]
    if profile.diagnostics.has_period:
        if is_clock_event(profile.event):  # (pprof's name for the time measured)
            kind = profile.event if profile.event in SYNTHETIC_EVENTS else "cpu"
            types.append((kind, "nanoseconds"))
        else:
            types.append((profile.event.split(":")[0] or "events", "count"))
    return types


def jit_mapping_names(profile: Profile) -> dict[int, str]:
    """pid -> the perf map its JIT frames were named from (processes with several maps, or
    none, are left out: their JIT mapping is ``[JIT]``)."""
    paths: dict[int, set[str]] = {}
    for m in profile.diagnostics.maps:
        if m.pid is not None:
            paths.setdefault(m.pid, set()).add(m.path)
    return {pid: next(iter(p)) for pid, p in paths.items() if len(p) == 1}


class PprofExporter(Exporter):
    name = "pprof"
    extensions = (".pb.gz",)
    binary = True
    description = "pprof profile.proto, gzipped (go tool pprof, Pyroscope, Parca)"

    def message(self, profile: Profile) -> pb.Profile:
        out = pb.Profile()
        s = _Strings()
        types = sample_types(profile)
        for typ, unit in types:
            out.sample_type.add(type=s(typ), unit=s(unit))
        weighted = len(types) > 1 and self.options.by_period(profile)
        out.default_sample_type = s(types[-1][0] if weighted else "samples")
        if len(types) > 1:
            out.period_type.type = s(types[1][0])
            out.period_type.unit = s(types[1][1])
            if profile.samples:
                out.period = round(profile.weight / profile.samples)

        # mappings: one per dso, and for JIT code one per perf map (the map of the sample's
        # process); ELF files first (pprof's mapping[0] is the main binary), heaviest first
        jit_files = jit_mapping_names(profile)
        thread_jit = [jit_files.get(pid, JIT_DSO) for pid, _comm in profile.threads]
        # frame -> mapping name, one table per JIT mapping name (translations in C: map())
        dsos = [f.dso for f in profile.frames]
        mtables = {j: [j if d == JIT_DSO else d for d in dsos] for j in set(thread_jit)}
        use = _mapping_use(profile, thread_jit, mtables)
        mapping_id: dict[str, int] = {}
        for m in _mapping_order(profile, use):
            mapping_id[m] = len(mapping_id) + 1
            out.mapping.add(id=mapping_id[m], filename=s(m), has_functions=True)
        for i, f in enumerate(profile.frames, start=1):
            out.function.add(id=i, name=s(f.name), system_name=s(f.name))
        location_id, ltables = _add_locations(out, mtables, use.used, mapping_id)
        _add_samples(out, s, profile, [ltables[j] for j in thread_jit],
                     len(location_id), len(types))
        if profile.time_first is not None and profile.time_last is not None:
            out.duration_nanos = round((profile.time_last - profile.time_first) * 1e9)
        comments = [f"jitprof {__version__}", f"event: {profile.event}"]
        if profile.inputs:
            comments.append("inputs: " + ", ".join(profile.inputs))
        comments.extend(f"perf map: {m.path} (pid {m.pid})" for m in profile.diagnostics.maps)
        out.comment.extend(s(c) for c in comments)
        out.string_table.extend(s.table)
        return out

    def write(self, profile: Profile, out: BinaryIO) -> None:
        data = self.message(profile).SerializeToString()
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
            gz.write(data)


@dataclass(frozen=True, slots=True)
class _MappingUse:
    """Per JIT mapping name the frames some stack uses (a profile may hold frames it never
    used); per mapping the weight of the stacks through it and of those it is the leaf
    of, and whether it is a JIT mapping."""

    used: dict[str, set[int]]
    weight: dict[str, int]
    self_weight: dict[str, int]
    is_jit: dict[str, bool]


def _mapping_use(profile: Profile, thread_jit: list[str], mtables: dict[str, list[str]]
                 ) -> _MappingUse:
    used: dict[str, set[int]] = {j: set() for j in mtables}
    weight: dict[str, int] = {}
    self_weight: dict[str, int] = {}
    is_jit: dict[str, bool] = {}
    for stack, w, _n, t in profile.iter_stacks():
        j = thread_jit[t]
        used[j].update(stack)
        mt = mtables[j]
        for name in set(map(mt.__getitem__, stack)):
            weight[name] = weight.get(name, 0) + w
            is_jit.setdefault(name, name == j)
        if stack:
            self_weight[mt[stack[0]]] = self_weight.get(mt[stack[0]], 0) + w
    return _MappingUse(used, weight, self_weight, is_jit)


def _mapping_order(profile: Profile, use: _MappingUse) -> list[str]:
    """The mappings in pprof's order: ELF files first, the executable (the file that
    defines main: libc's frames are under every stack too, so total weight cannot tell
    them apart) first of all, then by self weight, weight and name."""
    has_main = {f.dso for f in profile.frames if f.name == "main" and f.kind is Kind.NATIVE}

    def order(m: str) -> tuple[int, int, int, int, str]:
        elf = m.startswith("/") and not use.is_jit[m]
        return (0 if elf else 1, 0 if m in has_main else 1, -use.self_weight.get(m, 0),
                -use.weight[m], m)

    return sorted(use.weight, key=order)


def _add_locations(out: pb.Profile, mtables: dict[str, list[str]], used: dict[str, set[int]],
                   mapping_id: dict[str, int]
                   ) -> tuple[dict[tuple[int, str], int], dict[str, list[int]]]:
    """Add one location per (frame, mapping) that a sample uses to ``out``; returns them
    and per JIT mapping name a table frame -> location id."""
    location_id: dict[tuple[int, str], int] = {}
    ltables: dict[str, list[int]] = {}
    for j in sorted(mtables, key=lambda j: mapping_id.get(j, 0)):
        mt = mtables[j]
        table = ltables[j] = [0] * len(mt)
        for fid in sorted(used[j]):
            key = (fid, mt[fid])
            lid = location_id.get(key)
            if lid is None:
                lid = location_id[key] = len(location_id) + 1
                loc = out.location.add(id=lid, mapping_id=mapping_id[key[1]])
                loc.line.add(function_id=fid + 1)
            table[fid] = lid
    return location_id, ltables


def _add_samples(out: pb.Profile, s: _Strings, profile: Profile, thread_locs: list[list[int]],
                 nlocations: int, nvalues: int) -> None:
    """Add one sample per (stack, thread) to ``out``, leaf first; ``thread_locs``: per
    thread, frame -> location id. An empty stack gets a "[no stack]" location."""
    no_stack = 0
    pid_key, comm_key = s("pid"), s("comm")
    comm_ids = [s(comm) for _pid, comm in profile.threads]
    for stack, w, n, t in profile.iter_stacks():
        sample = out.sample.add()
        if stack:
            sample.location_id.extend(map(thread_locs[t].__getitem__, stack))
        else:  # keep the weight visible, as the other formats do
            if not no_stack:
                fn = len(profile.frames) + 1
                out.function.add(id=fn, name=s("[no stack]"), system_name=s("[no stack]"))
                no_stack = nlocations + 1
                out.location.add(id=no_stack).line.add(function_id=fn)
            sample.location_id.append(no_stack)
        sample.value.extend((n, w)[:nvalues])
        sample.label.add(key=pid_key, num=profile.threads[t][0])
        sample.label.add(key=comm_key, str=comm_ids[t])
