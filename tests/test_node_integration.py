"""A real JIT: node --perf-basic-prof recorded with perf in the test run, jitprof vs perf report."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.cli import main
from tests.conftest import perf_record, perf_script, require_tools
from tests.perfreport import map_lines, overlapping_names, perf_children, perf_self
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


def test_node_matches_perf_report(node_recording: dict) -> None:
    res = CliRunner().invoke(main, ["report", str(node_recording["script"]), "--map",
                                    str(node_recording["map"]), "--no-tmp", "--top", "0",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    ours = {f["name"]: (f["self_pct"], f["total_pct"]) for f in doc["functions"]}
    skip = overlapping_names(map_lines(node_recording["map"]))
    theirs_self = perf_self(node_recording["data"])
    theirs_children = perf_children(node_recording["data"])
    compared = 0
    for name, pct in theirs_self.items():
        if pct > 0.5 and name not in skip:
            assert abs(ours[name][0] - pct) <= 0.1, (name, ours.get(name), pct)
            compared += 1
    for name, (total, _self) in theirs_children.items():
        if total > 0.5 and name not in skip:
            assert abs(ours[name][1] - total) <= 0.1, (name, ours.get(name), total)
            compared += 1
    assert compared >= 10
    # the JS functions hot by construction are named from the map
    hot = " ".join(n for n, (s, t) in ours.items() if t > 1.0)
    for fn in ("fib", "sortMany", "regexWork"):
        assert "JS:" in hot and fn in hot, fn
    assert doc["diagnostics"]["jit_samples_resolved_pct"] >= 95.0


@pytest.fixture(autouse=True, scope="module")
def _cleanup_node_maps() -> object:
    before = set(os.listdir("/tmp"))
    yield
    for name in set(os.listdir("/tmp")) - before:
        if name.startswith("perf-") and name.endswith(".map"):
            Path("/tmp", name).unlink(missing_ok=True)
