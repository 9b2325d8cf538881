"""Core modules never import textual, rich or click; the commands import textual only to
run the TUI (so `jitprof report` does not pay for it). Every module is found, none listed by
hand."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import jitprof
import jitprof.commands

ROOT = Path(__file__).resolve().parent.parent
UI = ("textual", "rich", "click")


def _core_modules() -> list[str]:
    out = []
    for m in pkgutil.walk_packages(jitprof.__path__, "jitprof."):
        name = m.name
        if name in ("jitprof.cli", "jitprof.__main__") or name.startswith(
                ("jitprof.tui", "jitprof.commands")):
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
    assert "jitprof.present.views" in core and "jitprof.model" in core and len(core) >= 10
    assert _imported(core) == []


def test_cli_imports_textual_only_for_the_tui() -> None:
    assert "textual" not in _imported(["jitprof.cli"])
    commands = [m.name for m in pkgutil.walk_packages(jitprof.commands.__path__,
                                                      "jitprof.commands.")]
    assert "jitprof.commands.tui" in commands and len(commands) >= 10
    assert "textual" not in _imported(["jitprof.commands", *commands])
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
    assert "jitprof.present.timeline" in loaded and "jitprof.present.views" in loaded
    heavy = ("jitprof.acquire", "jitprof.analysis", "jitprof.present.liveview",
             "jitprof.present.diffviews", "jitprof.report.diff", "jitprof.tui.diff",
             "jitprof.tui.live", "jitprof.tui.diffmessages", "jitprof.tui.livemessages",
             "jitprof.parse", "jitprof.resolve")
    assert [m for m in sorted(loaded) if m in heavy or m.startswith(tuple(
        h + "." for h in heavy))] == []


# -- the pipeline's stages import only upstream, in this order (errors and model are shared
# by all; model imports only errors). Read from the source, not by import side effects, so a
# lazy import inside a function counts too; ``from jitprof import x`` counts as jitprof.x.
STAGES = ("inputs", "parse", "symbols", "resolve", "acquire", "analysis", "present", "report",
          "export", "tui", "commands")
SHARED = ("errors", "model")
# what reads and names raw samples; the stages that take a finished Profile (or a live
# stream of them) never import it: the UI and the reports only read the profile model
READING = ("parse", "symbols", "resolve")
PROFILE_SIDE = ("analysis", "present", "report", "export", "tui")
# the top-level modules that are not a stage: the package itself, the entry points
TOP = ("__init__", "__main__", "cli")


def _jitprof_imports(path: Path) -> set[str]:
    import ast

    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and (
                node.module == "jitprof" or node.module.startswith("jitprof.")):
            if node.module == "jitprof":
                out.update(f"jitprof.{a.name}" for a in node.names)
            else:
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names
                       if a.name == "jitprof" or a.name.startswith("jitprof."))
    return out


def _stage_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _violations(stage: str, imported: set[str]) -> list[str]:
    """The imports a module of ``stage`` may not make: it may import its own stage, the
    shared modules and earlier stages (errors nothing, model only errors), and the stages
    that take a finished Profile never the reading stages."""
    if stage in SHARED:
        allowed = set(SHARED[:SHARED.index(stage) + 1])
    else:
        allowed = set(SHARED) | {stage} | set(STAGES[:STAGES.index(stage)])
    if stage in PROFILE_SIDE:
        allowed -= set(READING)
    return sorted(m for m in imported
                  if _stage_of(m) not in allowed and m != "jitprof.__version__")


def test_every_module_belongs_to_a_stage() -> None:
    pkg = ROOT / "jitprof"
    stray = [str(p.relative_to(ROOT)) for p in pkg.glob("*.py")
             if p.stem not in TOP and p.stem not in SHARED]
    dirs = sorted(d.name for d in pkg.iterdir() if (d / "__init__.py").exists())
    assert stray == []
    assert [d for d in dirs if d not in STAGES and d not in SHARED] == []


def test_stages_import_only_upstream() -> None:
    bad = []
    checked = 0
    for stage in (*SHARED, *STAGES):
        paths = ([ROOT / "jitprof" / "errors.py"] if stage == "errors"
                 else sorted((ROOT / "jitprof" / stage).rglob("*.py")))
        for path in paths:
            if not path.exists():
                continue
            checked += 1
            bad += [f"{path.relative_to(ROOT)} imports {m}"
                    for m in _violations(stage, _jitprof_imports(path))]
    assert checked >= 60
    assert bad == []


def test_the_stage_check_can_fail() -> None:
    """The rule itself: a view importing the parser, the model importing a view, a parser
    importing the resolver and ``from jitprof import stats`` in symbols are all caught."""
    assert _violations("present", {"jitprof.parse.reader"}) == ["jitprof.parse.reader"]
    assert _violations("tui", {"jitprof.symbols.perfmap"}) == ["jitprof.symbols.perfmap"]
    assert _violations("report", {"jitprof.tui.app"}) == ["jitprof.tui.app"]
    assert _violations("model", {"jitprof.present.views"}) == ["jitprof.present.views"]
    assert _violations("parse", {"jitprof.resolve.build", "jitprof.inputs.bundle"}) == [
        "jitprof.resolve.build"]
    assert _violations("errors", {"jitprof.model"}) == ["jitprof.model"]
    assert _violations("symbols", {"jitprof.analysis"}) == ["jitprof.analysis"]
    assert _violations("tui", {"jitprof.present.views", "jitprof.model", "jitprof.errors"}) == []
