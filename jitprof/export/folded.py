"""Folded stacks for flamegraph.pl and inferno: ``root;...;leaf COUNT`` per line.

Conventions followed (FlameGraph ``stackcollapse-perf.pl``, inferno ``collapse/perf.rs``):
a ``;`` inside a name becomes ``:`` (neither tool has an escape: ``;`` always separates
frames); line breaks in names become spaces; with ``annotate``, JIT frames end in
``_[j]`` and kernel frames in ``_[k]``, which flamegraph.pl's and inferno's ``java`` and
``js`` palettes colour (jitprof keeps no inlined frames, so ``_[i]`` never appears). With
``per_thread`` the root frame is ``comm-pid`` (stackcollapse-perf.pl ``--pid``). Lines are
sorted, identical folded stacks (which the renaming can create) summed. A stack without
frames is ``[no stack]``. Counts are weights (periods) or samples, integers.
"""

from __future__ import annotations

from typing import BinaryIO

from jitprof.export.base import JIT_KINDS, Exporter
from jitprof.model import Frame, Kind, Profile


def folded_name(frame: Frame, annotate: bool = False) -> str:
    name = frame.name.replace(";", ":").replace("\r", " ").replace("\n", " ") or "[unknown]"
    if annotate:
        if frame.kind in JIT_KINDS:
            name += "_[j]"
        elif frame.kind is Kind.KERNEL:
            name += "_[k]"
    return name


class FoldedExporter(Exporter):
    name = "folded"
    extensions = (".folded", ".txt", ".folded.txt")
    description = "folded stacks for flamegraph.pl / inferno-flamegraph"

    def lines(self, profile: Profile) -> list[str]:
        by_period = self.options.by_period(profile)
        names = [folded_name(f, self.options.annotate) for f in profile.frames]
        threads = [f"{comm.replace(';', ':').replace(' ', '_')}-{pid}"
                   for pid, comm in profile.threads]
        acc: dict[str, int] = {}
        for stack, w, s, t in profile.iter_stacks():
            parts = [names[f] for f in reversed(stack)] or ["[no stack]"]
            if self.options.per_thread:
                parts.insert(0, threads[t])
            key = ";".join(parts)
            acc[key] = acc.get(key, 0) + (w if by_period else s)
        return [f"{k} {v}" for k, v in sorted(acc.items())]

    def write(self, profile: Profile, out: BinaryIO) -> None:
        for line in self.lines(profile):
            out.write(line.encode("utf-8", "surrogateescape") + b"\n")
