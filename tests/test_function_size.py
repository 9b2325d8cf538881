"""Function size: no function over 80 lines or with more than 8 parameters (issue 18).

The house style (shared/STYLE.md) wants small steps that return values; a long function is
allowed only for a per-sample/per-record hot loop where splitting costs measurable time, and
then the def carries a marker comment that says why: `# hot loop: <reason>` on the def's line
or the line above it (above any decorators).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "jitprof"
MAX_LINES = 80
MAX_PARAMS = 8  # not counting self/cls
MARKER = re.compile(r"#\s*hot loop:\s*(?P<reason>\S.*)$")

# Generated code: protoc's output is not ours to shape.
GENERATED = {"export/profile_pb2.py"}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    name: str
    lines: int
    params: int
    marker: str | None  # the hot-loop reason, if the def carries one

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.name}: {self.lines} lines, {self.params} params"


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return len([n for n in names if n not in ("self", "cls")])


def _marker(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    candidates = [lines[node.lineno - 1]]
    if first >= 2:
        candidates.append(lines[first - 2])
    for text in candidates:
        found = MARKER.search(text)
        if found:
            return found.group("reason").strip()
    return None


def check_source(source: str, path: str = "<src>") -> list[Violation]:
    """Every function in `source` over MAX_LINES lines or MAX_PARAMS parameters."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        params = _params(node)
        if length > MAX_LINES or params > MAX_PARAMS:
            found.append(
                Violation(path, node.lineno, node.name, length, params, _marker(lines, node))
            )
    return found


def _sources() -> list[Path]:
    return [p for p in sorted(ROOT.rglob("*.py"))
            if p.relative_to(ROOT).as_posix() not in GENERATED]


def _all_violations() -> list[Violation]:
    found = []
    for path in _sources():
        found += check_source(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    return found


def test_no_long_or_wide_function_without_a_hot_loop_reason() -> None:
    bad = [v for v in _all_violations() if v.marker is None]
    assert not bad, "split these into small steps (or an options object):\n" + "\n".join(
        map(str, bad)
    )


def test_hot_loop_exemptions_are_long_loops_not_wide_signatures() -> None:
    # A hot loop may be long; it never needs more than MAX_PARAMS parameters.
    wide = [v for v in _all_violations() if v.marker is not None and v.params > MAX_PARAMS]
    assert not wide, "\n".join(map(str, wide))


def marker_problems(source: str, path: str = "<src>") -> list[str]:
    """Hot-loop markers on functions that are not long (stale: the exemption list must
    stay honest) or whose reason is a word or two."""
    lines = source.splitlines()
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        reason = _marker(lines, node)
        if reason is None:
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length <= MAX_LINES:
            out.append(f"{path}:{node.lineno} {node.name}: stale hot-loop marker")
        if len(reason.split()) < 3:
            out.append(f"{path}:{node.lineno} {node.name}: give the reason")
    return out


def test_hot_loop_markers_give_a_reason_and_mark_only_long_functions() -> None:
    bad = [m for p in _sources()
           for m in marker_problems(p.read_text(encoding="utf-8"), p.relative_to(ROOT).as_posix())]
    assert not bad, "\n".join(bad)


def test_marker_check_catches_stale_and_reasonless_markers() -> None:
    short = "# hot loop: per sample, a call costs 8%\ndef f():\n    return 1\n"
    assert marker_problems(short) == ["<src>:2 f: stale hot-loop marker"]
    terse = _long_function("g", "# hot loop: fast\n")
    assert marker_problems(terse) == ["<src>:2 g: give the reason"]
    assert marker_problems(_long_function("h", "# hot loop: per sample, a call costs 8%\n")) == []


def _long_function(name: str, marker: str = "") -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES))
    return f"{marker}def {name}():\n{body}    return x0\n"


def test_checker_catches_a_long_function() -> None:
    found = check_source(_long_function("long_one"))
    assert [(v.name, v.lines, v.marker) for v in found] == [("long_one", MAX_LINES + 2, None)]


def test_checker_accepts_exactly_the_limits() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES - 1))
    params = ", ".join(f"a{i}" for i in range(MAX_PARAMS))
    assert check_source(f"def ok(self, {params}):\n{body}") == []


def test_checker_catches_too_many_parameters() -> None:
    source = (
        "class C:\n"
        "    def wide(self, a, b, c, d, e, f, g, *rest, h=1, **kw):\n"
        "        return a\n"
        "async def plain(a, b, c, d, e, f, g, h, i):\n"
        "    return a\n"
    )
    found = check_source(source)
    assert sorted((v.name, v.params) for v in found) == [("plain", 9), ("wide", 10)]


@pytest.mark.parametrize("where", ["above", "same line"])
def test_checker_reads_the_hot_loop_marker(where: str) -> None:
    if where == "above":
        source = _long_function("loop", "# hot loop: per sample, a call costs 8%\n")
    else:
        source = _long_function("loop").replace(
            "def loop():", "def loop():  # hot loop: per sample, a call costs 8%"
        )
    (found,) = check_source(source)
    assert found.marker == "per sample, a call costs 8%"
    assert check_source(_long_function("loop", "# hot loop:\n"))[0].marker is None
