"""Every frame perf named in the committed recordings (samples/): jitprof's ELF lookup of
the printed address (a file offset, perf 6.1) gives perf's name and perf's +0x offset.
The hhvm-demo binary is committed beside its recordings; node's own binary is checked
when it is the build the node-demo recording was made with."""

from __future__ import annotations

import gzip
import os
import re
import shutil
from pathlib import Path

import pytest

from jitprof.symbols.elfsym import SymbolCache, read_elf_info
from jitprof.symbols.symbolize import Symbolizer
from tests.conftest import skip_or_fail

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
_FRAME_RX = re.compile(r"^\t\s*([0-9a-f]+) (.+)\+0x([0-9a-f]+) \((/[^()]*)\)$")
NODE_BUILD_ID = "ebeaf2df364d5eeb7096f0f7722a69eec6efdf3b"  # perf buildid-list of node-demo


def named_frames(script: Path, dso_suffix: str) -> dict[tuple[int, str], tuple[str, int]]:
    """(printed address, dso) -> (perf's name, perf's offset in the symbol)."""
    out: dict[tuple[int, str], tuple[str, int]] = {}
    with gzip.open(script, "rt", errors="replace") as f:
        for line in f:
            m = _FRAME_RX.match(line.rstrip("\n"))
            if m and m.group(4).endswith(dso_suffix):
                out[(int(m.group(1), 16), m.group(4))] = (m.group(2), int(m.group(3), 16))
    return out


def check(frames: dict[tuple[int, str], tuple[str, int]], sym: Symbolizer) -> int:
    bad = []
    for (addr, dso), (name, off) in frames.items():
        vaddr = sym.offset_to_vaddr(dso, addr)
        got = None if vaddr is None else sym.lookup_vaddr(dso, vaddr)
        df = sym.dso_file(dso)
        i = -1 if vaddr is None or df.symbols is None else df.symbols.lookup(vaddr)
        ours_off = None if i < 0 or vaddr is None else vaddr - df.symbols.start(i)  # type: ignore[union-attr]
        if got is None or got.name != name or ours_off != off:
            bad.append((hex(addr), name, off, got and got.name, ours_off))
    assert not bad, bad[:5]
    return len(frames)


@pytest.mark.parametrize("run", ["slow", "fast"])
def test_hhvm_demo_frames_named_as_perf_named_them(run: str) -> None:
    frames = named_frames(SAMPLES / "hhvm-demo" / run / "perf.script.gz", "/hhvm_demo")
    recorded = {dso for _a, dso in frames}
    binary = str(SAMPLES / "hhvm-demo" / "hhvm_demo")
    sym = Symbolizer(binaries={d: binary for d in recorded}, cache=SymbolCache(None))
    assert check(frames, sym) >= 15
    (dso,) = recorded
    assert read_elf_info(binary).elf_type == "ET_EXEC"  # offsets != vaddrs (0x400000)


def test_node_frames_named_as_perf_named_them() -> None:
    node = shutil.which("node")
    if node is None or read_elf_info(os.path.realpath(node)).build_id != NODE_BUILD_ID:
        skip_or_fail(f"the node-demo recording was made with another node build "
                     f"({NODE_BUILD_ID}): re-record samples/node-demo (samples/README.md)")
    frames = named_frames(SAMPLES / "node-demo" / "perf.script.gz", "/usr/bin/node")
    sym = Symbolizer(binaries={"/usr/bin/node": os.path.realpath(node)},
                     cache=SymbolCache(None))
    # C++ names with templates, (anonymous namespace), lambdas, Builtins_*: perf's forms
    assert check(frames, sym) >= 200
