"""The CLI: formats, and bad inputs giving one-line errors with documented exit codes."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.errors import EXIT_EMPTY, EXIT_INPUT

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = (
    "php 10/11 1.000000: 3 cpu-clock:\n\t7f0000001010 [unknown] (//anon)\n"
    "\t401000 main+0x1 (/bin/x)\n\n"
    "php 10/11 2.000000: 1 cpu-clock:\n\t401000 main+0x1 (/bin/x)\n\n"
)
MAP = "7f0000001000 100 PHP::Api::run\n"


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), input=input)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    (tmp_path / "perf-10.map").write_text(MAP)
    p = tmp_path / "perf.script"
    p.write_text(SCRIPT)
    return p


def test_table(recording: Path) -> None:
    code, out, _ = run("report", str(recording), "--no-tmp")
    assert code == 0
    assert "samples: 2" in out and "weight: 4 (period)" in out
    assert "map " + str(recording.parent / "perf-10.map") + ": 1 lines, 0 bad" in out
    rows = [ln for ln in out.splitlines() if not ln.startswith("#")]
    assert rows[0].split() == ["75.00%", "75.00%", "1", "1", "PHP", "[JIT]", "PHP::Api::run"]
    assert rows[1].split() == ["25.00%", "100.00%", "1", "2", "native", "x", "main"]
    head = next(ln for ln in out.splitlines() if ln.startswith("#    Self"))
    assert head.split() == ["#", "Self", "Total", "Self#", "Total#", "Kind", "DSO", "Function"]


# four samples, weights 5, 1, 2, 7 (15 in all); callchains leaf first. top_fn is never a
# leaf; rec calls itself (counted once per sample); the weights order the rows differently
# from the sample counts, so a column that mixed the two up would show it.
FN = ["leaf_a", "leaf_b", "mid", "rec", "top_fn", "other"]
TOTALS_SCRIPT = "".join(
    f"p 1/1 {i}.0: {period} cpu-clock:\n"
    + "".join(f"\t{0x401000 + 0x100 * FN.index(f):x} {f}+0x0 (/bin/x)\n" for f in frames)
    + "\n"
    for i, (period, frames) in enumerate([
        (5, ["leaf_a", "mid", "rec", "rec", "top_fn"]),
        (1, ["leaf_b", "rec", "top_fn"]),
        (2, ["rec", "rec", "top_fn"]),
        (7, ["other"]),
    ], 1)
)
# by hand: name -> (self %, total %, self samples, total samples), sorted by total weight
# (ties by self weight)
TOTALS = {
    "rec": ("13.33%", "53.33%", "1", "3"),
    "top_fn": ("0.00%", "53.33%", "0", "3"),
    "other": ("46.67%", "46.67%", "1", "1"),
    "leaf_a": ("33.33%", "33.33%", "1", "1"),
    "mid": ("0.00%", "33.33%", "0", "1"),
    "leaf_b": ("6.67%", "6.67%", "1", "1"),
}


def test_total_samples_column_by_hand(tmp_path: Path) -> None:
    p = tmp_path / "s.txt"
    p.write_text(TOTALS_SCRIPT)
    base = ["report", str(p), "--no-tmp", "--elf-symbols", "never", "--sort", "total"]
    code, out, _ = run(*base)
    assert code == 0, out
    rows = [ln.split() for ln in out.splitlines() if not ln.startswith("#")]
    assert [(r[6], (r[0], r[1], r[2], r[3])) for r in rows] == list(TOTALS.items())
    assert all(r[4:6] == ["native", "x"] for r in rows)
    # JSON and CSV carry the same counts
    code, out, _ = run(*base, "--format", "json")
    assert code == 0
    assert {f["name"]: (f["self_samples"], f["total_samples"], f["self"], f["total"])
            for f in json.loads(out)["functions"]} == {
        "rec": (1, 3, 2, 8), "top_fn": (0, 3, 0, 8), "other": (1, 1, 7, 7),
        "leaf_a": (1, 1, 5, 5), "mid": (0, 1, 0, 5), "leaf_b": (1, 1, 1, 1)}
    code, out, _ = run(*base, "--format", "csv")
    assert code == 0
    assert [(r["name"], r["self_samples"], r["total_samples"])
            for r in csv.DictReader(io.StringIO(out))] == [
        (n, v[2], v[3]) for n, v in TOTALS.items()]


def test_table_columns_widen_for_large_counts() -> None:
    """Counts wider than the headers keep every column apart and the header above them."""
    from jitprof.model import Kind
    from jitprof.present.rows import FunctionRow as Row
    from jitprof.report.profile import table_lines

    rows = [Row("f", Kind.NATIVE, "/usr/lib/a-very-long-library-name.so", 12345678, 123456789,
                12345678, 123456789, 10.0, 100.0),
            Row("g h", Kind.PHP, "[JIT]", 0, 5, 0, 5, 0.0, 0.0)]
    head, *lines = table_lines(rows)
    assert [ln.split(None, 6) for ln in lines] == [
        ["10.00%", "100.00%", "12345678", "123456789", "native", "a-very-long-libra~", "f"],
        ["0.00%", "0.00%", "0", "5", "PHP", "[JIT]", "g h"]]
    for word in ("Self#", "Total#"):  # each count ends under the end of its header
        end = head.index(word) + len(word)
        assert all(ln[end - 1].isdigit() and ln[end] == " " for ln in lines), (head, lines)
    assert head.index("Function") == lines[0].index(" f") + 1 == lines[1].index("g h")


def test_json_contract(recording: Path) -> None:
    code, out, _ = run("report", str(recording), "--no-tmp", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["samples"] == 2 and doc["weight"] == 4 and doc["event"] == "cpu-clock"
    assert doc["functions"][0] == {
        "name": "PHP::Api::run", "kind": "PHP", "dso": "[JIT]", "self": 3, "total": 3,
        "self_samples": 1, "total_samples": 1, "self_pct": 75.0, "total_pct": 75.0}
    assert doc["kinds"]["PHP"] == {"self": 3, "self_samples": 1, "self_pct": 75.0}
    assert doc["diagnostics"]["jit_samples"] == 1
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 100.0
    assert doc["dsos"] == {"[JIT]": {"self": 3, "self_samples": 1, "self_pct": 75.0},
                           "/bin/x": {"self": 1, "self_samples": 1, "self_pct": 25.0}}
    assert list(doc["dsos"]) == ["[JIT]", "/bin/x"]
    assert doc["processes"] == [{"pid": 10, "comm": "php", "weight": 4, "samples": 2,
                                 "pct": 100.0}]


def test_csv(recording: Path) -> None:
    code, out, _ = run("report", str(recording), "--no-tmp", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["name"], r["self"], r["total"]) for r in rows] == [
        ("PHP::Api::run", "3", "3"), ("main", "1", "4")]


def test_stdin_and_gzip(recording: Path, tmp_path: Path) -> None:
    code, out, _ = run("report", "-", "--map", str(recording.parent / "perf-10.map"),
                       "--format", "json", input=SCRIPT)
    assert code == 0 and json.loads(out)["functions"][0]["name"] == "PHP::Api::run"
    gz = tmp_path / "perf.script.gz"
    gz.write_bytes(gzip.compress(SCRIPT.encode()))
    code, out, _ = run("report", str(gz), "--no-tmp", "--format", "json")
    assert code == 0 and json.loads(out)["weight"] == 4


def test_output_file(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, stdout, _ = run("report", str(recording), "--no-tmp", "--format", "json", "-o", str(out))
    assert code == 0 and stdout == "" and json.loads(out.read_text())["weight"] == 4


def _one_line_error(code: int, err: str, expected_code: int, *needles: str) -> None:
    assert code == expected_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jitprof: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_missing_file(tmp_path: Path) -> None:
    code, _, err = run("report", str(tmp_path / "nope.script"))
    _one_line_error(code, err, EXIT_INPUT, "nope.script", "cannot read")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.script"
    p.write_text("")
    code, _, err = run("report", str(p))
    _one_line_error(code, err, EXIT_EMPTY, "empty.script", "empty")


def test_not_perf_output(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("hello world\nthis is a shopping list\neggs\n")
    code, _, err = run("report", str(p))
    _one_line_error(code, err, EXIT_INPUT, "notes.txt:1", "not perf script output")


def test_binary_garbage(tmp_path: Path) -> None:
    p = tmp_path / "perf.data"
    p.write_bytes(b"PERFILE2\x00\x01\x02\xff\xfe" * 50)
    code, _, err = run("report", str(p))
    assert code in (EXIT_INPUT, EXIT_EMPTY)
    _one_line_error(code, err, code, "perf.data")


def test_perf_data_input_goes_through_perf_script(recording: Path, tmp_path: Path) -> None:
    from tests.conftest import require_tools

    require_tools("perf")
    data = tmp_path / "p.data"
    r = subprocess.run(["perf", "record", "-q", "-F", "999", "-g", "-e", "cpu-clock", "-o",
                        str(data), "--", sys.executable, "-c", "sum(range(3000000))"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    code, out, err = run("report", str(data), "--no-tmp", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["samples"] > 0 and doc["inputs"] == [str(data)]


def test_bad_gzip(tmp_path: Path) -> None:
    p = tmp_path / "x.script.gz"
    p.write_bytes(b"not gzip at all")
    code, _, err = run("report", str(p))
    _one_line_error(code, err, EXIT_INPUT, "x.script.gz")


def test_bad_map_lines_counted_or_strict(recording: Path) -> None:
    m = recording.parent / "perf-10.map"
    m.write_text(MAP + "zz 10 broken\n7000 10\n")
    code, out, _ = run("report", str(recording), "--no-tmp")
    assert code == 0 and "2 lines" not in out and "3 lines, 2 bad" in out
    assert f"{m}:2: bad map line" in out
    code, _, err = run("report", str(recording), "--no-tmp", "--strict")
    _one_line_error(code, err, EXIT_INPUT, f"{m}:2", "bad map line")


def test_truncated_script_is_counted(tmp_path: Path, recording: Path) -> None:
    p = tmp_path / "cut.script"
    p.write_text(SCRIPT + "php 10/11 3.0: 5 cpu-clock:\n\t7f0000004010")  # cut mid-line
    code, out, _ = run("report", str(p), "--no-tmp", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["weight"] == 4 and doc["diagnostics"]["truncated_samples"] == 1


def test_unwritable_output_is_a_one_line_error(recording: Path, tmp_path: Path) -> None:
    code, _, err = run("report", str(recording), "--no-tmp", "-o", str(tmp_path / "no" / "x"))
    _one_line_error(code, err, EXIT_INPUT, str(tmp_path / "no" / "x"))


def test_a_bug_is_one_line_not_a_traceback(recording: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    import jitprof.report.profile

    def boom(*a: object, **k: object) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(jitprof.report.profile, "render", boom)
    monkeypatch.delenv("JITPROF_DEBUG", raising=False)
    code, _, err = run("report", str(recording), "--no-tmp")
    assert code == 70 and err.count("\n") == 1 and "internal error" in err
    assert "Traceback" not in err


def test_unknown_kind_is_a_usage_error(recording: Path) -> None:
    code, _, err = run("report", str(recording), "--kind", "rubbish")
    assert code == 2 and "unknown kind" in err


def test_input_files_are_not_modified(recording: Path) -> None:
    m = recording.parent / "perf-10.map"
    before = (recording.read_bytes(), m.read_bytes(), recording.stat().st_mtime_ns)
    run("report", str(recording), "--no-tmp")
    assert (recording.read_bytes(), m.read_bytes(), recording.stat().st_mtime_ns) == before


@pytest.mark.parametrize("argv", [["jitprof", "--help"], [sys.executable, "-m", "jitprof",
                                                          "--help"]])
def test_entry_points(argv: list[str]) -> None:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0 and "report" in r.stdout


def test_core_does_not_import_ui_libraries() -> None:
    code = (
        "import sys, jitprof.model, jitprof.symbols.perfmap, jitprof.parse, jitprof.resolve, "
        "jitprof.report.profile, jitprof.model.names, jitprof.symbols.intervals, "
        "jitprof.present.views\n"
        "bad = [m for m in ('textual', 'rich', 'click') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout + r.stderr


def test_the_choices_listed_by_the_commands_are_the_stages_modes() -> None:
    """Where a command lists a mode's values itself (importing the stage that owns the mode
    would cost every command), the list is that stage's Literal, whole and in order; the
    diff command's formats hold every text format of jitprof.report.diff."""
    from typing import get_args

    from jitprof.commands import diff as diff_cmd
    from jitprof.commands import export as export_cmd
    from jitprof.commands import options
    from jitprof.export import EXPORTERS
    from jitprof.export.base import EXPORT_FORMATS, WEIGHTS
    from jitprof.present.rows import SORT_KEYS
    from jitprof.report import diff as diff_report
    from jitprof.resolve.options import ELF_POLICIES

    assert options.ELF_POLICIES == ELF_POLICIES == ("auto", "always", "never")
    assert set(options.TABLE_SORTS) < set(SORT_KEYS)
    assert export_cmd.EXPORT_FORMATS == EXPORT_FORMATS == tuple(e.name for e in EXPORTERS)
    assert export_cmd.WEIGHTS == WEIGHTS == ("auto", "period", "samples")
    formats = get_args(diff_cmd.DiffFormat)
    assert set(diff_report.FORMATS) < set(formats) and {"svg", "html"} < set(formats)


