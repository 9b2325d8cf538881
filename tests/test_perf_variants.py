"""A corpus of perf script texts made in the test run (issue 13): one recording of the demo
JIT workload printed with many field sets and options, each also re-indented with blanks,
not indented at all, and as "another host's" text; every one must give the profile the
default text gives, and perf report's shares on the same perf.data.

The oracle is ``perf report --stdio --sort sym`` (tests/perfreport.py); names whose JIT
range was reused are left out of that comparison (perf's pick among overlapping map lines
is arbitrary, tests/test_perf_integration.py checks them by brute force).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jitprof.present.rows import function_rows
from jitprof.resolve import load_profile
from tests.conftest import perf_script, require_tools, tool_failed
from tests.perfreport import map_lines, overlapping_names, perf_self

TOLERANCE = 0.1  # percentage points
TOLERANCE_NO_PERIOD = 0.3  # ... for texts without periods (1 per sample)
THRESHOLD = 0.5

# perf script options -> what the text is
VARIANTS: dict[str, tuple[str, ...]] = {
    "default": ("--show-mmap-events",),
    "comm-tid-event": ("-F", "comm,tid,event,ip,sym,dso"),
    "srcline": ("-F", "+srcline"),
    "inline": ("--inline",),
    "header": ("--header",),
    "pid-tid-time-period-symoff": ("-F", "pid,tid,time,period,event,ip,sym,dso,symoff"),
    "tid-period": ("-F", "tid,period,ip,sym,dso"),
    "comm-period-event": ("-F", "comm,period,event,ip,sym,dso"),
}


def _reindent(prefix: str) -> Callable[[str], str]:
    def run(text: str) -> str:
        return re.sub(r"(?m)^\t", prefix, text)
    return run


def _other_host(text: str) -> str:
    """The text as if recorded elsewhere: its --header says another host and kernel."""
    text = re.sub(r"(?m)^# hostname : .*$", "# hostname : buildbox-7", text)
    return re.sub(r"(?m)^# os release : .*$", "# os release : 4.9.93-linuxkit-aufs", text)


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "tabs": lambda t: t,
    "spaces": _reindent("    "),
    "one-space": _reindent(" "),
    "unindented": _reindent(""),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_recorder: Any) -> Iterator[dict]:
    require_tools("perf", "g++")
    out = tmp_path_factory.mktemp("variants")
    try:
        binary = demo_recorder.build(out)
        rec = demo_recorder.record(binary, "slow", 2, out / "slow")
    except demo_recorder.RecordError as e:
        tool_failed("recording the demo with perf", e)
        raise
    rec["theirs"] = perf_self(rec["perf_data"])
    rec["skip"] = overlapping_names(map_lines(rec["map"]))
    yield rec  # perf report needs /tmp/perf-<pid>.map while the tests run
    Path(rec["tmp_map"]).unlink(missing_ok=True)


def _profile(script: Path, rec: dict) -> tuple[dict[tuple[str, str], tuple[int, int]],
                                              dict[str, float], int, Any]:
    prof = load_profile([str(script)], maps=[str(rec["map"])], search_tmp=False)
    prof.verify()
    rows = function_rows(prof)
    assert sum(r.self_samples for r in rows) == prof.samples  # rows sum to the samples
    counts = {(r.name, r.dso): (r.self_samples, r.total_samples) for r in rows}
    shares: dict[str, float] = {}  # by period as perf report, where the text has periods
    for r in rows:
        shares[r.name] = shares.get(r.name, 0.0) + r.self_pct
    return counts, shares, prof.samples, prof


@pytest.fixture(scope="module")
def baseline(demo: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    script = perf_script(demo["perf_data"], tmp_path_factory.mktemp("base") / "perf.script")
    return _profile(script, demo)


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_gives_the_default_profile_and_perf_reports_shares(
        demo: dict, baseline: tuple[Any, ...], tmp_path: Path, variant: str,
        transform: str) -> None:
    raw = perf_script(demo["perf_data"], tmp_path / "raw.script", *VARIANTS[variant])
    script = tmp_path / "perf.script"
    script.write_text(TRANSFORMS[transform](raw.read_text(errors="surrogateescape")),
                      errors="surrogateescape")
    want, _shares, n, _ = baseline
    got, shares, m, prof = _profile(script, demo)
    assert m == n
    assert got == want
    d = prof.diagnostics
    assert d.unparsed_lines == 0 and d.empty_stacks == 0 and d.perf_warnings == 0
    assert d.jit_samples_resolved_pct == 100.0
    compared = 0
    # perf report weighs by period; a text without the period field weighs 1 per sample
    # (periods of -F 999 cpu-clock are all about 1 ms, so shares differ only slightly)
    tol = TOLERANCE if d.has_period else TOLERANCE_NO_PERIOD
    for name, pct in demo["theirs"].items():
        if pct <= THRESHOLD or name in demo["skip"]:
            continue
        assert abs(shares.get(name, 0.0) - pct) <= tol, (name, shares.get(name), pct)
        compared += 1
    assert compared >= 5


def test_another_hosts_text_keeps_perfs_names_and_says_where_it_was_made(
        demo: dict, baseline: tuple[Any, ...], tmp_path: Path) -> None:
    raw = perf_script(demo["perf_data"], tmp_path / "raw.script", "--header")
    script = tmp_path / "other.script"
    script.write_text(_other_host(raw.read_text(errors="surrogateescape")),
                      errors="surrogateescape")
    want, _shares, n, _ = baseline
    got, shares, m, prof = _profile(script, demo)
    assert (m, got) == (n, want)  # perf named the frames when it printed the text
    assert prof.diagnostics.recorded_on == [
        "host buildbox-7, kernel 4.9.93-linuxkit-aufs, perf "
        + re.search(r"(?m)^# perf version : (.*)$", raw.read_text()).group(1)  # type: ignore[union-attr]
        + ", arch " + re.search(r"(?m)^# arch : (.*)$", raw.read_text()).group(1)]  # type: ignore[union-attr]
    # the frames perf left unnamed would have been named from this host's files/kallsyms:
    # in another host's text they stay unnamed, and the header says why
    stripped = re.sub(r"(?m)^(\s*ffffffff[0-9a-f]+) \S.*? \(\[kernel\.kallsyms\]\)$",
                      r"\1 [unknown] ([kernel.kallsyms])", script.read_text())
    if stripped != script.read_text():
        script.write_text(stripped)
        _c, _s, _m, prof = _profile(script, demo)
        d = prof.diagnostics
        assert d.kernel_frames > 0 and d.kernel_frames_named == 0
        assert any("4.9.93-linuxkit-aufs" in w and "--kallsyms" in w for w in d.warnings)
