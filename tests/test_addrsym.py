"""`jitprof symbolize`: JIT addresses from maps and jitdumps, file-backed ones from ELF
symbols (checked against binutils `nm`), a live demo process by --pid."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.symbols.addrsym import AddressNamer, read_mappings
from jitprof.symbols.perfmap import parse_perf_map
from tests.conftest import SAMPLES, require_tools, tool_failed
from tests.jitdumpfile import DebugInfo, Dump, Load

DEMO = SAMPLES / "hhvm-demo" / "hhvm_demo"  # committed, non-PIE: vaddr = runtime address
S = 1_000_000_000
X = 0x7F0000001000

MAP = (f"{X:x} 800 PHP::Api_Legacy::dispatch\n{X:x} 52 PHP::Api_Router::route\n"
       f"{X + 0x400:x} 49 PHP::Api_View::render\n"
       "402000 40 Builtin:ShouldNeverBeUsed\n")  # points into the binary: perf ignores it


def _nm(binary: Path) -> dict[str, int]:
    """Function symbols by `nm` (binutils): the independent oracle for ELF names."""
    require_tools("nm")
    out = subprocess.run(["nm", "--defined-only", str(binary)], capture_output=True, text=True,
                         check=True).stdout
    return {p[2]: int(p[0], 16) for p in (ln.split() for ln in out.splitlines())
            if len(p) == 3 and p[1] in "tT"}


def _run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, ["symbolize", *args], input=stdin)


def test_map_only(tmp_path: Path) -> None:
    m = tmp_path / "perf-1.map"
    m.write_text(MAP)
    res = _run("--map", str(m), f"{X + 0x10:x}", f"0x{X + 0x600:x}", f"{X + 0x410:X}", "10")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        f"{X + 0x10:#x} PHP::Api_Router::route+0x10 [{m}]",  # the later line wins
        f"{X + 0x600:#x} PHP::Api_Legacy::dispatch+0x600 [{m}]",  # only the old range
        f"{X + 0x410:#x} PHP::Api_View::render+0x10 [{m}]",
        "0x10 ?? [unknown]",
    ]


def test_jitdump_wins_latest_or_by_time_with_source_lines(tmp_path: Path) -> None:
    m = tmp_path / "perf-1.map"
    m.write_text(f"{X:x} 800 FromTheMap\n")
    d = Dump(1, [Load(S, X, 0x800, "PHP::Api_Legacy::dispatch", 1),
                 DebugInfo(2 * S - 1, X, [(X + 0x8, 12, 0, "/srv/route.php")]),
                 Load(2 * S, X, 0x52, "PHP::Api_Router::route", 2)]).write(tmp_path / "j.dump")
    res = _run("--map", str(m), "--jitdump", str(d), "--srcline", f"{X + 0x10:x}",
               f"{X + 0x700:x}")
    assert res.output.splitlines() == [
        f"{X + 0x10:#x} PHP::Api_Router::route+0x10 [{d}] at /srv/route.php:12",
        f"{X + 0x700:#x} PHP::Api_Legacy::dispatch+0x700 [{d}]",
    ]
    res = _run("--jitdump", str(d), "--time", "1.5", f"{X + 0x10:x}", "--format", "json")
    assert json.loads(res.output) == [{"addr": f"{X + 0x10:#x}",
                                       "name": "PHP::Api_Legacy::dispatch", "offset": 16,
                                       "dso": str(d), "source": None}]


def test_addresses_on_stdin_and_bad_ones(tmp_path: Path) -> None:
    m = tmp_path / "m.map"
    m.write_text(MAP)
    res = _run("--map", str(m), stdin=f"{X + 1:x}\n\n  0x{X + 2:x}  \n")
    assert res.exit_code == 0
    assert [ln.split()[1] for ln in res.output.splitlines()] == [
        "PHP::Api_Router::route+0x1", "PHP::Api_Router::route+0x2"]
    res = _run("--map", str(m), stdin=f"{X:x}\nnot-an-address\n")
    assert res.exit_code == 1
    assert "-:2: not a hex address: 'not-an-address'" in res.output
    res = _run(f"{X:x}")
    assert res.exit_code == 2 and "give --pid PID, --map FILE or --jitdump FILE" in res.output
    res = _run("--map", str(m), "--binary", "nonsense", "10")
    assert res.exit_code == 2 and "'nonsense' is not DSO=PATH" in res.output


def test_file_backed_addresses_named_from_elf_symbols_like_nm() -> None:
    syms = _nm(DEMO)
    # the demo's text mapped as the loader maps it (non-PIE: runtime = ELF vaddr)
    proc_maps = (f"00400000-00401000 r--p 00000000 fe:00 1 {DEMO}\n"
                 f"00401000-00409000 r-xp 00001000 fe:00 1 {DEMO}\n"
                 f"{X:x}-{X + 0x10000:x} rwxp 00000000 00:00 0 \n").encode()
    s = AddressNamer(perf_map=parse_perf_map(MAP.encode(), "perf-1.map"),
                   mappings=read_mappings(proc_maps))
    f_sort = syms["_ZN4HPHP6f_sortERNS_7VariantEl"]
    got = s.symbolize(f_sort + 0x20)
    assert (got.name, got.offset, got.dso) == ("HPHP::f_sort", 0x20, str(DEMO))
    main_ = s.symbolize(syms["main"])
    assert (main_.name, main_.offset) == ("main", 0)
    # a perf-map line pointing into the file is not used (as perf): the ELF name wins
    inside = s.symbolize(0x402000)
    assert inside.name != "Builtin:ShouldNeverBeUsed" and inside.dso == str(DEMO)
    jit = s.symbolize(X + 0x410)
    assert (jit.name, jit.dso) == ("PHP::Api_View::render", "perf-1.map")
    # every text symbol nm lists is found at its start by its perf-style name
    from jitprof.symbols.demangle import perf_name
    for raw, addr in syms.items():
        if 0x401000 <= addr < 0x409000:
            r = s.symbolize(addr)
            assert r.offset == 0 and r.name == perf_name(raw)[0], (raw, r)


@pytest.fixture
def live_demo(tmp_path: Path, demo_recorder: Any) -> Iterator[dict]:
    require_tools("g++")
    try:
        binary = demo_recorder.build(tmp_path)
    except demo_recorder.RecordError as e:
        tool_failed("building the demo", e)
        raise
    env = dict(os.environ, HHVM_DEMO_JITDUMP=str(tmp_path))
    proc = subprocess.Popen([str(binary), "slow", "20"], stdout=subprocess.PIPE, text=True,
                            env=env, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.match(r"hhvm_demo: pid=(\d+) mode=slow map=(\S+)", line)
        assert m, line
        yield {"pid": proc.pid, "binary": binary, "map": Path(m.group(2)),
               "dump": tmp_path / f"jit-{proc.pid}.dump"}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        Path(f"/tmp/perf-{proc.pid}.map").unlink(missing_ok=True)


def test_live_process_by_pid(live_demo: dict) -> None:
    pid = live_demo["pid"]
    syms = _nm(live_demo["binary"])
    lines = live_demo["map"].read_text().splitlines()
    jit = {ln.split(" ", 2)[2]: int(ln.split()[0], 16) for ln in lines}
    for _ in range(50):  # the dump is complete once respond's cold block is in it
        if live_demo["dump"].exists() and b"respond" in live_demo["dump"].read_bytes():
            break
        time.sleep(0.1)
    addrs = [syms["_ZN4HPHP6f_sortERNS_7VariantEl"] + 0x20, jit["PHP::Api_Router::route"] + 3,
             jit["PHP::Api_Legacy::dispatch"] + 0x600, 0x10]
    res = _run("--pid", str(pid), *(f"{a:x}" for a in addrs))
    assert res.exit_code == 0, res.output
    dump = live_demo["dump"]
    assert res.output.splitlines() == [
        f"{addrs[0]:#x} HPHP::f_sort+0x20 [{live_demo['binary']}]",
        f"{addrs[1]:#x} PHP::Api_Router::route+0x3 [{dump}]",  # its jitdump, mapped by it
        f"{addrs[2]:#x} PHP::Api_Legacy::dispatch+0x600 [{dump}]",
        "0x10 ?? [unknown]",
    ]
    res = _run("--pid", "999999999", "10")
    assert res.exit_code == 1 and "/proc/999999999/maps: cannot read" in res.output