def test_every_command_that_loads_a_profile_takes_the_same_input_options() -> None:
    """report's options that decide what is read and how frames are named (maps,
    jitdumps, filters, ELF) are accepted, with the same help, by tui, export and diff."""
    from jitprof.commands.diff import diff
    from jitprof.commands.export import export_cmd
    from jitprof.commands.report import report
    from jitprof.commands.tui import tui

    input_names = {"maps", "map_dirs", "no_tmp", "jitdumps", "pids", "comms", "event",
                   "strict", "jobs", "symfs", "binaries", "proc_maps", "kallsyms",
                   "elf_policy", "perf_data"}

    def opts(cmd: object) -> dict[str, tuple[tuple[str, ...], str | None]]:
        return {p.name: (tuple(p.opts), getattr(p, "help", None))  # type: ignore[attr-defined]
                for p in cmd.params if p.name in input_names}  # type: ignore[attr-defined]

    want = opts(report)
    assert set(want) == input_names
    for cmd in (tui, export_cmd, diff):
        assert opts(cmd) == want, cmd


def test_json_report_rendered_row_by_row_is_the_documents_json_dumps() -> None:
    """to_json writes the functions one at a time into the text: the result is exactly
    json.dumps of the whole document (indent 1), for rows and for none."""
    import json

    from jitprof.present.rows import function_rows
    from jitprof.report.profile import to_json
    from jitprof.resolve import load_profile

    p = load_profile([str(ROOT / "samples" / "hhvm-demo" / "slow" / "perf.script.gz")],
                     search_tmp=False)
    rows = function_rows(p)
    assert len(rows) > 20
    for part in (rows, rows[:1], []):
        text = to_json(p, part)
        doc = json.loads(text)
        assert len(doc["functions"]) == len(part)
        assert text == json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
