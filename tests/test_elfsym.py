"""elfsym: ELF facts and symbol-table rules on files whose contents are known (written by
tests/elfwriter.py), and on programs compiled here, checked against binutils' nm."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jitprof.errors import ElfError
from jitprof.symbols import elfsym
from jitprof.symbols.elfsym import SymbolCache, read_elf_info, read_symbols
from tests.conftest import require_tools
from tests.elfwriter import (
    DATA,
    ET_EXEC,
    PF_R,
    PF_X,
    SHN_ABS,
    SHN_UNDEF,
    STB_LOCAL,
    STB_WEAK,
    STT_GNU_IFUNC,
    STT_NOTYPE,
    STT_OBJECT,
    STV_HIDDEN,
    Elf,
    Sym,
)

LAYOUTS = [(64, True), (64, False), (32, True), (32, False)]


def _names(t: elfsym.SymbolTable) -> dict[int, tuple[str, int]]:
    return {s.start: (s.name, s.end) for s in t}


def nocache() -> SymbolCache:
    return SymbolCache(None)


@pytest.mark.parametrize("cls,little", LAYOUTS)
def test_bulk_decoding_every_class_and_byte_order(tmp_path: Path, cls: int, little: bool) -> None:
    syms = [
        Sym("f_sized", 0x1100, 0x20),
        Sym("f_zero", 0x1200, 0),  # extends to the next symbol
        Sym("f_next", 0x1280, 0x10, bind=STB_LOCAL),
        Sym("f_ifunc", 0x1300, 0x8, type=STT_GNU_IFUNC),
        Sym("an_object", 0x1400, 0x8, type=STT_OBJECT, shndx=DATA),
        Sym("undefined", 0, 0, shndx=SHN_UNDEF),
        Sym("absolute", 0x1500, 4, shndx=SHN_ABS),
        Sym("label", 0x1600, 0, type=STT_NOTYPE),  # a text label: kept, as perf does
        Sym("hidden_label", 0x1700, 0, type=STT_NOTYPE, other=STV_HIDDEN),
        Sym("data_label", 0x1800, 0, type=STT_NOTYPE, shndx=DATA),
        Sym("last_zero", 0x1a10, 0),
    ]
    p = Elf(cls=cls, little=little, symbols=syms).write(tmp_path / "f.so")
    t = read_symbols(str(p), cache=nocache())
    assert t.source == ".symtab" and not t.stripped
    assert _names(t) == {
        0x1100: ("f_sized", 0x1120),
        0x1200: ("f_zero", 0x1280),
        0x1280: ("f_next", 0x1290),
        0x1300: ("f_ifunc", 0x1308),
        0x1600: ("label", 0x1a10),
        0x1a10: ("last_zero", 0x3000),  # perf: roundup(start, 4096) + 4096
    }
    assert t.find(0x1100).name == "f_sized"  # type: ignore[union-attr]
    assert t.find(0x111F).name == "f_sized"  # type: ignore[union-attr]
    assert t.find(0x1120) is None  # past the end, before the next symbol
    assert t.find(0x127F).name == "f_zero"  # type: ignore[union-attr]
    assert t.find(0x10FF) is None
    assert t.find(0x1700).name == "label"  # type: ignore[union-attr]  # hidden one left out


def test_aliases_follow_perfs_choice(tmp_path: Path) -> None:
    syms = [
        # non-zero size beats zero size
        Sym("zero_sized_long_name", 0x1100, 0), Sym("sized", 0x1100, 0x10),
        # non-weak beats weak
        Sym("weak_one_longer", 0x1200, 8, bind=STB_WEAK), Sym("strong", 0x1200, 8),
        # global beats local
        Sym("local_longer_name", 0x1300, 8, bind=STB_LOCAL), Sym("glob", 0x1300, 8),
        # fewer leading underscores
        Sym("__under_longer", 0x1400, 8), Sym("under", 0x1400, 8),
        # the longer name
        Sym("short", 0x1500, 8), Sym("longer_one", 0x1500, 8),
        # a tie: the one earlier in the table (perf's tree keeps insertion order)
        Sym("bbbb", 0x1600, 8), Sym("aaaa", 0x1600, 8),
    ]
    for order, tie in ((syms, "bbbb"), (list(reversed(syms)), "aaaa")):
        p = Elf(symbols=order).write(tmp_path / "a.so")
        names = {s.start: s.name for s in read_symbols(str(p), cache=nocache())}
        assert names == {0x1100: "sized", 0x1200: "strong", 0x1300: "glob", 0x1400: "under",
                         0x1500: "longer_one", 0x1600: tie}


def test_nested_symbol_found_inside_its_outer_one(tmp_path: Path) -> None:
    p = Elf(symbols=[Sym("outer", 0x1100, 0x100), Sym("inner", 0x1120, 0x10)]).write(
        tmp_path / "n.so")
    t = read_symbols(str(p), cache=nocache())
    assert t.find(0x1125).name == "inner"  # type: ignore[union-attr]
    assert t.find(0x1150).name == "outer"  # type: ignore[union-attr]


def test_extended_label_does_not_shadow_the_function_holding_it(tmp_path: Path) -> None:
    # node: Builtins_JSConstructStubGeneric (sized) holds the label
    # construct_stub_create_deopt_addr (NOTYPE, size 0); perf names the function
    p = Elf(symbols=[Sym("outer", 0x1100, 0x100), Sym("label", 0x1140, 0, type=STT_NOTYPE),
                     Sym("next", 0x1300, 0x10)]).write(tmp_path / "l.so")
    t = read_symbols(str(p), cache=nocache())
    assert t.find(0x1150).name == "outer"  # type: ignore[union-attr]
    assert t.find(0x1250).name == "label"  # type: ignore[union-attr]  # only the label holds it
    cache = SymbolCache(str(tmp_path / "c"))
    read_symbols(str(p), cache=cache)
    again = read_symbols(str(p), cache=cache)  # the rule survives the cache
    assert cache.hits == 1 and again.find(0x1150).name == "outer"  # type: ignore[union-attr]


def test_dynsym_when_no_symtab_and_stripped_when_neither(tmp_path: Path) -> None:
    p = Elf(symbols=[Sym("exported", 0x1100, 0x10)], dynsym=True).write(tmp_path / "d.so")
    t = read_symbols(str(p), cache=nocache())
    assert t.source == ".dynsym" and [s.name for s in t] == ["exported"]
    info = read_elf_info(str(p))
    assert info.stripped and info.has_dynsym
    p2 = Elf(no_symbols=True).write(tmp_path / "s.so")
    t2 = read_symbols(str(p2), cache=nocache())
    assert t2.stripped and len(t2) == 0 and t2.find(0x1100) is None


def test_pt_load_with_offset_unlike_vaddr(tmp_path: Path) -> None:
    # non-PIE node-like layout: file offset 0x1000 loads at 0x401000; an lld-like
    # read-only segment shares the file page with the executable one
    p = Elf(etype=ET_EXEC, text_vaddr=0x402000, text_offset=0x1000,
            segments=[(0, 0x400000, 0x1800, PF_R), (0x1000, 0x402000, 0x1000, PF_R | PF_X)],
            symbols=[Sym("main", 0x402010, 0x20)]).write(tmp_path / "exe")
    info = read_elf_info(str(p))
    assert info.elf_type == "ET_EXEC"
    assert info.offset_to_vaddr(0x1010) == 0x402010  # the executable segment wins
    assert info.offset_to_vaddr(0x100) == 0x400100
    assert info.offset_to_vaddr(0x9000) is None
    assert info.vaddr_to_offset(0x402010) == 0x1010
    t = read_symbols(str(p), cache=nocache())
    assert t.find(info.offset_to_vaddr(0x1015) or 0).name == "main"  # type: ignore[union-attr]


def test_build_id_and_debuglink(tmp_path: Path) -> None:
    bid = bytes(range(20))
    p = Elf(build_id=bid, debuglink=("prog.debug", 0xDEADBEEF)).write(tmp_path / "p")
    info = read_elf_info(str(p))
    assert info.build_id == bid.hex()
    assert info.debuglink == "prog.debug" and info.debuglink_crc == 0xDEADBEEF
    assert read_elf_info(str(Elf().write(tmp_path / "q"))).build_id is None


def test_not_elf_and_missing_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "notelf"
    bad.write_bytes(b"#!/bin/sh\n")
    with pytest.raises(ElfError, match="notelf: not an ELF file"):
        read_elf_info(str(bad))
    with pytest.raises(ElfError, match="missing: cannot read"):
        read_symbols(str(tmp_path / "missing"), cache=nocache())
    trunc = tmp_path / "trunc"
    trunc.write_bytes(Elf().write(tmp_path / "whole").read_bytes()[:80])
    with pytest.raises(ElfError, match="trunc"):
        read_symbols(str(trunc), cache=nocache())


# -- the cache ----------------------------------------------------------------------------

def test_cache_hit_invalidation_and_corrupt_entry(tmp_path: Path) -> None:
    cache = SymbolCache(str(tmp_path / "cache"))
    p = Elf(symbols=[Sym("one", 0x1100, 8)]).write(tmp_path / "nobid.so")
    assert [s.name for s in read_symbols(str(p), cache=cache)] == ["one"]
    assert (cache.hits, cache.misses) == (0, 1)
    assert [s.name for s in read_symbols(str(p), cache=cache)] == ["one"]
    assert cache.hits == 1
    # the file changes (no build-id: size/mtime decide)
    Elf(symbols=[Sym("two", 0x1100, 8), Sym("three", 0x1200, 8)]).write(p)
    os.utime(p, ns=(1, 1))
    assert [s.name for s in read_symbols(str(p), cache=cache)] == ["two", "three"]
    assert cache.rejected == 1
    # a corrupt entry is ignored and rewritten
    (entry,) = (tmp_path / "cache" / "elfsym").iterdir()
    raw = bytearray(entry.read_bytes())
    raw[-3] ^= 0xFF
    entry.write_bytes(bytes(raw))
    assert [s.name for s in read_symbols(str(p), cache=cache)] == ["two", "three"]
    assert cache.rejected == 2
    assert [s.name for s in read_symbols(str(p), cache=cache)] == ["two", "three"]
    assert cache.hits == 2  # the rewritten entry is good
    entry.write_bytes(b"garbage")
    assert [s.name for s in read_symbols(str(p), cache=cache)] == ["two", "three"]
    assert cache.rejected == 3


def test_cache_keyed_by_build_id(tmp_path: Path) -> None:
    cache = SymbolCache(str(tmp_path / "cache"))
    bid = b"\x01" * 20
    a = Elf(build_id=bid, symbols=[Sym("f", 0x1100, 8)]).write(tmp_path / "a.so")
    read_symbols(str(a), cache=cache)
    copy = tmp_path / "elsewhere.so"
    shutil.copy(a, copy)  # the same content at another path: a hit
    assert [s.name for s in read_symbols(str(copy), cache=cache)] == ["f"]
    assert cache.hits == 1
    # another build-id (same size) is another entry
    Elf(build_id=b"\x02" * 20, symbols=[Sym("g", 0x1100, 8)]).write(copy)
    assert [s.name for s in read_symbols(str(copy), cache=cache)] == ["g"]
    assert cache.hits == 1


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = SymbolCache(str(blocker))  # a file where the directory should be
    p = Elf(symbols=[Sym("f", 0x1100, 8)]).write(tmp_path / "a.so")
    assert [s.name for s in read_symbols(str(p), cache=cache)] == ["f"]


def test_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JITPROF_CACHE_DIR", str(tmp_path / "c"))
    assert elfsym.cache_dir() == str(tmp_path / "c")
    monkeypatch.setenv("JITPROF_CACHE_DIR", "")
    assert elfsym.cache_dir() is None
    monkeypatch.delenv("JITPROF_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert elfsym.cache_dir() == str(tmp_path / "x" / "jitprof")


# -- real files, checked against nm --------------------------------------------------------

PROGRAM = r"""
#include <cstdio>
extern "C" {
__attribute__((noinline)) int hot(int n) {
  int s = 0; for (int i = 0; i < n; i++) s += i * i; return s;
}
int hot_alias(int) __attribute__((alias("hot")));
static int impl(int x) { return x + 1; }
static void *resolve_ifn(void) { return (void *)impl; }
int ifn(int) __attribute__((ifunc("resolve_ifn")));
}
asm(".text\n.globl zsize\n.type zsize,@function\nzsize:\n ret\n nop\n nop\n nop\n"
    ".globl after_zsize\n.type after_zsize,@function\nafter_zsize:\n ret\n.size after_zsize,1\n");
