"""The TUI's commands: `tui`, the default command (`jitprof INPUT...`), `demo`; no terminal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.errors import EXIT_INPUT, EXIT_USAGE

ROOT = Path(__file__).resolve().parent.parent
SLOW = ROOT / "samples" / "hhvm-demo" / "slow" / "perf.script.gz"
NO_TTY = "jitprof: error: the TUI needs a terminal"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))  # CliRunner's streams are not terminals
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize("argv", [["tui", str(SLOW)], [str(SLOW)], ["demo"],
                                  ["--no-tmp", str(SLOW)], ["tui", "--event", "x", str(SLOW)]])
def test_without_a_terminal_one_line_and_exit_2(argv: list[str]) -> None:
    code, out, err = run(*argv)
    assert code == EXIT_USAGE and out == ""
    assert err.startswith(NO_TTY) and err.count("\n") == 1 and "jitprof report" in err


def test_default_command_keeps_the_others_working() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "report" in out and "tui" in out and "demo" in out
    code, out, _ = run("report", str(SLOW), "--no-tmp", "--top", "1")
    assert code == 0 and "HPHP::f_sort" in out
    code, out, _ = run("--version")
    assert code == 0 and "jitprof" in out
    code, out, _ = run("tui", "--help")
    for opt in ("--map", "--map-dir", "--no-tmp", "--jitdump", "--pid", "--comm", "--event",
                "--strict"):
        assert opt in out


def test_bad_inputs(tmp_path: Path) -> None:
    code, _, err = run("tui", str(tmp_path / "nope.txt"))
    assert code == EXIT_INPUT and err == f"jitprof: error: {tmp_path / 'nope.txt'}: cannot " \
        "read: No such file or directory\n"
    code, _, err = run(str(tmp_path / "nope.txt"))  # the default command too
    assert code == EXIT_INPUT and "nope.txt: cannot read" in err
    code, _, err = run("tui", "-")
    assert code == EXIT_USAGE and "not stdin" in err
    code, _, err = run("tui")
    assert code == EXIT_USAGE and "Missing argument" in err


def test_a_file_named_like_a_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    Path("report").write_bytes(b"")
    r = runner.invoke(main, ["report"])
    assert r.exit_code == EXIT_USAGE and "jitprof tui ./report" in r.stderr
    r = runner.invoke(main, ["./report"])  # a path is no command: the TUI, no terminal
    assert r.exit_code == EXIT_USAGE and r.stderr.startswith(NO_TTY)
    assert os.path.exists("report")
