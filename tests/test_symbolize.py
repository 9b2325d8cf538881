"""symbolize: address forms, file and debug-file search, kallsyms, and the naming of
file frames in build_profile, on hand-made ELF files and texts whose answers are known."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.errors import InputError
from jitprof.symbols.elfsym import ElfInfo, Segment, SymbolCache
from jitprof.symbols.symbolize import (
    OFFSET,
    RAW,
    MemMap,
    Symbolizer,
    detect_address_form,
    evidence,
    is_file_dso,
    parse_proc_maps,
    pid_from_proc_maps_name,
    read_kallsyms,
    to_vaddr,
)
from tests.elfwriter import PF_R, PF_X, STB_LOCAL, Elf, Sym

# An lld-like PIE: file offset 0x1000 loads at vaddr 0x2000 (p_offset != p_vaddr)
SEGMENTS = [(0, 0, 0x1000, PF_R), (0x1000, 0x2000, 0x1000, PF_R | PF_X)]
SYMS = [
    Sym("f_one", 0x2100, 0x40),
    Sym("f_two", 0x2140, 0x40),  # starts where f_one ends
    Sym("_ZN2ns6f_zeroEi", 0x2200, 0),  # zero size: extends to f_last
    Sym("f_last", 0x2300, 0x10, bind=STB_LOCAL),
]
START = 0x555500001000  # where process 100 maps the executable segment (pgoff 0x1000)


def write_prog(path: Path, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    args: dict = {"text_vaddr": 0x2000, "text_offset": 0x1000, "segments": SEGMENTS,
                  "symbols": SYMS}
    args.update(kw)
    return Elf(**args).write(path)


def mmap_line(path: Path, pid: int = 100, extra: str = "fe:00 1 0") -> str:
    return (f"prog {pid}/{pid} 0.500000: PERF_RECORD_MMAP2 {pid}/{pid}: "
            f"[{START:#x}(0x1000) @ 0x1000 {extra}]: r-xp {path}\n")


def sample(frames: list[int], dso: Path, pid: int = 100, period: int = 10) -> str:
    lines = [f"prog {pid}/{pid} 1.000000: {period} cpu-clock:"]
    lines += [f"\t{a:x} ({dso})" for a in frames]
    return "\n".join(lines) + "\n\n"


def report(*args: str) -> dict:
    res = CliRunner().invoke(main, ["report", *args, "--no-tmp", "--top", "0", "--format",
                                    "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def selfs(doc: dict) -> dict[str, int]:
    return {f["name"]: f["self"] for f in doc["functions"] if f["self"]}


def totals(doc: dict) -> dict[str, int]:
    return {f["name"]: f["total"] for f in doc["functions"]}


# -- address forms -------------------------------------------------------------------------

INFO = ElfInfo("/x", None, "ET_DYN", "EM_X86_64",
               (Segment(0, 0, 0x1000, 0x1000, PF_R), Segment(0x1000, 0x2000, 0x1000, 0x1000,
                                                                PF_R | PF_X)),
               None, None, True, False, 0, 0)
MAPS = [MemMap(START, START + 0x1000, 0x1000, "/x")]


def test_evidence_and_conversion() -> None:
    assert evidence(0x1110, MAPS, INFO) == (False, True)  # an offset
    assert evidence(START + 0x110, MAPS, INFO) == (True, False)  # raw
    assert evidence(0x9000, MAPS, INFO) == (False, False)
    assert to_vaddr(0x1110, OFFSET, MAPS, INFO) == 0x2110
    assert to_vaddr(START + 0x110, RAW, MAPS, INFO) == 0x2110
    assert to_vaddr(START + 0x110, RAW, [], INFO) is None  # no mapping, not ET_EXEC
    # without mappings: the ELF alone (ET_EXEC loads at its link address)
    exe = ElfInfo("/e", None, "ET_EXEC", "EM_X86_64",
                  (Segment(0x1000, 0x401000, 0x1000, 0x1000, PF_R | PF_X),), None, None, True,
                  False, 0, 0)
    assert evidence(0x401010, [], exe) == (True, False)
    assert evidence(0x1010, [], exe) == (False, True)
    assert to_vaddr(0x401010, RAW, [], exe) == 0x401010


def test_ambiguous_frames_follow_the_majority() -> None:
    assert detect_address_form(3, 1, False) == RAW
    assert detect_address_form(1, 3, True) == OFFSET
    assert detect_address_form(0, 0, False) == OFFSET  # perf 5.16-6.4 callchains
    assert detect_address_form(0, 0, True) == RAW  # sample ips without callchains


def test_file_dsos() -> None:
    assert is_file_dso("/usr/bin/node")
    assert is_file_dso("[vdso]")  # named from the copy in perf's build-id cache
    for dso in ("//anon", "/anon_hugepage (deleted)", "/tmp/perf-12.map",
                "[kernel.kallsyms]", "/memfd:x (deleted)", "/SYSV00000000", "[unknown]"):
        assert not is_file_dso(dso), dso


# -- /proc/<pid>/maps and kallsyms -------------------------------------------------------

def test_proc_maps(tmp_path: Path) -> None:
    p = tmp_path / "maps-100"
    p.write_text(
        "555500000000-555500001000 r--p 00000000 fe:00 1                  /bin/prog\n"
        "555500001000-555500002000 r-xp 00001000 fe:00 1                  /bin/prog\n"
        "7f0000000000-7f0000010000 rwxp 00000000 00:00 0 \n"
        "7f0000100000-7f0000200000 r-xp 00026000 fe:00 2                  /lib/libc.so.6 "
        "(deleted)\n\n")
    assert parse_proc_maps(str(p)) == [
        MemMap(0x555500001000, 0x555500002000, 0x1000, "/bin/prog"),
        MemMap(0x7F0000100000, 0x7F0000200000, 0x26000, "/lib/libc.so.6"),
    ]
    assert pid_from_proc_maps_name(str(p)) == 100
    assert pid_from_proc_maps_name("/proc/42/maps") == 42
    assert pid_from_proc_maps_name("x/7.maps") == 7
    assert pid_from_proc_maps_name("maps") is None
    bad = tmp_path / "bad"
    bad.write_text("555500001000-555500002000 r-xp 00001000 fe:00 1 /bin/prog\nhello\n")
    with pytest.raises(InputError) as e:
        parse_proc_maps(str(bad))
    assert str(e.value).startswith(f"{bad}:2: not a /proc/<pid>/maps line")


def test_kallsyms(tmp_path: Path) -> None:
    k = tmp_path / "kallsyms"
    k.write_text("ffffffff81000000 T func_a\nffffffff81000100 t func_b\n"
                 "ffffffff81000200 D some_data\nffffffffc0000000 t mod_fn\t[mod]\n")
    ks = read_kallsyms(str(k))
    assert ks is not None and len(ks) == 3
    assert ks.lookup(0xFFFFFFFF81000050) == "func_a"
    assert ks.lookup(0xFFFFFFFF81000150) == "func_b"  # ends at the next function
    assert ks.lookup(0xFFFFFFFFC0000010) == "mod_fn"
    assert ks.lookup(0xFFFFFFFFC0001000) is None  # a page after the last start
    assert ks.lookup(0xFFFFFFFF80000000) is None
    hidden = tmp_path / "hidden"  # kptr_restrict: every address 0
    hidden.write_text("0000000000000000 T func_a\n0000000000000000 T func_b\n")
    assert read_kallsyms(str(hidden)) is None
    assert read_kallsyms(str(tmp_path / "missing")) is None


# -- the Symbolizer ------------------------------------------------------------------------

def test_symbolize_api(tmp_path: Path) -> None:
    prog = write_prog(tmp_path / "bin" / "prog")
    sym = Symbolizer(cache=SymbolCache(None))
    names = sym.symbolize(str(prog), [0x2110, 0x2140, 0x2250, 0x2305, 0x2400])
    assert [n.name if n else None for n in names] == ["f_one", "f_two", "ns::f_zero",
                                                       "f_last", None]
    assert names[2] is not None and names[2].full == "ns::f_zero(int)"
    assert [n.name if n else None
            for n in sym.symbolize(str(prog), [0x1110, 0x1140], form="offset")] == [
        "f_one", "f_two"]


def test_symfs_and_binary(tmp_path: Path) -> None:
    recorded = "/opt/app/prog"  # does not exist here
    write_prog(tmp_path / "symfs" / "opt" / "app" / "prog")
    sym = Symbolizer(symfs=str(tmp_path / "symfs"), cache=SymbolCache(None))
    assert sym.lookup_vaddr(recorded, 0x2110).name == "f_one"  # type: ignore[union-attr]
    other = write_prog(tmp_path / "elsewhere")
    sym = Symbolizer(binaries={"prog": str(other)}, cache=SymbolCache(None))
    assert sym.lookup_vaddr(recorded, 0x2110).name == "f_one"  # type: ignore[union-attr]
    sym = Symbolizer(cache=SymbolCache(None))
    assert sym.lookup_vaddr(recorded, 0x2110) is None
    assert any("no readable ELF file" in w for w in sym.warnings)
    # a binary replaced while it ran: perf's dso ends in " (deleted)"
    assert sym.lookup_vaddr(f"{other} (deleted)", 0x2110).name == "f_one"  # type: ignore[union-attr]


def test_build_id_mismatch_is_a_warning(tmp_path: Path) -> None:
    prog = write_prog(tmp_path / "prog", build_id=b"\x01" * 20)
    # another build at the recorded path names nothing (issue 13: build-id match, or the
    # user named the file)
    sym = Symbolizer(build_ids={str(prog): "02" * 20}, cache=SymbolCache(None))
    assert sym.lookup_vaddr(str(prog), 0x2110) is None
    df = sym.files[str(prog)]
    assert df.build_id_mismatch
    assert any("is not the recorded one" in w and "02" * 20 in w and "--binary" in w
               for w in sym.warnings)
    # with --symfs/--binary the user vouches for it: used, with a warning
    sym = Symbolizer(build_ids={str(prog): "02" * 20}, cache=SymbolCache(None),
                     files_given=True)
    assert sym.lookup_vaddr(str(prog), 0x2110).name == "f_one"  # type: ignore[union-attr]
    assert sym.files[str(prog)].build_id_mismatch
    assert any("differs from the recorded one" in w and "02" * 20 in w for w in sym.warnings)
    # a matching file is preferred to a mismatched one
    sym = Symbolizer(build_ids={str(prog): "01" * 20}, cache=SymbolCache(None))
    sym.dso_file(str(prog))
    assert not sym.warnings and not sym.files[str(prog)].build_id_mismatch


def test_debug_file_by_build_id_under_symfs(tmp_path: Path) -> None:
    bid = bytes(range(1, 21))
    symfs = tmp_path / "symfs"
    write_prog(symfs / "opt" / "prog", build_id=bid, symbols=[Sym("exported", 0x2100, 8)],
               dynsym=True)
    dbg = symfs / "usr/lib/debug/.build-id" / bid.hex()[:2] / (bid.hex()[2:] + ".debug")
    write_prog(dbg, build_id=bid)
    sym = Symbolizer(symfs=str(symfs), cache=SymbolCache(None))
    assert sym.lookup_vaddr("/opt/prog", 0x2150).name == "f_two"  # type: ignore[union-attr]
    assert sym.files["/opt/prog"].symbols_path == str(dbg)
    # a debug file of another build is not used: only the exported names remain
    write_prog(dbg, build_id=b"\x09" * 20)
    sym = Symbolizer(symfs=str(symfs), cache=SymbolCache(None))
    assert sym.lookup_vaddr("/opt/prog", 0x2150) is None
    assert sym.lookup_vaddr("/opt/prog", 0x2100).name == "exported"  # type: ignore[union-attr]
    assert any("not used" in w for w in sym.warnings)
    assert any("stripped" in w for w in sym.warnings)


def test_debug_file_by_debuglink_and_crc(tmp_path: Path) -> None:
    d = tmp_path / "app"
    dbg = write_prog(d / ".debug" / "prog.debug")  # no build-ids: the CRC decides
    crc = zlib.crc32(dbg.read_bytes())
    write_prog(d / "prog", symbols=[], no_symbols=True, debuglink=("prog.debug", crc))
    sym = Symbolizer(cache=SymbolCache(None))
    assert sym.lookup_vaddr(str(d / "prog"), 0x2110).name == "f_one"  # type: ignore[union-attr]
    write_prog(d / "prog", symbols=[], no_symbols=True, debuglink=("prog.debug", crc ^ 1))
    sym = Symbolizer(cache=SymbolCache(None))
    assert sym.lookup_vaddr(str(d / "prog"), 0x2110) is None
    assert any("CRC" in w for w in sym.warnings)
    assert sym.files[str(d / "prog")].problem == "stripped: no symbols"


# -- build_profile / report on symbol-less texts -------------------------------------------

def test_offsets_named_with_the_caller_rule(tmp_path: Path) -> None:
    prog = write_prog(tmp_path / "bin" / "prog")
    text = mmap_line(prog)
    # leaf f_one; caller return address = f_two's start: the call was in f_one (addr - 1)
    text += sample([0x1110, 0x1140, 0x1250], prog, period=10)
    text += sample([0x1140, 0x1305], prog, period=5)  # a leaf at f_two's first byte
    (tmp_path / "s.txt").write_text(text)
    doc = report(str(tmp_path / "s.txt"))
    assert selfs(doc) == {"f_one": 10, "f_two": 5}
    assert totals(doc) == {"f_one": 10, "f_two": 5, "ns::f_zero": 10, "f_last": 5}
    d = doc["diagnostics"]
    assert d["address_forms"] == ["offset"]
    assert d["elf_frames"] == d["elf_frames_named"] == 4  # distinct (process, address)
    full = {f["name"]: f.get("full_names") for f in doc["functions"]}
    assert full["ns::f_zero"] == ["ns::f_zero(int)"] and full["f_one"] is None


def test_raw_addresses_and_no_callchain(tmp_path: Path) -> None:
    prog = write_prog(tmp_path / "bin" / "prog")
    text = mmap_line(prog)
    text += sample([START + 0x110, START + 0x140, START + 0x250], prog)  # perf >= 6.5
    # a text without callchains: the sample ip on the header line
    text += f"prog 100/100 2.0: 3 cpu-clock: {START + 0x305:x} ({prog})\n"
    (tmp_path / "r.txt").write_text(text)
    doc = report(str(tmp_path / "r.txt"))
    assert selfs(doc) == {"f_one": 10, "f_last": 3}
    assert totals(doc)["ns::f_zero"] == 10 and totals(doc)["f_one"] == 10
    assert doc["diagnostics"]["address_forms"] == ["raw"]


def test_proc_maps_instead_of_mmap_events(tmp_path: Path) -> None:
    prog = write_prog(tmp_path / "bin" / "prog")
    (tmp_path / "r.txt").write_text(sample([START + 0x110, START + 0x250], prog))
    maps = tmp_path / "maps-100"
    maps.write_text(f"{START:x}-{START + 0x1000:x} r-xp 00001000 fe:00 1   {prog}\n")
    assert "f_one" not in selfs(report(str(tmp_path / "r.txt")))
    doc = report(str(tmp_path / "r.txt"), "--proc-maps", str(maps))
    assert selfs(doc) == {"f_one": 10}


def test_policy_keeps_or_replaces_perfs_names(tmp_path: Path) -> None:
    prog = write_prog(tmp_path / "bin" / "prog")
    text = mmap_line(prog) + (
        f"prog 100/100 1.0: 10 cpu-clock:\n\t1110 perf_says+0x10 ({prog})\n"
        f"\t1250 [unknown] ({prog})\n\n")
    (tmp_path / "s.txt").write_text(text)
    assert totals(report(str(tmp_path / "s.txt"))) == {"perf_says": 10, "ns::f_zero": 10}
    assert totals(report(str(tmp_path / "s.txt"), "--elf-symbols", "always")) == {
        "f_one": 10, "ns::f_zero": 10}
    assert totals(report(str(tmp_path / "s.txt"), "--elf-symbols", "never")) == {
        "perf_says": 10, "[unknown]": 10}


def test_recorded_build_id_in_mmap_events(tmp_path: Path) -> None:
    prog = write_prog(tmp_path / "bin" / "prog", build_id=b"\x01" * 20)
    text = mmap_line(prog, extra="<" + "02" * 20 + ">") + sample([0x1110], prog)
    (tmp_path / "s.txt").write_text(text)
    doc = report(str(tmp_path / "s.txt"))
    assert selfs(doc) == {"[unknown]": 10}  # not the recorded file: not named, said
    assert any("build-id" in w and "02" * 20 in w for w in doc["diagnostics"]["warnings"])
    (f,) = doc["diagnostics"]["elf_files"]
    assert f["build_id_mismatch"] and f["recorded_build_id"] == "02" * 20
    doc = report(str(tmp_path / "s.txt"), "--binary", f"prog={prog}")
    assert selfs(doc) == {"f_one": 10}  # the user named it: used, but not silently
    assert any("differs" in w and "02" * 20 in w for w in doc["diagnostics"]["warnings"])


def test_kernel_frames_from_kallsyms(tmp_path: Path) -> None:
    k = tmp_path / "kallsyms"
    k.write_text("ffffffff81000000 T func_a\nffffffff81000100 T func_b\n")
    prog = write_prog(tmp_path / "bin" / "prog")
    text = mmap_line(prog) + (
        "prog 100/100 1.0: 10 cpu-clock:\n\tffffffff81000050 ([kernel.kallsyms])\n"
        "\tffffffff81000100 ([kernel.kallsyms])\n"  # a return address: func_a (addr - 1)
        f"\t1140 ({prog})\n\n")  # the interrupted user frame: an exact ip (f_two)
    (tmp_path / "k.txt").write_text(text)
    doc = report(str(tmp_path / "k.txt"), "--kallsyms", str(k))
    assert selfs(doc) == {"func_a": 10}
    assert totals(doc) == {"func_a": 10, "f_two": 10}
    kinds = {f["name"]: f["kind"] for f in doc["functions"]}
    assert kinds["func_a"] == "kernel"
    assert doc["diagnostics"]["kernel_frames_named"] == 2
    assert not any("_text" in w for w in doc["diagnostics"]["warnings"])
    # a kallsyms of another boot (its _text elsewhere than the recorded kernel map)
    k.write_text("ffffffff81000000 T _text\nffffffff81000000 T func_a\n"
                 "ffffffff81000100 T func_b\n")
    (tmp_path / "k2.txt").write_text(
        "swapper 0/0 0.0: PERF_RECORD_MMAP -1/0: [0xffffffff9a000000(0x1000000) @ "
        "0xffffffff9a000000]: x [kernel.kallsyms]_text\n" + text)
    doc = report(str(tmp_path / "k2.txt"), "--kallsyms", str(k))
    assert any("_text (0xffffffff81000000) is not where the recorded kernel was" in w
               for w in doc["diagnostics"]["warnings"])


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text(sample([0x1110], tmp_path / "prog"))
    r = CliRunner().invoke(main, ["report", str(tmp_path / "s.txt"), "--binary", "nodso"])
    assert r.exit_code == 2 and "DSO=PATH" in r.output
    r = CliRunner().invoke(main, ["report", str(tmp_path / "s.txt"), "--symfs",
                                  str(tmp_path / "nodir")])
    assert r.exit_code == 1 and "--symfs is not a directory" in r.output
    bad = tmp_path / "maps"
    bad.write_text("nonsense\n")
    r = CliRunner().invoke(main, ["report", str(tmp_path / "s.txt"), "--proc-maps", str(bad)])
    assert r.exit_code == 1 and f"{bad}:1: not a /proc/<pid>/maps line" in r.output
    assert "Traceback" not in r.output


def test_export_takes_the_same_options(tmp_path: Path) -> None:
    write_prog(tmp_path / "symfs" / "opt" / "prog")
    text = (f"prog 100/100 0.5: PERF_RECORD_MMAP2 100/100: [{START:#x}(0x1000) @ 0x1000 fe:00 "
            "1 0]: r-xp /opt/prog\n"
            "prog 100/100 1.0: 10 cpu-clock:\n\t1110 (/opt/prog)\n\t1250 (/opt/prog)\n\n")
    (tmp_path / "s.txt").write_text(text)
    out = tmp_path / "out.folded"
    r = CliRunner().invoke(main, ["export", str(tmp_path / "s.txt"), "--no-tmp", "-o", str(out),
                                  "--symfs", str(tmp_path / "symfs")])
    assert r.exit_code == 0, r.output
    assert out.read_text() == "ns::f_zero;f_one 10\n"


def test_full_names_survive_json_profiles_and_merges(tmp_path: Path) -> None:
    from jitprof.inputs.profilefile import parse_profile_json, profile_json
    from jitprof.model.merge import merge_profiles, select_threads

    prog = write_prog(tmp_path / "bin" / "prog")
    (tmp_path / "s.txt").write_text(mmap_line(prog) + sample([0x1250, 0x1110], prog))
    from jitprof.resolve import load_profile

    p = load_profile([str(tmp_path / "s.txt")], search_tmp=False)
    fid = next(i for i, f in enumerate(p.frames) if f.name == "ns::f_zero")
    assert p.full_names == {fid: ("ns::f_zero(int)",)}
    back = parse_profile_json(profile_json(p), "x.json")
    assert back == p
    merged = merge_profiles([p, back])
    mid = next(i for i, f in enumerate(merged.frames) if f.name == "ns::f_zero")
    assert merged.full_names == {mid: ("ns::f_zero(int)",)}
    sel = select_threads(merged, pids=[100])
    sid = next(i for i, f in enumerate(sel.frames) if f.name == "ns::f_zero")
    assert sel.full_names == {sid: ("ns::f_zero(int)",)}
    with pytest.raises(InputError, match="out of range"):
        parse_profile_json(profile_json(p).replace(f'"full_names": {{"{fid}"',
                                                   '"full_names": {"99"'), "x.json")


def test_perf_build_id_cache(tmp_path: Path) -> None:
    """perf record copies each hit file to ~/.debug/.build-id/xx/rest/elf: a file gone
    from its recorded path is found there by its recorded build-id."""
    bid = bytes(range(30, 50))
    hexid = bid.hex()
    cached = tmp_path / ".debug" / ".build-id" / hexid[:2] / hexid[2:] / "elf"
    write_prog(cached, build_id=bid)
    sym = Symbolizer(build_ids={"/gone/prog": hexid}, build_id_cache=str(tmp_path / ".debug"),
                     cache=SymbolCache(None))
    assert sym.lookup_vaddr("/gone/prog", 0x2110).name == "f_one"  # type: ignore[union-attr]
    assert sym.files["/gone/prog"].path == str(cached)
    sym = Symbolizer(build_id_cache=str(tmp_path / ".debug"), cache=SymbolCache(None))
    assert sym.lookup_vaddr("/gone/prog", 0x2110) is None  # no recorded build-id: no lookup


def test_kallsyms_that_names_nothing_is_said(tmp_path: Path) -> None:
    prog = write_prog(tmp_path / "bin" / "prog")
    text = mmap_line(prog) + (
        "prog 100/100 1.0: 10 cpu-clock:\n\tffffffff81000050 ([kernel.kallsyms])\n"
        f"\t1140 ({prog})\n\n")
    (tmp_path / "k.txt").write_text(text)
    hidden = tmp_path / "hidden"  # kptr_restrict: every address printed as zero
    hidden.write_text("0000000000000000 T func_a\n0000000000000000 T func_b\n")
    # given explicitly: an error naming the file
    r = CliRunner().invoke(main, ["report", str(tmp_path / "k.txt"), "--kallsyms", str(hidden)])
    assert r.exit_code == 1, r.output
    assert f"{hidden}: --kallsyms: no kernel function symbols" in r.output
    # found implicitly (under --symfs) but useless: the frames stay unnamed, with a warning
    symfs = tmp_path / "symfs"
    (symfs / "proc").mkdir(parents=True)
    (symfs / "proc" / "kallsyms").write_text(hidden.read_text())
    doc = report(str(tmp_path / "k.txt"), "--symfs", str(symfs))
    assert selfs(doc) == {"[unknown]": 10}
    assert doc["diagnostics"]["kernel_frames_named"] == 0
    assert any("kptr_restrict" in w and str(symfs) in w
               for w in doc["diagnostics"]["warnings"])
