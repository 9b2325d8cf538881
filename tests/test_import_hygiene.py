"""Core modules never import textual, rich or click; the CLI imports textual only to run the
TUI (so `jitprof report` does not pay for it). Every module is found, none listed by hand."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import jitprof

ROOT = Path(__file__).resolve().parent.parent
UI = ("textual", "rich", "click")


def _core_modules() -> list[str]:
    out = []
    for m in pkgutil.walk_packages(jitprof.__path__, "jitprof."):
        name = m.name
        if name in ("jitprof.cli", "jitprof.__main__") or name.startswith("jitprof.tui"):
            continue
        out.append(name)
    return sorted(out)


def _imported(modules: list[str]) -> list[str]:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + f"print(','.join(m for m in {UI!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return [m for m in r.stdout.strip().split(",") if m]


def test_core_modules_import_no_ui_library() -> None:
    core = _core_modules()
    assert "jitprof.views" in core and "jitprof.model" in core and len(core) >= 10
    assert _imported(core) == []


def test_cli_imports_textual_only_for_the_tui() -> None:
    assert "textual" not in _imported(["jitprof.cli"])
    assert "textual" in _imported(["jitprof.tui.app"])


def test_the_profile_tui_imports_no_live_record_or_diff_machinery() -> None:
    """`jitprof tui` pays for what it shows: not the live profiler, the recorder, the
    comparison or their apps (each app's messages live beside it)."""
    code = ("import sys\nimport jitprof.tui.app\n"
            "print(','.join(sorted(m for m in sys.modules if m.startswith('jitprof.'))))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    loaded = set(r.stdout.strip().split(","))
    assert "jitprof.timeline" in loaded and "jitprof.views" in loaded  # it did import
    heavy = ("jitprof.live", "jitprof.liveview", "jitprof.record", "jitprof.diff",
             "jitprof.diffviews", "jitprof.diffreport", "jitprof.mapwatch", "jitprof.proc",
             "jitprof.tui.diff", "jitprof.tui.live", "jitprof.tui.diffmessages",
             "jitprof.tui.livemessages", "jitprof.script", "jitprof.parse", "jitprof.resolve")
    assert [m for m in sorted(loaded) if m in heavy or m.startswith(tuple(
        h + "." for h in heavy))] == []


# -- the pipeline's stages import only upstream: inputs -> parse -> symbols -> resolve ->
# model <- (analysis, present, report, export, tui); read from the source, not by import
# side effects, so a lazy import inside a function counts too
_ALLOWED = {
    "jitprof.model": {"jitprof.model", "jitprof.errors"},
    "jitprof.parse": {"jitprof.parse", "jitprof.model", "jitprof.errors", "jitprof.names",
                      "jitprof.recording"},
    # resolve reads inputs (bundles, JSON profiles), parses them and names frames from the
    # symbol tables (maps, jitdumps, ELF, kallsyms); never views, reports or the UI
    "jitprof.resolve": {"jitprof.resolve", "jitprof.parse", "jitprof.model", "jitprof.errors",
                        "jitprof.names", "jitprof.recording", "jitprof.perfmap",
                        "jitprof.intervals", "jitprof.jitdump", "jitprof.jittime",
                        "jitprof.symbolize", "jitprof.elfsym", "jitprof.demangle",
                        "jitprof.bundle", "jitprof.profilefile", "jitprof.merge"},
}


def _jitprof_imports(path: Path) -> set[str]:
    import ast

    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jitprof"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("jitprof"))
    return out


def _stage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_stages_import_only_upstream() -> None:
    bad = []
    checked = 0
    for pkg, allowed in _ALLOWED.items():
        for path in sorted((ROOT / pkg.replace(".", "/")).glob("*.py")):
            checked += 1
            for mod in _jitprof_imports(path):
                if _stage(mod) not in allowed:
                    bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert checked >= 12
    assert bad == []
