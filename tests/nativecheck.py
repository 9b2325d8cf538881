"""Issue 15's oracle for the native perf.data reader: the profile it gives must equal the
one ``perf script`` gives on the same perf.data (``LoadOptions.perf_data`` "native" against
"script"), whatever the order the two readers met the samples in.

``same_profile`` compares order-free summaries: every function (name, kind, dso) with its
self/total samples and weights, every call stack (leaf-first functions, thread) with its
samples and weight, the threads and processes, the kinds, the events, the compiled
versions of JIT functions and the diagnostics that describe the samples (not those that
describe how text was read). A difference is reported by name and number, the few largest
first. Not compared: ``Profile.full_names`` (the demangled form with parameters, kept where
jitprof's ELF pass named a frame: natively that is every file frame, through perf script
only those perf left unnamed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jitprof.model import Profile

FrameKey = tuple[str, str, str]  # (name, kind, dso)

# ProfileDiagnostics fields that say how perf script's *text* was read: the native reader
# has no text lines (``lines``, ``unparsed_lines``, ``perf_warnings``, ``srclines``), and
# may say more in its messages and warnings (a fallback note, "truncated at byte N"); and
# where perf script named a file or kernel frame itself, jitprof's ELF/kallsyms pass had
# nothing to do, where the native reader every such frame is jitprof's to name: the counts
# of frames named that way (and the address form of the text) differ by construction, the
# names they gave are compared in the functions and stacks
READER_ONLY = {"lines", "unparsed_lines", "perf_warnings", "srclines", "messages", "warnings",
               "address_forms", "elf_frames", "elf_frames_named", "elf_files",
               "kernel_frames", "kernel_frames_named"}


def _key(prof: Profile, fid: int, fold: frozenset[str] = frozenset()) -> FrameKey:
    f = prof.frames[fid]
    if f.dso.rsplit("/", 1)[-1] in fold:
        return ("<folded>", "<folded>", f.dso)
    return (f.name, f.kind.value, f.dso)


def summary(prof: Profile, fold: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What a profile says, free of the order of samples and of frame/node numbering;
    ``fold``: dsos whose frames count as one function each (named differently by design,
    see ``assert_native_equals_script``)."""
    functions: dict[FrameKey, list[int]] = {}
    for st in prof.function_stats():
        acc = functions.setdefault(_key(prof, st.frame_id, fold), [0, 0, 0, 0])
        for i, v in enumerate((st.self_samples, st.total_samples, st.self_weight,
                               st.total_weight)):
            acc[i] += v
    stacks: Counter[tuple[Any, ...]] = Counter()
    stack_w: Counter[tuple[Any, ...]] = Counter()
    threads: Counter[tuple[int, str]] = Counter()
    thread_w: Counter[tuple[int, str]] = Counter()
    for stack, weight, samples, thread in prof.iter_stacks():
        k = (tuple(_key(prof, f, fold) for f in stack), prof.threads[thread])
        stacks[k] += samples
        stack_w[k] += weight
        threads[prof.threads[thread]] += samples
        thread_w[prof.threads[thread]] += weight
    d = prof.diagnostics
    diag = {name: getattr(d, name) for name in d.__dataclass_fields__ if name not in READER_ONLY}
    return {
        "event": prof.event,
        "samples": prof.samples,
        "weight": prof.weight,
        "functions": {k: tuple(v) for k, v in functions.items()},
        "stacks": {k: (stacks[k], stack_w[k]) for k in stacks},
        "threads": {k: (threads[k], thread_w[k]) for k in threads},
        "kinds": {k.value: v for k, v in prof.kind_stats().items()},
        "versions": {_key(prof, f, fold): v for f, v in prof.versions.items()},
        "diagnostics": diag,
        "time": (prof.time_first, prof.time_last),
    }


