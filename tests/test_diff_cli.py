"""jitprof diff on the command line: sides, formats, output files, errors."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main


def _script(pid: int, base: int, counts: dict[str, int], t0: float = 1.0) -> str:
    """A perf script text: ``counts`` samples of leaves (a JIT function at base+0x10, or
    native ``memcpy``) under ``main``, spread one per 10 ms from ``t0``."""
    out = []
    t = t0
    for leaf, n in counts.items():
        for _ in range(n):
            frame = (f"\t{base + 0x10:x} [unknown] (/tmp/perf-{pid}.map)\n" if leaf == "jit"
                     else "\t7f00000a1000 memcpy+0x1 (/usr/lib/libc.so.6)\n")
            out.append(f"php {pid}/{pid} {t:.6f}: 1000000 cpu-clock:\n{frame}"
                       "\t401000 main+0x1 (/usr/bin/php)\n\n")
            t += 0.01
    return "".join(out)


@pytest.fixture
def sides(tmp_path: Path) -> tuple[Path, Path, Path]:
    """before (pid 10: jit 30, memcpy 10), after (pid 20: jit 5, memcpy 35), a second
    after (pid 30: jit 7, memcpy 33); every process maps PHP::run at its own base."""
    paths = []
    for name, pid, base, counts in (("b", 10, 0x7F0000001000, {"jit": 30, "memcpy": 10}),
                                    ("a", 20, 0x7F5500002000, {"jit": 5, "memcpy": 35}),
                                    ("a2", 30, 0x7F6600003000, {"jit": 7, "memcpy": 33})):
        d = tmp_path / name
        d.mkdir()
        (d / f"perf-{pid}.map").write_text(f"{base:x} 100 PHP::run\n")
        p = d / "perf.script"
        p.write_text(_script(pid, base, counts))
        paths.append(p)
    return paths[0], paths[1], paths[2]


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_table_pairs_jit_functions_across_pids(sides: tuple[Path, Path, Path]) -> None:
    b, a, _ = sides
    code, out, _ = run("diff", str(b), str(a), "--no-tmp")
    assert code == 0, out
    # 40 samples each side, 0.39 s: too short for the bootstrap, which says so
    assert "# method: binomial, samples taken as independent: no bootstrap, recordings too " \
           "short" in out
    row = next(ln for ln in out.splitlines() if ln.endswith(" PHP::run"))
    assert row.split()[:3] == ["75.00%", "12.50%", "-62.50"] and " down " in row
    assert "[new]" not in out and "[gone]" not in out


def test_several_inputs_per_side_merge(sides: tuple[Path, Path, Path]) -> None:
    b, a, a2 = sides
    code, out, _ = run("diff", "-b", str(b), "-a", str(a), "-a", str(a2), "--no-tmp",
                       "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["after"]["runs"] == 2 and doc["after"]["samples"] == 80
    assert doc["after"]["inputs"] == [str(a), str(a2)]
    f = next(x for x in doc["functions"] if x["name"] == "PHP::run")
    assert f["self_samples"] == [30, 12] and f["dso"] == "[JIT]"
    assert f["self_pct"] == [75.0, 15.0]
    assert f["self_ms"] == [30.0, 12.0]  # cpu-clock periods are nanoseconds
    assert doc["method"] == "binomial"  # one recording before: no runs method
    code, _, err = run("diff", "-b", str(b), "-a", str(a), "-a", str(a2), "--no-tmp",
                       "--method", "runs")
    assert code == 2 and "two recordings on each side" in err


def test_csv_and_output_file_formats(sides: tuple[Path, Path, Path], tmp_path: Path) -> None:
    b, a, _ = sides
    code, out, _ = run("diff", str(b), str(a), "--no-tmp", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["name"] == "PHP::run" and rows[0]["verdict"] == "down"
    assert (rows[0]["self_before"], rows[0]["self_after"]) == ("30", "5")
    for ext, check in ((".json", lambda t: json.loads(t)["by"] == "self"),
                       (".csv", lambda t: t.startswith("name,kind,dso,status")),
                       (".folded", lambda t: "main;PHP::run 30 5\n" in t),
                       (".txt", lambda t: t.startswith("# before:"))):
        target = tmp_path / f"out{ext}"
        code, out, _ = run("diff", str(b), str(a), "--no-tmp", "-o", str(target))
        assert code == 0 and out == ""
        assert check(target.read_text()), ext


def test_difffolded_is_what_flamegraph_reads(sides: tuple[Path, Path, Path]) -> None:
    b, a, _ = sides
    code, out, _ = run("diff", str(b), str(a), "--no-tmp", "--format", "difffolded")
    assert code == 0
    assert out == "main;PHP::run 30 5\nmain;memcpy 10 35\n"
    # flamegraph.pl takes the last number, then (differential) the one before it
    for line in out.splitlines():
        m = re.match(r"^(.*)\s+?(\d+(?:\.\d*)?)$", line)
        assert m is not None
        m2 = re.match(r"^(.*)\s+?(\d+(?:\.\d*)?)$", m.group(1))
        assert m2 is not None and ";" in m2.group(1)


def test_per_unit_and_rate(sides: tuple[Path, Path, Path]) -> None:
    b, a, _ = sides
    code, out, _ = run("diff", str(b), str(a), "--no-tmp", "--per", "10,100", "--format",
                       "json")
    assert code == 0
    doc = json.loads(out)
    f = next(x for x in doc["functions"] if x["name"] == "PHP::run")
    assert (f["before"]["value"], f["after"]["value"]) == (3.0, 0.05)
    assert doc["normalize"] == {"mode": "per", "unit": "samples/unit",
                                "delta_unit": "samples/unit", "units": [10.0, 100.0]}
    code, out, _ = run("diff", str(b), str(a), "--no-tmp", "--normalize", "rate", "--format",
                       "json")
    doc = json.loads(out)
    f = next(x for x in doc["functions"] if x["name"] == "PHP::run")
    assert f["before"]["value"] == pytest.approx(30 / 0.39)  # 40 samples 10 ms apart


@pytest.mark.parametrize(("args", "message"), [
    (["ONE"], "two inputs"),
    (["B", "A", "-a", "X"], "not both"),
    (["-b", "B"], "both sides"),
    (["B", "A", "--normalize", "per"], "--per N"),
    (["B", "A", "--per", "0,5"], "positive"),
    (["B", "A", "--per", "x"], "positive"),
    (["B", "A", "--per", "5", "--normalize", "rate"], "--per goes with"),
])
def test_usage_errors(sides: tuple[Path, Path, Path], args: list[str], message: str) -> None:
    b, a, _ = sides
    args = [str(b) if x == "B" else str(a) if x == "A" else x for x in args]
    code, _, err = run("diff", *args, "--no-tmp")
    assert code == 2 and message in err


def test_bad_input_is_one_line(sides: tuple[Path, Path, Path], tmp_path: Path) -> None:
    b, _, _ = sides
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n")
    code, _, err = run("diff", str(b), str(junk), "--no-tmp")
    assert code == 1 and err.count("\n") == 1 and str(junk) in err
    code, _, err = run("diff", str(b), str(tmp_path / "missing"), "--no-tmp")
    assert code == 1 and "missing" in err and err.count("\n") == 1


def test_saved_json_profile_as_input(sides: tuple[Path, Path, Path], tmp_path: Path) -> None:
    b, a, _ = sides
    saved = tmp_path / "before.json"
    code, _, err = run("export", str(b), "--no-tmp", "-o", str(saved))
    assert code == 0, err
    code, out, _ = run("diff", str(saved), str(a), "--no-tmp", "--format", "json",
                       "--method", "bootstrap")
    assert code == 0
    doc = json.loads(out)
    f = next(x for x in doc["functions"] if x["name"] == "PHP::run")
    assert f["self_samples"] == [30, 5]  # the same numbers as from the text
    assert doc["method"] == "binomial"
    assert "kept no per-sample time (a saved profile" in doc["method_note"]


def test_json_keys_are_the_documented_contract(sides: tuple[Path, Path, Path]) -> None:
    b, a, _ = sides
    code, out, _ = run("diff", str(b), str(a), "--no-tmp", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"jitprof", "before", "after", "by", "normalize", "method",
                        "method_note", "alpha", "confidence", "df", "functions_compared",
                        "kinds", "functions"}
    assert set(doc["before"]) == {"inputs", "runs", "event", "samples", "weight", "span",
                                  "cpu_ms", "exposure"}
    cmp_keys = {"before", "after", "delta", "delta_lo", "delta_hi", "ratio", "p", "q",
                "verdict"}
    assert set(doc["kinds"][0]) == cmp_keys | {"kind", "self_samples", "self_ms", "top",
                                               "top_self_delta"}
    assert set(doc["functions"][0]) == cmp_keys | {
        "name", "kind", "dso", "status", "self_samples", "total_samples", "self_ms",
        "total_ms", "self_pct", "total_pct", "self_delta"}
    assert set(doc["functions"][0]["before"]) == {"count", "value", "lo", "hi",
                                                  "design_effect"}
    # the diff's page (docs/diff.md, once the README's) lists the same keys
    page = (Path(__file__).resolve().parent.parent / "docs" / "diff.md").read_text()
    section = page[:page.index("## The diff view")]
    for key in ("inputs, runs, event, samples, weight, span, cpu_ms, exposure",
                "mode, unit, delta_unit, units", "count, value, lo, hi, design_effect",
                "functions_compared", "self_delta", "top_self_delta"):
        assert key in section, key
