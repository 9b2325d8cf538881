"""The one row model (jitprof/present/rows.py): its order on ties, and every output of one
profile (report table, JSON, CSV, top --stdio, the TUI's hot table) listing the same rows."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.export import exporter_named
from jitprof.model import Kind, Profile, ProfileBuilder
from jitprof.present.rows import SORT_KEYS, FunctionRow, function_rows, sort_rows
from jitprof.present.views import HotTable, short_dso
from jitprof.report.profile import top_lines

# (name, kind, dso); interned in the reverse of the order ties are broken in, so a sort
# that leaves ties in the profile's frame order lists them differently
FRAMES = [("z", Kind.NATIVE, "/lib/b.so"), ("z", Kind.NATIVE, "/lib/a.so"),
          ("y", Kind.JIT, "[JIT]"), ("y", Kind.PHP, "[JIT]"), ("x", Kind.NATIVE, "/bin/app"),
          ("w", Kind.NATIVE, "/bin/app"), ("main", Kind.NATIVE, "/bin/app")]


def _ties(order: list[int] | None = None) -> Profile:
    """Every leaf 2 samples of weight 10 under main: z (two dsos), y (two kinds, one dso),
    x called by w, w itself. Self: w 20 (total 40), x y y z z 20 (total 20), main 0
    (total 120). ``order``: the order the frames are interned in."""
    b = ProfileBuilder("cpu-clock")
    ids: dict[int, int] = {}
    for i in order or range(len(FRAMES)):
        name, kind, dso = FRAMES[i]
        ids[i] = b.frame(name, kind, dso)
    zb, za, yj, yp, x, w, m = (ids[i] for i in range(len(FRAMES)))
    t = b.thread(7, "app")
    for stack in ((zb, m), (za, m), (yj, m), (yp, m), (x, w, m), (w, m)):
        b.add(stack, t, 20, 2)
    p = b.finish()
    p.inputs = ["ties.txt"]
    p.verify()
    return p


def _key(r: FunctionRow) -> tuple[object, ...]:
    return (r.name, r.kind.value, r.dso, r.self_weight, r.total_weight, r.self_samples,
            r.total_samples)


SELF_ORDER = [("w", "native", "/bin/app", 20, 40, 2, 4),
              ("x", "native", "/bin/app", 20, 20, 2, 2),
              ("y", "PHP", "[JIT]", 20, 20, 2, 2),  # kind order: PHP before JIT
              ("y", "JIT", "[JIT]", 20, 20, 2, 2),
              ("z", "native", "/lib/a.so", 20, 20, 2, 2),  # then dso
              ("z", "native", "/lib/b.so", 20, 20, 2, 2),
              ("main", "native", "/bin/app", 0, 120, 0, 12)]


def test_ties_are_broken_by_name_dso_kind() -> None:
    p = _ties()
    assert [_key(r) for r in function_rows(p)] == SELF_ORDER
    assert [_key(r) for r in function_rows(p, sort="total")] == [SELF_ORDER[-1],
                                                                 *SELF_ORDER[:-1]]
    assert [r.name for r in function_rows(p, top=2)] == ["w", "x"]
    assert [r.dso for r in function_rows(p, kinds=[Kind.NATIVE]) if r.name == "z"] == [
        "/lib/a.so", "/lib/b.so"]
    pcts = {(r.name, r.kind.value, r.dso): (r.self_pct, r.total_pct) for r in function_rows(p)}
    assert pcts[("w", "native", "/bin/app")] == pytest.approx((100 * 20 / 120, 100 * 40 / 120))


@pytest.mark.parametrize("sort", SORT_KEYS)
def test_the_order_is_total_not_the_interning_order(sort: str) -> None:
    """Whatever order the frames were interned in, the rows come out the same."""
    first = [_key(r) for r in function_rows(_ties(), sort=sort)]
    for order in ([6, 5, 4, 3, 2, 1, 0], [3, 0, 6, 1, 5, 2, 4]):
        assert [_key(r) for r in function_rows(_ties(order), sort=sort)] == first
    rows = function_rows(_ties(), sort=sort)
    assert sort_rows(list(reversed(rows)), sort) == rows


# -- every output lists the same rows -------------------------------------------------------

TABLE_ROW = re.compile(r"^  +(\d+\.\d+)% +(\d+\.\d+)%  +(\d+)  +(\d+)  (\S+) +(\S+)  +(\S.*)$")


def _table(lines: list[str]) -> list[tuple[object, ...]]:
    """(name, kind, short dso, self %, total %, Self#, Total#) of a table's rows."""
    out = []
    for line in lines:
        m = TABLE_ROW.match(line)
        if m:
            sp, tp, ss, ts, kind, dso, name = m.groups()
            out.append((name, kind, dso, sp, tp, int(ss), int(ts)))
    return out


def _shown(rows: list[FunctionRow], weight: int) -> list[tuple[object, ...]]:
    """What a table shows of ``rows``, computed from their counts."""
    return [(r.name, r.kind.value, short_dso(r.dso), f"{100 * r.self_weight / weight:.2f}",
             f"{100 * r.total_weight / weight:.2f}", r.self_samples, r.total_samples)
            for r in rows]


@pytest.fixture(scope="module")
def ties_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tie profile as a jitprof JSON profile: what `jitprof report` reads."""
    path = tmp_path_factory.mktemp("rows") / "ties.json"
    path.write_bytes(exporter_named("json")().render(_ties()))
    return path


def _report(path: Path, *args: str) -> str:
    r = CliRunner().invoke(main, ["report", str(path), "--no-tmp", "--top", "0", *args])
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.parametrize("sort", ["self", "total"])
def test_table_json_csv_top_and_hot_table_agree(ties_json: Path, sort: str) -> None:
    p = _ties()
    rows = function_rows(p, sort=sort)
    assert len(rows) == len(FRAMES)
    shown = _shown(rows, p.weight)
    assert _table(_report(ties_json, "--sort", sort).splitlines()) == shown
    doc = json.loads(_report(ties_json, "--sort", sort, "--format", "json"))
    assert [(f["name"], f["kind"], f["dso"], f["self"], f["total"], f["self_samples"],
             f["total_samples"]) for f in doc["functions"]] == [_key(r) for r in rows]
    assert [(f["self_pct"], f["total_pct"]) for f in doc["functions"]] == [
        (round(r.self_pct, 4), round(r.total_pct, 4)) for r in rows]
    table = list(csv.DictReader(io.StringIO(_report(ties_json, "--sort", sort, "--format",
                                                    "csv"))))
    assert [(c["name"], c["kind"], c["dso"], int(c["self"]), int(c["total"]),
             int(c["self_samples"]), int(c["total_samples"])) for c in table] == [
        _key(r) for r in rows]
    top = top_lines(p, "jitprof top: pid 7 (app); whole run", sort=sort, top=len(FRAMES))
    assert top[0] == "jitprof top: pid 7 (app); whole run; 12 samples; no JIT samples; no map"
    assert _table(top) == shown
    assert _table(top_lines(p, "x", sort=sort, top=3)) == shown[:3]
    hot = HotTable(p).view(sort=sort).rows
    assert [(h.frame.name, h.frame.kind.value, h.frame.dso, h.self_weight, h.total_weight,
             h.self_samples, h.total_samples) for h in hot] == [_key(r) for r in rows]
    assert [(h.self_pct, h.total_pct) for h in hot] == [(r.self_pct, r.total_pct) for r in rows]


class _FakeLive:
    """What `jitprof top --stdio` asks of jitprof.acquire.live.LiveProfiler, serving the
    tie profile as every snapshot."""

    def __init__(self, pids: list[int], **_: object) -> None:
        from types import SimpleNamespace

        info = SimpleNamespace(pid=pids[0], comm="app")
        self.procs = {pids[0]: SimpleNamespace(info=info, map="m", problems=[],
                                               map_source="m")}
        self.latest = 1.0
        self.notes: list[str] = []

    def start(self, **_: object) -> None:
        pass

    def running(self) -> bool:
        return True

    def snapshot(self, window: int | None) -> Profile:
        return _ties()

    def close(self) -> None:
        pass


@pytest.mark.parametrize("sort", ["self", "total"])
def test_top_stdio_prints_the_same_rows(monkeypatch: pytest.MonkeyPatch, sort: str) -> None:
    import jitprof.acquire.live

    monkeypatch.setattr(jitprof.acquire.live, "LiveProfiler", _FakeLive)
    r = CliRunner().invoke(main, ["top", "--pid", "7", "--stdio", "--count", "1",
                                  "--interval", "0.1", "--top", "5", "--sort", sort])
    assert r.exit_code == 0, r.output
    p = _ties()
    assert r.output.startswith("jitprof top: pid 7 (app); whole run; 12 samples; ")
    assert _table(r.output.splitlines()) == _shown(function_rows(p, sort=sort), p.weight)[:5]


async def test_the_tui_hot_table_draws_the_same_rows() -> None:
    from textual.widgets import DataTable

    from jitprof.tui.app import JitprofApp

    p = _ties()
    app = JitprofApp(profile=p)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for sort in ("self", "total"):
            t = app.screen.query_one("#hot-table", DataTable)
            drawn = [tuple(str(c) for c in t.get_row_at(i)) for i in range(t.row_count)]
            want = [(f"{s}%", f"{tp}%", f"{ss:,}", kind, dso, name)
                    for name, kind, dso, s, tp, ss, _ts in _shown(function_rows(p, sort=sort),
                                                               p.weight)]
            assert drawn == want
            await pilot.press("s")  # self -> total
            await pilot.pause()
