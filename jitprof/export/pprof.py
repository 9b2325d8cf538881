"""pprof ``profile.proto``, gzipped, for ``go tool pprof``, Pyroscope and Parca.

Built with the ``protobuf`` library from the published schema (``profile.proto``, vendored
from google/pprof; ``profile_pb2`` is generated from it by ``protoc`` from grpcio-tools:
``python -m grpc_tools.protoc -I jitprof/export --python_out=jitprof/export
--pyi_out=jitprof/export jitprof/export/profile.proto``; a test regenerates and compares).

Layout: one Function and one Location per jitprof frame (jitprof keeps no addresses, so
locations have address 0); one Mapping per dso, ELF files first, heaviest first (pprof
takes mapping[0] as the main binary); JIT code is one mapping whose filename is the perf
map it was named from (``[JIT]`` when several maps or none were used). One Sample per
(stack, thread), leaf first, labels ``pid`` and ``comm``. Sample types: ``samples/count``,
plus ``cpu/nanoseconds`` (cpu-clock, task-clock) or ``EVENT/count`` (other events) when
the input had periods; the default sample type follows ``--weight``. ``period`` is the
mean period (perf's period varies with ``-F``); ``duration_nanos`` is the time span;
``time_nanos`` stays 0: perf timestamps are not wall-clock time.
"""

from __future__ import annotations

import gzip
from typing import BinaryIO

from jitprof import __version__
from jitprof.export import profile_pb2 as pb
from jitprof.export.base import Exporter, is_clock_event
from jitprof.model import Profile

JIT_DSO = "[JIT]"


class _Strings:
    def __init__(self) -> None:
        self.table: list[str] = [""]
        self.ids: dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self.ids.get(s)
        if i is None:
            i = self.ids[s] = len(self.table)
            self.table.append(s)
        return i


def sample_types(profile: Profile) -> list[tuple[str, str]]:
    """(type, unit) of each Sample.value, in order."""
    types = [("samples", "count")]
    if profile.diagnostics.has_period:
        if is_clock_event(profile.event):
            types.append(("cpu", "nanoseconds"))
        else:
            types.append((profile.event.split(":")[0] or "events", "count"))
    return types


def jit_mapping_name(profile: Profile) -> str:
    paths = list(dict.fromkeys(m.path for m in profile.diagnostics.maps))
    return paths[0] if len(paths) == 1 else JIT_DSO


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

        # mappings: ELF files first, then the rest, each group heaviest first
        dso_weight: dict[str, int] = {}
        for stack, w, _s, _t in profile.iter_stacks():
            for fid in set(stack):
                d = profile.frames[fid].dso
                dso_weight[d] = dso_weight.get(d, 0) + w
        for f in profile.frames:
            dso_weight.setdefault(f.dso, 0)

        def order(d: str) -> tuple[int, int, str]:
            return (0 if d.startswith("/") else 1, -dso_weight[d], d)

        jit_name = jit_mapping_name(profile)
        mapping_id: dict[str, int] = {}
        for d in sorted(dso_weight, key=order):
            mapping_id[d] = len(mapping_id) + 1
            out.mapping.add(id=mapping_id[d], filename=s(jit_name if d == JIT_DSO else d),
                            has_functions=True)
        for i, f in enumerate(profile.frames, start=1):
            out.function.add(id=i, name=s(f.name), system_name=s(f.name))
            loc = out.location.add(id=i, mapping_id=mapping_id[f.dso])
            loc.line.add(function_id=i)
        no_stack = 0
        for stack, w, n, t in profile.iter_stacks():
            sample = out.sample.add()
            if stack:
                sample.location_id.extend(f + 1 for f in stack)
            else:  # keep the weight visible, as the other formats do
                if not no_stack:
                    no_stack = len(profile.frames) + 1
                    out.function.add(id=no_stack, name=s("[no stack]"),
                                     system_name=s("[no stack]"))
                    out.location.add(id=no_stack).line.add(function_id=no_stack)
                sample.location_id.append(no_stack)
            sample.value.extend([n, w][: len(types)])
            pid, comm = profile.threads[t]
            sample.label.add(key=s("pid"), num=pid)
            sample.label.add(key=s("comm"), str=s(comm))
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


