"""Property tests: random sample sets, written as perf script text and perf maps, loaded
through the public path (``load_profile``), and every aggregation checked against a naive
reference computed here, sample by sample, from the generated samples themselves.

The generator draws processes (each with threads and its own perf map, whose lines
overlap: a later line wins where it overlaps an earlier one), periods that vary, empty
stacks, deep stacks, recursion (a function several times on one stack, also through
different addresses), kernel frames above user frames, JIT frames in ``//anon``,
``[unknown]`` or the map's own dso (with a wrong name perf might have printed), named and
nameless frames of ELF files. The reference names each frame by the rules of docs/naming.md:
a JIT frame by the latest map line containing its address (the leaf and the first user
frame under kernel frames at the address, callers at the return address - 1), other
frames as perf printed them.

Checked: totals, self/total per function (recursion counted once per stack), kinds,
per-thread weights, callers/callees (views.sandwich), the top-down and bottom-up trees
(views.CallTree), the flame graph's tree and layout (views.FlameTree, flame_layout), the
exports (folded, speedscope, pprof), diff gathering (diff_profiles, folded_diff),
time-bin weights, and that reading with several processes (``jobs``) gives the profile
one reader gives. Deterministic (``derandomize``): CI runs the same examples each time.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jitprof.analysis.diff import diff_profiles, folded_diff
from jitprof.export import exporter_named
from jitprof.export import profile_pb2 as pb
from jitprof.model import Frame, Profile
from jitprof.present.views import CallNode, CallTree, FlameTree, flame_layout, sandwich
from jitprof.resolve import load_profile

# JITPROF_PROPERTY_EXAMPLES: examples per property (more for a local soak);
# JITPROF_PROPERTY_NOSHRINK=1: report the first failing example as found (shrinking one
# through the loader takes minutes on a loaded machine)
SETTINGS = settings(
    max_examples=int(os.environ.get("JITPROF_PROPERTY_EXAMPLES", "60")),
    derandomize=True, deadline=None, print_blob=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=([Phase.explicit, Phase.generate] if os.environ.get("JITPROF_PROPERTY_NOSHRINK")
            else list(Phase)))

KERNEL_BASE = 0xFFFFFFFF81000000
JIT_SPAN = 0x3400  # JIT frame addresses fall in [base, base + JIT_SPAN); map lines cover most
JIT_NAMES = ["PHP::A::run", "PHP::B::go", "PHP::C::deep", "JS:*fib /x.js:1:1",
             "JS:~sort /y.js:2:3", "HHVM::stub"]
NATIVE_NAMES = ["main", "nat_a", "nat_b", "nat_c"]
NATIVE_DSOS = ["/usr/bin/gen", "/usr/lib/libgen1.so", "/usr/lib/libgen2.so"]
KERNEL_NAMES = ["k_irq", "k_fault", "k_sched"]
PIDS = [100, 200, 300]
COMMS = ["php", "worker", "gen"]
EVENT = "cpu-clock"

Key = tuple[str, str, str]  # (name, kind, dso) as jitprof should show the function


def jit_base(pid: int) -> int:
    return 0x7F0000000000 + (pid << 24)  # each process its own JIT memory


@dataclass(frozen=True)
class GFrame:
    what: str  # "jit", "native", "nameless" (an ELF file's frame perf could not name), "kernel"
    addr: int
    name: str = ""  # the name perf printed
    dso: str = ""


@dataclass(frozen=True)
class GSample:
    pid: int
    tid: int
    comm: str
    time: float
    period: int
    frames: tuple[GFrame, ...]  # leaf first, as perf prints them


@dataclass(frozen=True)
class World:
    maps: dict[int, list[tuple[int, int, str]]]  # pid -> (start, size, name) in file order
    samples: list[GSample]


# -- generation ------------------------------------------------------------------------------

@st.composite
def map_lines(draw: st.DrawFn, pid: int) -> list[tuple[int, int, str]]:
    base = jit_base(pid)
    n = draw(st.integers(1, 10))
    return [(base + draw(st.integers(0, 0x30)) * 0x100 + draw(st.sampled_from([0, 0x40, 0x80])),
             draw(st.sampled_from([0x40, 0x80, 0x100, 0x200, 0x400])),
             draw(st.sampled_from(JIT_NAMES))) for _ in range(n)]


@st.composite
def jit_frame(draw: st.DrawFn, pid: int, lines: list[tuple[int, int, str]]) -> GFrame:
    base = jit_base(pid)
    # often exactly at a line's start or end (callers are looked up at address - 1)
    addr = draw(st.one_of(
        st.integers(base, base + JIT_SPAN),
        st.sampled_from([s for s, _z, _n in lines] + [s + z for s, z, _n in lines])))
    dso = draw(st.sampled_from(["//anon", "[unknown]", f"/tmp/perf-{pid}.map"]))
    # perf's own pick where it had the map: jitprof looks the address up again
    name = "PHP::perf_pick" if dso.startswith("/tmp") else "[unknown]"
    return GFrame("jit", addr, name, dso)


def user_frame(pid: int, lines: list[tuple[int, int, str]]) -> st.SearchStrategy[GFrame]:
    native = st.builds(lambda n, d, a: GFrame("native", 0x1000 + a * 0x10, n, d),
                       st.sampled_from(NATIVE_NAMES), st.sampled_from(NATIVE_DSOS),
                       st.integers(0, 64))
    nameless = st.builds(lambda d, a: GFrame("nameless", 0x9000 + a * 0x10, "[unknown]", d),
                         st.sampled_from(NATIVE_DSOS), st.integers(0, 8))
    return st.one_of(jit_frame(pid, lines), jit_frame(pid, lines), native, nameless)


@st.composite
def stacks(draw: st.DrawFn, pid: int, lines: list[tuple[int, int, str]]
           ) -> tuple[GFrame, ...]:
    kernel = draw(st.lists(st.builds(
        lambda i: GFrame("kernel", KERNEL_BASE + i * 0x100, KERNEL_NAMES[i],
                         "[kernel.kallsyms]"), st.integers(0, len(KERNEL_NAMES) - 1)),
        max_size=3))
    user = user_frame(pid, lines)
    depth = draw(st.one_of(st.integers(0, 10), st.integers(0, 10), st.integers(40, 90)))
    pool = draw(st.lists(user, min_size=1, max_size=6))  # few distinct: recursion
    frames = [draw(st.sampled_from(pool)) for _ in range(depth)]
    if draw(st.booleans()) or not frames:
        frames.append(GFrame("native", 0x1000, "main", NATIVE_DSOS[0]))
    if draw(st.integers(0, 9)) == 0:
        return ()  # an empty stack (perf printed no callchain)
    return (*kernel, *frames)


@st.composite
def worlds(draw: st.DrawFn, max_samples: int = 40) -> World:
    pids = draw(st.lists(st.sampled_from(PIDS), min_size=1, max_size=3, unique=True))
    maps = {pid: draw(map_lines(pid)) for pid in pids}
    threads = []
    for pid in pids:
        for tid in range(pid, pid + draw(st.integers(1, 3))):
            threads.append((pid, tid, draw(st.sampled_from(COMMS))))
    n = draw(st.integers(1, max_samples))
    samples = []
    t = 1.0
    for _ in range(n):
        pid, tid, comm = draw(st.sampled_from(threads))
        t += draw(st.integers(0, 30)) / 1000.0
        period = draw(st.one_of(st.just(1000000), st.integers(1, 5_000_000)))
        samples.append(GSample(pid, tid, comm, round(t, 6), period,
                               draw(stacks(pid, maps[pid]))))
    return World(maps, samples)


def write_world(world: World, d: Path, name: str = "perf.script") -> Path:
    """perf script text (its default fields: comm pid/tid time: period event:, frames as
    ``addr sym+off (dso)``) and perf-<pid>.map beside it (found there by jitprof)."""
    for pid, lines in world.maps.items():
        (d / f"perf-{pid}.map").write_text(
            "".join(f"{s:x} {z:x} {n}\n" for s, z, n in lines))
    out = []
    for s in world.samples:
        out.append(f"{s.comm} {s.pid}/{s.tid} {s.time:.6f}: {s.period} {EVENT}:\n")
        for f in s.frames:
            sym = f.name if f.name == "[unknown]" else f"{f.name}+0x10"
            out.append(f"\t{f.addr:16x} {sym} ({f.dso})\n")
        out.append("\n")
    path = d / name
    path.write_text("".join(out))
    return path


# -- the reference ---------------------------------------------------------------------------

def jit_kind(name: str) -> str:
    return "PHP" if name.startswith("PHP::") else "HHVM" if name.startswith("HHVM::") else "JIT"


def latest_line(lines: list[tuple[int, int, str]], addr: int) -> str | None:
    hit = None
    for s, z, n in lines:
        if s <= addr < s + z:
            hit = n  # a later line replaces what it overlaps
    return hit


NO_STACK: Key = ("[no stack]", "unknown", "[unknown]")  # a sample without frames: one row


def frame_keys(world: World, s: GSample) -> tuple[Key, ...]:
    if not s.frames:
        return (NO_STACK,)
    out = []
    user_seen = False
    for i, f in enumerate(s.frames):
        exact = i == 0 or (f.what != "kernel" and not user_seen)
        user_seen = user_seen or f.what != "kernel"
        if f.what == "kernel":
            out.append((f.name, "kernel", f.dso))
        elif f.what == "native":
            out.append((f.name, "native", f.dso))
        elif f.what == "nameless":
            out.append(("[unknown]", "unknown", f.dso))
        else:
            name = latest_line(world.maps[s.pid], f.addr if exact else f.addr - 1)
            out.append(("[unknown]", "unknown", "[JIT]") if name is None
                       else (name, jit_kind(name), "[JIT]"))
    return tuple(out)


@dataclass
class Ref:
    """The naive per-sample aggregation: (thread, leaf-first keys, weight, time) each."""

    rows: list[tuple[tuple[int, str], tuple[Key, ...], int, float]]

    @classmethod
    def of(cls, world: World) -> Ref:
        return cls([((s.pid, s.comm), frame_keys(world, s), s.period, s.time)
                    for s in world.samples])

    def weight(self) -> int:
        return sum(w for _t, _k, w, _ in self.rows)

    def functions(self) -> dict[Key, tuple[int, int, int, int]]:
        """self weight, total weight, self samples, total samples."""
        acc: dict[Key, list[int]] = {}
        for _t, keys, w, _ in self.rows:
            if keys:
                a = acc.setdefault(keys[0], [0, 0, 0, 0])
                a[0] += w
                a[2] += 1
            for k in set(keys):
                a = acc.setdefault(k, [0, 0, 0, 0])
                a[1] += w
                a[3] += 1
        return {k: (a[0], a[1], a[2], a[3]) for k, a in acc.items()}

    def paths(self, inverted: bool) -> dict[tuple[Key, ...], tuple[int, int, int, int]]:
        """Every call path from the tree's root side: weight, samples, self weight, self
        samples (a sample is under every prefix of its path and ends at the whole)."""
        acc: dict[tuple[Key, ...], list[int]] = {}
        for _t, keys, w, _ in self.rows:
            path = keys if inverted else keys[::-1]
            for i in range(1, len(path) + 1):
                a = acc.setdefault(path[:i], [0, 0, 0, 0])
                a[0] += w
                a[1] += 1
            if path:
                a = acc[path]
                a[2] += w
                a[3] += 1
        return {k: (a[0], a[1], a[2], a[3]) for k, a in acc.items()}


def load(script: Path, jobs: int = 1, bin_width: float | None = None) -> Profile:
    """The public path (the one place to adapt if load_profile's signature changes)."""
    prof = load_profile([str(script)], search_tmp=False, jobs=jobs, bin_width=bin_width)
    prof.verify()
    return prof


def key(f: Frame) -> Key:
    return (f.name, f.kind.value, f.dso)



@contextlib.contextmanager
def loaded(world: World, **kw: Any) -> Iterator[tuple[Profile, Path]]:
    with tempfile.TemporaryDirectory(prefix="jitprof-prop-") as d:
        script = write_world(world, Path(d))
        yield load(script, **kw), script


# -- the checks ------------------------------------------------------------------------------

def check_functions(prof: Profile, ref: Ref) -> None:
    assert prof.samples == len(ref.rows)
    assert prof.weight == ref.weight()
    got = {}
    for st_ in prof.function_stats():
        k = key(prof.frames[st_.frame_id])
        assert k not in got, f"two frames for {k}"
        got[k] = (st_.self_weight, st_.total_weight, st_.self_samples, st_.total_samples)
    assert got == ref.functions()


def check_kinds_threads(prof: Profile, ref: Ref) -> None:
    kinds: dict[str, list[int]] = {}
    threads: dict[tuple[int, str], list[int]] = {}
    for t, keys, w, _ in ref.rows:
        a = threads.setdefault(t, [0, 0])
        a[0] += w
        a[1] += 1
        if keys:
            a = kinds.setdefault(keys[0][1], [0, 0])
            a[0] += w
            a[1] += 1
    got = {k.value: v for k, v in prof.kind_stats().items() if v != (0, 0)}
    assert got == {k: (a[0], a[1]) for k, a in kinds.items()}
    per_thread: dict[tuple[int, str], list[int]] = {}
    for _stack, w, n, ti in prof.iter_stacks():
        a = per_thread.setdefault(prof.threads[ti], [0, 0])
        a[0] += w
        a[1] += n
    assert per_thread == threads


def check_sandwich(prof: Profile, ref: Ref) -> None:
    for f in prof.frames:
        k = key(f)
        callers: dict[Key, int] = {}
        callees: dict[Key, int] = {}
        root = total = self_ = 0
        for _t, keys, w, _ in ref.rows:
            if k not in keys:
                continue
            total += w
            self_ += w if keys[0] == k else 0
            root += w if keys[-1] == k else 0
            idx = [i for i, x in enumerate(keys) if x == k]
            for c in {keys[i + 1] for i in idx if i + 1 < len(keys)}:
                callers[c] = callers.get(c, 0) + w
            for c in {keys[i - 1] for i in idx if i > 0}:
                callees[c] = callees.get(c, 0) + w
        sw = sandwich(prof, f)
        assert (sw.total_weight, sw.self_weight, sw.root_weight) == (total, self_, root), k
        assert {key(n.frame): n.weight for n in sw.callers} == callers, k
        assert {key(n.frame): n.weight for n in sw.callees} == callees, k
        assert sw.all_weight == ref.weight()


def walk_call_tree(tree: CallTree) -> dict[tuple[Key, ...], tuple[int, int, int, int]]:
    out = {}
    todo: list[CallNode] = [tree.root]
    while todo:
        node = todo.pop()
        kids = tree.children(node)
        assert [c.weight for c in kids] == sorted((c.weight for c in kids), reverse=True)
        assert sum(c.weight for c in kids) + node.self_weight == node.weight
        for c in kids:
            p = tuple(key(tree.profile.frames[f]) for f in c.path)
            assert p not in out, p
            out[p] = (c.weight, c.samples, c.self_weight, c.self_samples)
            todo.append(c)
    return out


def check_trees(prof: Profile, ref: Ref) -> None:
    for inverted in (False, True):
        tree = CallTree(prof, inverted)
        assert tree.root.weight == ref.weight()
        assert walk_call_tree(tree) == ref.paths(inverted), ("inverted", inverted)


def check_flame(prof: Profile, ref: Ref, width: int) -> None:
    tree = FlameTree(prof)
    paths = ref.paths(False)
    nodes: dict[int, tuple[Key, ...]] = {0: ()}
    todo = [0]
    while todo:
        n = todo.pop()
        for c in tree.children(n):
            fr = tree.frame(c)
            assert fr is not None and tree.parent(c) == n
            nodes[c] = (*nodes[n], key(fr))
            todo.append(c)
    assert {p: (tree.weight(n), tree.self_weight(n)) for n, p in nodes.items() if p} == {
        p: (v[0], v[2]) for p, v in paths.items()}
    assert tree.weight(0) == ref.weight()
    total = ref.weight()
    lay = flame_layout(tree, 0, width)
    if total == 0:
        assert lay.boxes == []
        return
    boxes = lay.by_node
    assert boxes[0].x == 0 and boxes[0].width == width and boxes[0].depth == 0
    for n, b in boxes.items():
        exact = width * tree.weight(n) / total
        assert b.width >= 1 and abs(b.width - exact) < 2, (nodes[n], b, exact)
        assert b.depth == len(nodes[n])
        if n:
            parent = boxes[tree.parent(n)]
            assert parent.x <= b.x and b.x + b.width <= parent.x + parent.width
    for row in lay.rows:
        for a, b in zip(row, row[1:], strict=False):
            assert a.x + a.width <= b.x, (a, b)
    # every node of at least a cell, under drawn parents, is drawn; none lighter
    for n, p in nodes.items():
        if n and tree.parent(n) in boxes:
            assert (n in boxes) == (tree.weight(n) * width >= total), (p, tree.weight(n))


def names_path(keys: tuple[Key, ...]) -> tuple[str, ...]:
    return tuple(k[0] for k in keys)


def check_exports(prof: Profile, ref: Ref) -> None:
    folded: dict[str, int] = {}
    speed: dict[tuple[int, str], dict[tuple[str, ...], int]] = {}
    pprof: dict[tuple[int, str, tuple[str, ...]], list[int]] = {}
    for t, keys, w, _ in ref.rows:
        line = ";".join(names_path(keys[::-1])) or "[no stack]"
        folded[line] = folded.get(line, 0) + w
        path = names_path(keys[::-1]) or ("[no stack]",)
        d = speed.setdefault(t, {})
        d[path] = d.get(path, 0) + w
        a = pprof.setdefault((*t, names_path(keys) or ("[no stack]",)), [0, 0])
        a[0] += 1
        a[1] += w
    text = exporter_named("folded")().render(prof).decode()
    got_f: dict[str, int] = {}
    for ln in text.splitlines():
        stack, n = ln.rsplit(" ", 1)
        got_f[stack] = got_f.get(stack, 0) + int(n)
    assert got_f == folded

    doc = json.loads(exporter_named("speedscope")().render(prof))
    frames = doc["shared"]["frames"]
    got_s: dict[tuple[int, str], dict[tuple[str, ...], int]] = {}
    by_name = {f"{c} (pid {p})": (p, c) for p, c in prof.threads}
    for p in doc["profiles"]:
        d = got_s.setdefault(by_name[p["name"]], {})
        assert len(p["samples"]) == len(p["weights"])
        assert p["endValue"] == sum(p["weights"])
        for ids, w in zip(p["samples"], p["weights"], strict=True):
            path = tuple(frames[i]["name"] for i in ids)
            d[path] = d.get(path, 0) + w
    assert got_s == speed

    msg = pb.Profile()
    msg.ParseFromString(gzip.decompress(exporter_named("pprof")().render(prof)))
    st_ = list(msg.string_table)
    fn = {f.id: st_[f.name] for f in msg.function}
    loc = {lc.id: fn[lc.line[0].function_id] for lc in msg.location}
    assert [st_[v.type] for v in msg.sample_type] == ["samples", "cpu"]
    got_p: dict[tuple[int, str, tuple[str, ...]], list[int]] = {}
    for s in msg.sample:
        labels = {st_[lb.key]: (lb.num if lb.num else st_[lb.str]) for lb in s.label}
        k = (int(labels["pid"]), str(labels["comm"]), tuple(loc[i] for i in s.location_id))
        a = got_p.setdefault(k, [0, 0])
        a[0] += s.value[0]
        a[1] += s.value[1]
    assert got_p == pprof


def diff_key(k: Key) -> tuple[str, str, str]:
    """jitprof/analysis/diff.py pairs functions by (kind, name, dso): no dso for runtime and JIT
    names, a file's base name otherwise."""
    name, kind, dso = k
    return (kind, name, "" if kind in ("PHP", "HPHP", "HHVM", "JIT") else
            os.path.basename(dso) if "/" in dso else dso)


def check_diff(pa: Profile, ra: Ref, pb_: Profile, rb: Ref) -> None:
    res = diff_profiles([pa], [pb_], method="binomial")
    want: dict[tuple[str, str, str], list[int]] = {}
    for side, ref in enumerate((ra, rb)):
        for k, (_sw, _tw, ss, ts) in ref.functions().items():
            a = want.setdefault(diff_key(k), [0, 0, 0, 0])
            a[side] += ss
            a[2 + side] += ts
    got = {(f.kind.value, f.name, "" if f.kind.value in ("PHP", "HPHP", "HHVM", "JIT")
            else f.dso): [*f.self_samples, *f.total_samples] for f in res.functions}
    assert got == want
    assert (res.before.samples, res.after.samples) == (len(ra.rows), len(rb.rows))
    kinds: dict[str, list[int]] = {}
    for side, ref in enumerate((ra, rb)):
        for _t, keys, _w, _ in ref.rows:
            if keys:
                kinds.setdefault(keys[0][1], [0, 0])[side] += 1
    assert {k.kind.value: list(k.self_samples) for k in res.kinds} == kinds
    folded: dict[str, list[int]] = {}
    for side, ref in enumerate((ra, rb)):
        for _t, keys, _w, _ in ref.rows:
            if keys:
                line = ";".join(diff_key(k)[1] for k in keys[::-1])
                folded.setdefault(line, [0, 0])[side] += 1
    assert {s: [b, a] for s, b, a in folded_diff([pa], [pb_])} == folded


def bin_weights(prof: Profile) -> dict[int, int]:
    """Weight per time bin: the one place that reads the model's bins (``stack_bin``)."""
    out: dict[int, int] = {}
    for b, (_stack, w, _n, _t) in zip(prof.stack_bin, prof.iter_stacks(), strict=True):
        out[b] = out.get(b, 0) + w
    return out


def canonical(prof: Profile) -> tuple[Any, ...]:
    """What two loadings of one input must agree on, whatever the order of ids."""
    stacks: dict[tuple[tuple[int, str], tuple[Key, ...]], list[int]] = {}
    for stack, w, n, t in prof.iter_stacks():
        a = stacks.setdefault((prof.threads[t], tuple(key(prof.frames[f]) for f in stack)),
                              [0, 0])
        a[0] += w
        a[1] += n
    d = prof.diagnostics
    return (prof.event, prof.samples, prof.weight, prof.time_first, prof.time_last,
            sorted(stacks.items()), d.jit_samples, d.jit_samples_resolved, d.jit_frames,
            d.jit_frames_resolved, d.empty_stacks, d.lines, sorted(d.unknown_thread_tids))


# -- the properties --------------------------------------------------------------------------

@SETTINGS
@given(worlds())
def test_every_aggregation_matches_the_per_sample_reference(world: World) -> None:
    ref = Ref.of(world)
    with loaded(world) as (prof, _script):
        check_functions(prof, ref)
        check_kinds_threads(prof, ref)
        check_sandwich(prof, ref)
        check_trees(prof, ref)
        check_flame(prof, ref, 120)
        check_exports(prof, ref)


@SETTINGS
@given(worlds(), worlds(), st.sampled_from([0.005, 0.02, 0.1]))
def test_diff_gathering_and_time_bins(before: World, after: World, width: float) -> None:
    ra, rb = Ref.of(before), Ref.of(after)
    with loaded(before, bin_width=width) as (pa, _a), loaded(after) as (pb_, _b):
        # a binned profile keeps a stack once per bin: every aggregation still adds up
        check_functions(pa, ra)
        check_trees(pa, ra)
        want: dict[int, int] = {}
        for _t, _k, w, time in ra.rows:
            want[int(time / width)] = want.get(int(time / width), 0) + w
        assert bin_weights(pa) == want
        check_diff(pa, ra, pb_, rb)


@settings(SETTINGS, max_examples=max(SETTINGS.max_examples // 4, 5))
@given(worlds(max_samples=120), st.integers(2, 4))
def test_parallel_reading_gives_the_same_profile(world: World, jobs: int) -> None:
    import jitprof.parse.reader

    # texts this small are read by one process: lower the threshold for the test (the
    # split and merge are what is tested, not the size)
    assert hasattr(jitprof.parse.reader, "PARALLEL_MIN_BYTES"), "the split threshold moved"
    saved = jitprof.parse.reader.PARALLEL_MIN_BYTES
    jitprof.parse.reader.PARALLEL_MIN_BYTES = 1
    try:
        with tempfile.TemporaryDirectory(prefix="jitprof-prop-") as d:
            script = write_world(world, Path(d))
            one = load(script, jobs=1)
            many = load(script, jobs=jobs)
    finally:
        jitprof.parse.reader.PARALLEL_MIN_BYTES = saved
    assert canonical(many) == canonical(one)
    check_functions(many, Ref.of(world))


def test_the_generator_reaches_the_cases(tmp_path: Path) -> None:
    """The strategies make what the properties are about (a check on the generator)."""
    seen = {"recursion": 0, "empty": 0, "deep": 0, "overlap": 0, "processes": 0,
            "kernel": 0, "boundary": 0}

    @settings(max_examples=100, derandomize=True, deadline=None, database=None)
    @given(worlds())
    def look(world: World) -> None:
        keys = [frame_keys(world, s) for s in world.samples]
        seen["recursion"] += any(len(set(k)) < len(k) for k in keys)
        seen["empty"] += any(not s.frames for s in world.samples)
        seen["deep"] += any(len(k) >= 40 for k in keys)
        seen["processes"] += len(world.maps) > 1
        seen["kernel"] += any(f.what == "kernel" for s in world.samples for f in s.frames)
        seen["overlap"] += any(
            a[0] < b[0] + b[1] and b[0] < a[0] + a[1]
            for lines in world.maps.values() for i, a in enumerate(lines) for b in lines[i + 1:])
        seen["boundary"] += any(
            f.what == "jit" and f.addr in {s for s, _z, _n in world.maps[smp.pid]}
            for smp in world.samples for f in smp.frames[1:])

    look()
    assert all(v >= 5 for v in seen.values()), seen
