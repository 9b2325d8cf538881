"""The pprof export read by its real consumer (issue 13): ``go tool pprof -top`` (Debian
golang-go) on jitprof's .pb.gz must show the flat and cum shares ``report`` shows.

pprof rounds shares to two decimals; ``-symbolize=none`` keeps the names as written (by
default pprof shortens C++ names for display, ``std::vector<...>::push_back`` ->
``std::vector::push_back``), ``-nodefraction=0`` keeps every function.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jitprof.export import ExportOptions, exporter_named
from jitprof.model import Kind, Profile, ProfileBuilder
from jitprof.present.rows import function_rows
from jitprof.resolve import load_profile
from tests.conftest import require_tools, tool_failed

_ROW_RX = re.compile(r"^\s*(\S+)\s+([\d.]+)%\s+([\d.]+)%\s+(\S+)\s+([\d.]+)%\s+(.*?)\s*$")


def go_pprof_top(pb: Path, *extra: str) -> dict[str, tuple[float, float]]:
    """name -> (flat %, cum %) from ``go tool pprof -top``."""
    require_tools("go")
    r = subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=1000000", "-nodefraction=0",
                        "-edgefraction=0", *extra, str(pb)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    out: dict[str, tuple[float, float]] = {}
    lines = r.stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["flat", "flat%"]) + 1
    for line in lines[start:]:
        m = _ROW_RX.match(line)
        assert m is not None, line
        assert m.group(6) not in out, m.group(6)
        out[m.group(6)] = (float(m.group(2)), float(m.group(5)))
    return out


def export_pprof(profile: Profile, path: Path) -> Path:
    path.write_bytes(exporter_named("pprof")(ExportOptions()).render(profile))
    return path


def report_shares(profile: Profile) -> tuple[dict[str, float], dict[str, float]]:
    """report's self % per name (rows of one name summed) and total % (names on one row)."""
    flat: dict[str, float] = {}
    cum: dict[str, float] = {}
    seen: dict[str, int] = {}
    for r in function_rows(profile):
        flat[r.name] = flat.get(r.name, 0.0) + r.self_pct
        cum[r.name] = r.total_pct
        seen[r.name] = seen.get(r.name, 0) + 1
    return flat, {n: v for n, v in cum.items() if seen[n] == 1}


def assert_same_shares(profile: Profile, theirs: dict[str, tuple[float, float]]) -> int:
    flat, cum = report_shares(profile)
    assert set(theirs) == set(flat)  # every function, and nothing else
    for name, (f, c) in theirs.items():
        assert abs(f - flat[name]) <= 0.006, (name, f, flat[name])
        if name in cum:
            assert abs(c - cum[name]) <= 0.006, (name, c, cum[name])
    return len(theirs)


def test_go_pprof_shows_the_hand_computed_shares(tmp_path: Path) -> None:
    b = ProfileBuilder("cpu-clock")
    names = [("JS:*fib /tmp/x.js:2:13", Kind.JIT, "[JIT]"), ("Hot.fib", Kind.JAVA, "[JIT]"),
             ("I2C/C2I adapters", Kind.JVM, "[JIT]"),
             ("std::vector<double, std::allocator<double> >::push_back", Kind.NATIVE, "/bin/a"),
             ("PHP::/var/www/a b.php::Foo::bar", Kind.PHP, "[JIT]"),
             ("HPHP::f_sort", Kind.HPHP, "/bin/a"), ("main", Kind.NATIVE, "/bin/a")]
    ids = [b.frame(n, k, d) for n, k, d in names]
    t = b.thread(1, "app")
    main_, sort_ = ids[-1], ids[-2]
    # weight 1000 * (i + 1) under main; the first three also under f_sort (a caller)
    for i, fid in enumerate(ids[:-2]):
        stack = (fid, sort_, main_) if i < 3 else (fid, main_)
        b.add(stack, t, 1000 * (i + 1), i + 1)
    b.add((main_,), t, 5000, 5)
    prof = b.finish()
    prof.diagnostics.has_period = True
    total = 1000 * (1 + 2 + 3 + 4 + 5) + 5000  # 20000
    theirs = go_pprof_top(export_pprof(prof, tmp_path / "p.pb.gz"), "-symbolize=none")
    assert theirs["Hot.fib"] == (10.0, 10.0)  # 2000 / 20000
    assert theirs["HPHP::f_sort"] == (0.0, 30.0)  # (1000 + 2000 + 3000) / 20000
    assert theirs["main"] == (25.0, 100.0)
    assert theirs["std::vector<double, std::allocator<double> >::push_back"] == (20.0, 20.0)
    assert theirs["PHP::/var/www/a b.php::Foo::bar"] == (100 * 5000 / total,) * 2
    assert assert_same_shares(prof, theirs) == 7
    # pprof's default display (names shortened) reads the same file
    assert go_pprof_top(tmp_path / "p.pb.gz")["std::vector::push_back"] == (20.0, 20.0)


@pytest.fixture(scope="module")
def demo_profile(tmp_path_factory: pytest.TempPathFactory, demo_recorder: Any) -> Profile:
    require_tools("perf", "g++", "go")
    out = tmp_path_factory.mktemp("pprof")
    try:
        binary = demo_recorder.build(out)
        rec = demo_recorder.record(binary, "slow", 1, out / "slow")
    except demo_recorder.RecordError as e:
        tool_failed("recording the demo with perf", e)
        raise
    Path(rec["tmp_map"]).unlink(missing_ok=True)
    return load_profile([str(rec["perf_script"])], maps=[str(rec["map"])], search_tmp=False)


def test_go_pprof_shows_reports_shares_of_a_recording(demo_profile: Profile,
                                                      tmp_path: Path) -> None:
    pb = export_pprof(demo_profile, tmp_path / "demo.pb.gz")
    theirs = go_pprof_top(pb, "-symbolize=none")
    assert assert_same_shares(demo_profile, theirs) >= 10
    top = max(theirs, key=lambda n: theirs[n][0])
    assert top == "HPHP::f_sort"