namespace ns { template <class T> __attribute__((noinline)) T twice(T x) { return x + x; } }
int main(int argc, char **) {
  std::printf("%d %d %d\n", hot(argc), ifn(argc), ns::twice<int>(argc));
}
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tools("g++", "nm", "objdump")
    d = tmp_path_factory.mktemp("elfsym")
    src = d / "prog.cpp"
    src.write_text(PROGRAM)
    out = d / "prog"
    subprocess.run(["g++", "-O1", "-g", "-fPIE", "-pie", "-o", str(out), str(src)], check=True,
                   capture_output=True, timeout=120)
    return out


def _nm(path: Path, types: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    text = subprocess.run(["nm", "--defined-only", str(path)], capture_output=True, text=True,
                          check=True).stdout
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in types:
            out.setdefault(int(parts[0], 16), set()).add(parts[2])
    return out


def test_compiled_program_agrees_with_nm(compiled: Path) -> None:
    t = read_symbols(str(compiled), cache=nocache())
    ours = {s.start: s.name for s in t if not s.name.endswith("@plt")}
    nm = _nm(compiled, "TtWi")  # W: weak code or data
    assert set(_nm(compiled, "Tti")) <= set(ours) <= set(nm)
    for addr, name in ours.items():
        assert name in nm[addr]
    # the PLT entries perf synthesizes, as objdump labels them
    plt = {s.start: s.name for s in t if s.name.endswith("@plt")}
    dump = subprocess.run(["objdump", "-d", "-j", ".plt", "-j", ".plt.sec", str(compiled)],
                          capture_output=True, text=True).stdout
    labels = {int(m.group(1), 16): m.group(2)
              for m in re.finditer(r"^([0-9a-f]+) <(\S+@plt)>:", dump, re.M)}
    unnamed = {a for a, n in labels.items() if n.startswith("*ABS*")}  # the ifunc's slot
    assert plt and unnamed and plt == {a: n for a, n in labels.items() if a not in unnamed}
    # perf 6.1 names that slot by the zero-size _init extended over .plt
    (slot,) = unnamed
    assert t.find(slot).name == "_init"  # type: ignore[union-attr]
    by_name = {s.name: s for s in t}
    assert "hot_alias" in by_name and "hot" not in by_name  # the longer name, like perf
    assert by_name["ifn"].end > by_name["ifn"].start  # the ifunc symbol is kept
    z = by_name["zsize"]
    assert z.end == by_name["after_zsize"].start  # zero size extended
    assert "_Z5twiceIiET_S0_" not in by_name and any(n.startswith("_ZN2ns5twice") for n in by_name)
    info = read_elf_info(str(compiled))
    assert info.build_id and len(info.build_id) == 40
    assert info.elf_type == "ET_DYN" and not info.stripped


def test_node_binary_cold_and_cached(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        require_tools("node")
        return
    node = os.path.realpath(node)
    cache = SymbolCache(str(tmp_path / "c"))
    cold = read_symbols(node, cache=cache)
    warm = read_symbols(node, cache=cache)
    assert cache.hits == 1 and len(cold) == len(warm) > 10000
    for i in range(0, len(cold), 997):
        assert cold.symbol(i) == warm.symbol(i)
