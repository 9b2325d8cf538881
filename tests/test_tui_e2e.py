"""End to end: `jitprof demo` in a real terminal (tmux), driven by keys, read by capture-pane."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tools

ROOT = Path(__file__).resolve().parent.parent


class Tmux:
    """One tmux server on a private socket (under tmp_path, so nothing stays in /tmp)."""

    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                              text=True, timeout=30)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "demo").stdout

    def wait_for(self, ok: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if ok(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{what} not on the screen after {timeout} s:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    require_tools("tmux")
    t = Tmux(tmp_path / "tmux.sock")
    try:
        yield t
    finally:
        t("kill-server")


def test_demo_in_a_terminal(tmux: Tmux) -> None:
    env = f"PYTHONPATH={ROOT}" + (
        os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    r = tmux("new-session", "-d", "-s", "demo", "-x", "120", "-y", "40", "-c", str(ROOT),
             "-e", env, sys.executable, "-m", "jitprof", "demo")
    assert r.returncode == 0, r.stderr
    # the first screen: the hot functions of the slow sample, f_sort on top
    def first_screen(s: str) -> bool:  # (the pane can be caught mid-resize or half drawn)
        return ("2,002 samples" in s and "map perf-14089.map: 8 lines" in s
                and any("58.14%" in ln and "HPHP::f_sort" in ln for ln in s.splitlines()))

    screen = tmux.wait_for(first_screen, "the first screen (status bar, f_sort's row)")
    lines = screen.splitlines()
    assert "2,002 samples" in screen and "map perf-14089.map: 8 lines" in screen
    first_row = next(ln for ln in lines if "%" in ln and "HPHP" in ln and "::" in ln)
    assert "58.14%" in first_row and "HPHP::f_sort" in first_row
    # the flame graph, 8 x down (the heaviest callee) and zoom, typed in one go: keys typed
    # ahead of the tab switch must reach the flame graph
    tmux("send-keys", "-t", "demo", "4", *["Down"] * 8, "Enter")
    screen = tmux.wait_for(lambda s: "› HPHP::f_sort" in s, "the zoomed flame graph")
    assert "total 58.39% · self 58.14% · 1,169 samples · HPHP · /work" in screen
    tmux("send-keys", "-t", "demo", "?")
    tmux.wait_for(lambda s: "Everywhere" in s and "Command palette" in s, "the help")
    tmux("send-keys", "-t", "demo", "Escape")
    tmux.wait_for(lambda s: "Everywhere" not in s, "the help closing")
    # relative mode with a kind filter: PHP's totals are shares of the samples through
    # a PHP function, none over 100% (issue 14, item 4)
    tmux("send-keys", "-t", "demo", "1", "k", "%")
    screen = tmux.wait_for(lambda s: "kind PHP" in s and "through the shown" in s,
                           "relative percentages of PHP functions", timeout=20)
    rows = [ln.split() for ln in screen.splitlines()
            if " PHP " in ln and "[JIT]" in ln and ln.split()[0].endswith("%")]
    assert rows and all(float(r[1].rstrip("%")) <= 100.0 for r in rows), rows
    assert any(r[1] == "100.00%" for r in rows)  # respond: every such sample passes it
    # the timeline: a range of the first 20 cells filters the table and says so
    tmux("send-keys", "-t", "demo", "x", "t", "Home", "Enter", *["Right"] * 19, "Enter")
    screen = tmux.wait_for(lambda s: "a range of the 2.51 s" in s and "time 945." in s,
                           "the range in the status line", timeout=20)
    samples = int(screen.split(" samples", 1)[0].split()[-1].replace(",", ""))
    assert 0 < samples < 2002
    # ctrl+c quits, as in perf report, less and htop
    tmux("send-keys", "-t", "demo", "C-c")
    end = time.monotonic() + 20
    while tmux("has-session", "-t", "demo").returncode == 0 and time.monotonic() < end:
        time.sleep(0.2)
    assert tmux("has-session", "-t", "demo").returncode != 0, "ctrl+c did not quit"


def test_deep_node_tree_and_cut_names_in_a_terminal(tmux: Tmux) -> None:
    """Node's 30-frame stacks at 80x24: Total and Self stay in their columns however deep
    the node; a cut name ends in "…" and the row under the cursor is written whole."""
    node = ROOT / "samples" / "node-demo"
    env = f"PYTHONPATH={ROOT}" + (
        os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    r = tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", "-c", str(ROOT),
             "-e", env, sys.executable, "-m", "jitprof", "tui", "--no-tmp",
             str(node / "perf.script.gz"), "--map", str(node / "perf-12799.map"))
    assert r.returncode == 0, r.stderr
    screen = tmux.wait_for(lambda s: "JS:*fib" in s and "1,447 samples" in s, "the node table")
    fib = next(ln for ln in screen.splitlines() if "JS:*fib" in ln and "%" in ln)
    assert fib.rstrip().endswith("…") and len(fib.rstrip()) <= 80  # cut, and it shows
    assert "JS:*fib /work/main/samples/node-demo/work.js" in screen  # whole, below
    tmux("send-keys", "-t", "demo", "3", "h")
    screen = tmux.wait_for(lambda s: "clear_page_erms" in s and "depth" in s,
                           "the hottest path to the leaf", timeout=30)
    import re

    tree = [ln for ln in screen.splitlines() if re.match(r"^ *\d+\.\d\d% ", ln)]
    assert len(tree) >= 10
    for ln in tree:  # Total ends at column 7, Self at 15, whatever the depth
        assert re.match(r"^[ \d]{2}\d\.\d\d% [ \d]{2}\d\.\d\d%  ", ln), ln
    assert any("›" in ln for ln in tree)  # deep nodes: the depth as a number
    tmux("send-keys", "-t", "demo", "q")
    end = time.monotonic() + 20
    while tmux("has-session", "-t", "demo").returncode == 0 and time.monotonic() < end:
        time.sleep(0.2)
    assert tmux("has-session", "-t", "demo").returncode != 0, "q did not quit"
