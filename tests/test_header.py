"""The one header (jitprof/present/header.py): the report's lines and the TUI's status bar
are two renderings of the same facts."""

from __future__ import annotations

from pathlib import Path

from jitprof.model import Kind, MapHealth, Profile, ProfileBuilder, ProfileDiagnostics
from jitprof.present.header import header, header_lines, status, top_summary
from jitprof.resolve import load_profile

SLOW = Path(__file__).resolve().parent.parent / "samples" / "hhvm-demo" / "slow"


def _hand(d: ProfileDiagnostics) -> Profile:
    """3 samples (weight 30) of JIT code under main, 1 of main alone (weight 10)."""
    b = ProfileBuilder("cpu-clock")
    m = b.frame("main", Kind.NATIVE, "/bin/app")
    j = b.frame("PHP::run", Kind.PHP, "[JIT]", "")
    t = b.thread(1, "app")
    b.add((j, m), t, 30, 3)
    b.add((m,), t, 10, 1)
    p = b.finish()
    p.inputs = ["/data/run/perf.script", "/data/run2/"]
    p.time_first, p.time_last = 1.0, 3.5
    p.diagnostics = d
    return p


def test_the_report_lines_and_the_status_bar_say_the_same_facts() -> None:
    bad = MapHealth("/tmp/perf-1.map", 1, 12, 10, 2, 0, 1, None, ["line 3: no size", "line 9"])
    d = ProfileDiagnostics(has_period=True, jit_samples=3, jit_samples_resolved=2,
                           jit_samples_resolved_pct=66.666, jit_frames=4,
                           jit_frames_resolved=3, maps=[bad], warnings=["stale map"])
    p = _hand(d)
    assert header_lines(p) == [
        "inputs: /data/run/perf.script, /data/run2/",
        "event: cpu-clock  samples: 4  weight: 40 (period)  time: 1.000-3.500 s (2.500 s)",
        "JIT memory: 3 samples, 66.7% named; JIT frames 3/4 named",
        "map /tmp/perf-1.map: 12 lines, 2 bad, 0 overlapping, 1 zero-size",
        "  line 3: no size",
        "  line 9",
        "kinds (self): PHP 75.0%  native 25.0%",
        "WARNING: stale map",
    ]
    st = status(p)
    # the bar: short forms, base names, zero problem counts left out
    assert st.parts == ["cpu-clock", "4 samples", "1.000-3.500 s (2.500 s)", "JIT 66.7% named",
                        "perf.script, run2"]
    assert st.maps == ["map perf-1.map: 12 lines, 2 bad, 1 zero-size"]
    assert st.warnings == ["stale map"]
    # every piece of the bar is a piece of one of the header's facts
    facts = header(p)
    briefs = {b: h for h in facts for b in h.brief}
    assert set(st.parts + st.maps + st.warnings) <= set(briefs)
    assert [h.text for h in facts if h.text is not None] == header_lines(p)
    assert top_summary(p) == "4 samples; 66.7% of JIT samples named; map /tmp/perf-1.map 12 lines"


def test_no_map_is_said_in_the_bar_and_left_to_the_warnings_in_the_report() -> None:
    d = ProfileDiagnostics(jit_samples=3, jit_samples_resolved_pct=0.0,
                           warnings=["no perf map for pid 1"])
    p = _hand(d)
    st = status(p)
    assert st.maps == ["no perf map used"] and st.warnings == ["no perf map for pid 1"]
    lines = header_lines(p)
    assert not any(ln.startswith("map ") or "no perf map used" in ln for ln in lines)
    assert lines[-1] == "WARNING: no perf map for pid 1"
    assert "weight: 40 (1 per sample)" in lines[1]
    assert top_summary(p) == "4 samples; 0.0% of JIT samples named; no map"
    # no JIT samples: neither says anything of maps or JIT naming
    p = _hand(ProfileDiagnostics())
    assert status(p).maps == [] and status(p).parts[3] == "perf.script, run2"


def test_a_recorded_profile_header() -> None:
    p = load_profile([str(SLOW / "perf.script.gz")], search_tmp=False)
    st = status(p)
    lines = header_lines(p)
    assert [h.topic for h in header(p)] == ["inputs", "event", "JIT", "map", "kinds"]
    assert st.parts == ["cpu-clock", "2,002 samples", "945.160-947.673 s (2.513 s)",
                        "JIT 100.0% named", "perf.script.gz"]
    assert lines[1] == (f"event: cpu-clock  samples: 2,002  weight: {p.weight:,} (period)  "
                        "time: 945.160-947.673 s (2.513 s)")
    assert lines[3].endswith("perf-14089.map: 8 lines, 0 bad, 3 overlapping, 0 zero-size")
    assert st.maps == ["map perf-14089.map: 8 lines, 3 overlapping"]
