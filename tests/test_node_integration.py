"""A real JIT: node --perf-basic-prof recorded with perf in the test run, jitprof vs perf report."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from tests.conftest import perf_record, perf_script, require_tools
from tests.nativecheck import assert_native_equals_script
from tests.perfreport import check_shares, map_lines, overlapping_names, perf_children
from tests.workloads import node_loop

REGEX_WORK = r"""
function regexWork(k) {
  const re = /([a-z]+)(\d+)/g; let n = 0;
  const text = "abc123 def456 ghi789 ".repeat(200);
  for (let r = 0; r < k; r++) { for (const m of text.matchAll(re)) n += m[2].length; }
  return n;
}
"""
WORK_JS = node_loop(1500, "t += fib(22); t += sortMany(2); t += regexWork(20);", REGEX_WORK)


@pytest.fixture(scope="module")
def node_recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    require_tools("perf", "node")
    out = tmp_path_factory.mktemp("node")
    (out / "work.js").write_text(WORK_JS)
    data = out / "perf.data"
    perf_record(["node", "--perf-basic-prof", str(out / "work.js")], data, cwd=out)
    script = perf_script(data, out / "perf.script")
    pids = {int(p.name[5:-4]) for p in Path("/tmp").glob("perf-*.map")}
    text = script.read_text(errors="replace")
    pid = next(p for p in sorted(pids) if f"/tmp/perf-{p}.map" in text)
    shutil.copy(f"/tmp/perf-{pid}.map", out / f"perf-{pid}.map")
    try:
        # perf report, the oracle, finds node's map only in /tmp: it stays for this module
        yield {"data": data, "script": script, "map": out / f"perf-{pid}.map", "pid": pid}
    finally:
        Path(f"/tmp/perf-{pid}.map").unlink(missing_ok=True)


def node_json(node_recording: dict, *extra: str, script: Path | None = None) -> dict:
    res = CliRunner().invoke(main, ["report", str(script or node_recording["script"]), "--map",
                                    str(node_recording["map"]), "--no-tmp", "--top", "0",
                                    "--format", "json", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_node_matches_perf_report(node_recording: dict) -> None:
    doc = node_json(node_recording)
    ours = {f["name"]: (f["self_pct"], f["total_pct"]) for f in doc["functions"]}
    skip = overlapping_names(map_lines(node_recording["map"]))
    # self: every name and DSO above 0.5% on either side, the sum over all rows bounded
    check_shares(doc, node_recording["data"], skip)
    dup: set[str] = set()
    theirs_children = perf_children(node_recording["data"], dup)
    compared = 0
    for name in {*theirs_children, *ours}:
        if name in skip or name in dup or name.startswith("["):
            continue
        total = theirs_children.get(name, (0.0, 0.0))[0]
        mine = ours.get(name, (0.0, 0.0))[1]
        if max(total, mine) > 0.5:
            assert abs(mine - total) <= 0.1, (name, ours.get(name), total)
            compared += 1
    assert compared >= 10
    # the JS functions hot by construction are named from the map
    hot = " ".join(n for n, (s, t) in ours.items() if t > 1.0)
    for fn in ("fib", "sortMany", "regexWork"):
        assert "JS:" in hot and fn in hot, fn
    assert doc["diagnostics"]["jit_samples_resolved_pct"] >= 95.0


def test_node_processes_match_perf_report(node_recording: dict, tmp_path: Path) -> None:
    """Per process (perf's --sort pid,sym, its threads summed): node's worker threads
    belong to node's process. perf script's default header has the tid alone; the task
    events tell which process a thread is in."""
    script = perf_script(node_recording["data"], tmp_path / "tasks.script",
                         "--show-mmap-events", "--show-task-events")
    doc = node_json(node_recording, script=script)
    assert len(doc["processes"]) == 1 and doc["diagnostics"]["unknown_thread_tids"] == []
    check_shares(doc, node_recording["data"], overlapping_names(map_lines(node_recording["map"])),
                 per_pid=lambda pid: node_json(node_recording, "--pid", str(pid), script=script))


def test_node_native_reader_equals_perf_script(node_recording: dict) -> None:
    """Issue 15: node's perf.data read natively gives the perf script path's profile, and
    perf report's shares by name, DSO and process (the native reader has the task events)."""
    rec = node_recording
    assert_native_equals_script(rec["data"], "node", maps=[str(rec["map"])], search_tmp=False)
    doc = node_json(rec, "--perf-data-reader", "native", script=rec["data"])
    assert len(doc["processes"]) == 1 and doc["diagnostics"]["unknown_thread_tids"] == []
    check_shares(doc, rec["data"], overlapping_names(map_lines(rec["map"])),
                 per_pid=lambda pid: node_json(rec, "--perf-data-reader", "native", "--pid",
                                               str(pid), script=rec["data"]))


@pytest.fixture(autouse=True, scope="module")
def _cleanup_node_maps() -> object:
    before = set(os.listdir("/tmp"))
    yield
    for name in set(os.listdir("/tmp")) - before:
        if name.startswith("perf-") and name.endswith(".map"):
            Path("/tmp", name).unlink(missing_ok=True)