def differences(native: Profile, script: Profile, limit: int = 8,
                fold: frozenset[str] = frozenset()) -> list[str]:
    """Every way the two profiles differ, one line each (empty: equal)."""
    a, b = summary(native, fold), summary(script, fold)
    out: list[str] = []
    for name in ("event", "samples", "weight", "kinds"):
        if a[name] != b[name]:
            out.append(f"{name}: native {a[name]!r} script {b[name]!r}")
    for name, cols in (("functions", "(self samples, total samples, self weight, total "
                                     "weight)"),
                       ("threads", "(samples, weight)"), ("versions", "")):
        keys = sorted({*a[name], *b[name]} - {k for k in a[name] if a[name][k] == b[name].get(k)},
                      key=repr)
        if not keys:
            continue

        def size(k: Any, name: str = name) -> int:
            v = a[name].get(k) or b[name].get(k)
            return -(v[0] if isinstance(v, tuple) and v and isinstance(v[0], int) else 0)

        keys.sort(key=size)
        out.append(f"{name} {cols}: {len(keys)} differ; "
                   + "; ".join(f"{k}: native {a[name].get(k)} script {b[name].get(k)}"
                               for k in keys[:limit]))
    if a["stacks"] != b["stacks"]:
        keys = {*a["stacks"], *b["stacks"]}
        diff = [k for k in keys if a["stacks"].get(k) != b["stacks"].get(k)]
        n_a = sum(a["stacks"].get(k, (0, 0))[0] for k in diff)
        n_b = sum(b["stacks"].get(k, (0, 0))[0] for k in diff)
        worst = sorted(diff, key=lambda k: -max(a["stacks"].get(k, (0, 0))[0],
                                                b["stacks"].get(k, (0, 0))[0]))[:3]
        out.append(f"stacks: {len(diff)} of {len(keys)} differ ({n_a} native samples, "
                   f"{n_b} script samples); e.g. "
                   + "; ".join(f"{_short(k)}: native {a['stacks'].get(k)} script "
                               f"{b['stacks'].get(k)}" for k in worst))
    for k in sorted({*a["diagnostics"], *b["diagnostics"]}):
        if a["diagnostics"].get(k) != b["diagnostics"].get(k):
            out.append(f"diagnostics.{k}: native {a['diagnostics'].get(k)!r} "
                       f"script {b['diagnostics'].get(k)!r}")
    ta, tb = a["time"], b["time"]
    if (ta[0] is None) != (tb[0] is None) or (ta[0] is not None and (
            abs(ta[0] - tb[0]) > 1e-6 or abs(ta[1] - tb[1]) > 1e-6)):
        out.append(f"time (first, last): native {ta} script {tb}")
    return out


def _short(k: tuple[Any, ...]) -> str:
    stack, thread = k
    names = [f[0] for f in stack]
    return f"{thread} {' <- '.join(names[:4])}{' <- ...' if len(names) > 4 else ''}"


def load_both(perf_data: Path | str, **options: Any) -> tuple[Profile, Profile]:
    """(native, script) profiles of one perf.data with the same other options."""
    from jitprof.resolve import load_profile

    native = load_profile([str(perf_data)], perf_data="native", **options)
    script = load_profile([str(perf_data)], perf_data="script", **options)
    native.verify()
    return native, script


def assert_native_equals_script(perf_data: Path | str, what: str = "",
                                fold: frozenset[str] = frozenset(),
                                **options: Any) -> tuple[Profile, Profile]:
    """Load ``perf_data`` both ways and assert the profiles are the same; returns them.
    ``fold``: dsos (base names) whose functions are compared as one (their samples and
    stacks still are): where the two paths name them apart by design."""
    native, script = load_both(perf_data, **options)
    diff = differences(native, script, fold=fold)
    assert not diff, f"{what or perf_data}: native != perf script:\n  " + "\n  ".join(diff)
    assert native.samples > 0
    return native, script


def events_of(prof: Profile) -> Sequence[str]:
    return sorted(prof.diagnostics.events)
