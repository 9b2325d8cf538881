"""Merge and filter finished Profiles (pprof-style: a frame is its name, kind and dso)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from jitprof.errors import EmptyInputError, InputError
from jitprof.model import Profile, ProfileBuilder, ProfileDiagnostics


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def merge_profiles(profiles: Sequence[Profile], where: str = "inputs") -> Profile:
    """One profile holding the samples of all: equal frames (name, kind, dso) become one,
    equal threads (pid, comm) one, equal stacks on one thread add their weights and samples.
    Profiles of different events, or with periods and without, do not merge (their
    weights are not the same unit): InputError naming ``where``. One profile comes back
    unchanged."""
    if not profiles:
        raise EmptyInputError(where, "no profiles to merge")
    if len(profiles) == 1:
        return profiles[0]
    first = profiles[0]
    for p in profiles[1:]:
        if p.event != first.event:
            raise InputError(where, f"cannot merge profiles of event {first.event!r} and "
                                    f"{p.event!r}")
        if p.diagnostics.has_period != first.diagnostics.has_period:
            raise InputError(where, "cannot merge a profile weighted by period with one "
                                    "weighted 1 per sample")
    b = ProfileBuilder(first.event)
    for p in profiles:
        fmap = [b.frame(f.name, f.kind, f.dso) for f in p.frames]
        for fid, fulls in p.full_names.items():  # C++ names' full forms (ELF symbols)
            for full in fulls:
                b.full_name(fmap[fid], full)
        for fid, n in p.versions.items():  # compiled versions: the most any input saw
            b.profile.versions[fmap[fid]] = max(n, b.profile.versions.get(fmap[fid], 0))
        tmap = [b.thread(pid, comm) for pid, comm in p.threads]
        for stack, w, s, t in p.iter_stacks():
            b.add(tuple(fmap[f] for f in stack), tmap[t], w, s)
    out = b.finish()
    time_first: float | None = None
    time_last: float | None = None
    for p in profiles:
        time_first = _min(time_first, p.time_first)
        time_last = _max(time_last, p.time_last)
        out.inputs.extend(p.inputs)
    out.time_first, out.time_last = time_first, time_last
    out.diagnostics = merge_diagnostics([p.diagnostics for p in profiles])
    return out


def merge_diagnostics(ds: Sequence[ProfileDiagnostics]) -> ProfileDiagnostics:
    """Counters and per-event counts add, lists concatenate (without repeats, maps all
    kept), the named share is recomputed; by each field's declared type."""
    out = ProfileDiagnostics(has_period=ds[0].has_period if ds else False)
    for f in dataclasses.fields(ProfileDiagnostics):
        if f.type == "int":
            setattr(out, f.name, sum(getattr(d, f.name) for d in ds))
        elif f.type == "dict[str, int]":
            acc: dict[str, int] = {}
            for d in ds:
                for k, n in getattr(d, f.name).items():
                    acc[k] = acc.get(k, 0) + n
            setattr(out, f.name, acc)
        elif f.type == "list[MapHealth]":
            setattr(out, f.name, [dataclasses.replace(m, bad_lines=list(m.bad_lines))
                                  for d in ds for m in getattr(d, f.name)])
        elif f.type.startswith("list["):
            lst: list[object] = []
            for d in ds:
                lst.extend(x for x in getattr(d, f.name) if x not in lst)
            setattr(out, f.name, lst)
        elif f.name not in ("has_period", "jit_samples_resolved_pct"):
            raise TypeError(f"ProfileDiagnostics.{f.name}: type {f.type} not merged")
    if out.jit_samples:
        out.jit_samples_resolved_pct = round(100.0 * out.jit_samples_resolved /
                                             out.jit_samples, 2)
    return out


def select_threads(profile: Profile, pids: Sequence[int] = (), comms: Sequence[str] = (),
                   where: str = "input") -> Profile:
    """The samples of the processes ``pids`` and commands ``comms`` (as report's --pid and
    --comm on perf input); frames no stack uses are dropped. No filter: unchanged."""
    if not pids and not comms:
        return profile
    keep = [(not pids or pid in pids) and (not comms or comm in comms)
            for pid, comm in profile.threads]
    b = ProfileBuilder(profile.event)
    fmap: dict[int, int] = {}
    tmap: dict[int, int] = {}
    for stack, w, s, t in profile.iter_stacks():
        if not keep[t]:
            continue
        if t not in tmap:
            tmap[t] = b.thread(*profile.threads[t])
        out = []
        for f in stack:
            if f not in fmap:
                fr = profile.frames[f]
                fmap[f] = b.frame(fr.name, fr.kind, fr.dso)
            out.append(fmap[f])
        b.add(tuple(out), tmap[t], w, s)
    res = b.finish()
    if not res.stacks:
        raise EmptyInputError(where, "no samples match the --pid/--comm filters")
    for fid, fulls in profile.full_names.items():
        if fid in fmap:
            for full in fulls:
                b.full_name(fmap[fid], full)
    for fid, n in profile.versions.items():
        if fid in fmap:
            res.versions[fmap[fid]] = n
    res.time_first, res.time_last = profile.time_first, profile.time_last
    res.inputs = list(profile.inputs)
    res.diagnostics = profile.diagnostics
    return res
