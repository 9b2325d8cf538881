"""End to end: `jitprof diff SLOW FAST --tui` in a real 80x24 terminal (tmux), driven by
keys, read by capture-pane: the seed story on the first screen."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.test_tui_e2e import Tmux
from tests.test_tui_e2e import tmux as tmux  # a private tmux server, a fixture

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "hhvm-demo"


def _seed_story(screen: str) -> str | None:
    """What is missing from the first screen (None: it tells the whole story)."""
    lines = screen.splitlines()
    if len(lines) > 24:
        return "more than 24 lines"
    if not any(ln.startswith(" method  block bootstrap over time") for ln in lines):
        return "the method line"
    hphp = next((ln for ln in lines if ln.startswith(" HPHP ")), "")
    if "▼ down" not in hphp or "of which HPHP::f_sort -55.27" not in hphp:
        return "the HPHP kind line"
    row = next((ln for ln in lines if ln.rstrip().endswith("HPHP::f_sort")), "")
    if row.split()[:4] != ["58.14%", "2.87%", "-55.27", "[-57.6,"] or "▼ down" not in row:
        return "the f_sort row"
    return None


def test_diff_tui_in_a_terminal(tmux: Tmux) -> None:
    env = f"PYTHONPATH={ROOT}" + (
        os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    r = tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", "-c", str(ROOT),
             "-e", env, sys.executable, "-m", "jitprof", "diff",
             str(DEMO / "slow" / "perf.script.gz"), str(DEMO / "fast" / "perf.script.gz"),
             "--no-tmp", "--tui")
    assert r.returncode == 0, r.stderr
    # the whole first screen (a capture can catch a frame half drawn: wait for all of it)
    screen = tmux.wait_for(lambda s: _seed_story(s) is None, "the seed story")
    assert _seed_story(screen) is None
    tmux("send-keys", "-t", "demo", "3")
    tmux.wait_for(lambda s: "AFTER-sized" in s and "PHP::Api_Handler::respond" in s,
                  "the flame diff")
    tmux("send-keys", "-t", "demo", "b")
    tmux.wait_for(lambda s: "BEFORE-sized" in s, "the before shape")
    tmux("send-keys", "-t", "demo", "q")
    end = time.monotonic() + 20
    while tmux("has-session", "-t", "demo").returncode == 0 and time.monotonic() < end:
        time.sleep(0.2)
    assert tmux("has-session", "-t", "demo").returncode != 0, "q did not quit"
