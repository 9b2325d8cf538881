"""Fuzzing the parsers with hypothesis (issue 13): the perf map, perf script and jitdump
readers meet arbitrary bytes and mangled real lines. They may refuse an input only with a
``JitprofError`` (the CLI's one-line error), never any other exception; a profile built
from what they read always verifies, and its rows always sum to its samples.

The examples are derived from a fixed seed (``derandomize``): CI runs the same cases every
time, and a failure prints the smallest input that shows it.
"""

from __future__ import annotations

import io
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jitprof.errors import JitprofError
from jitprof.parse import ScriptReader
from jitprof.present.rows import function_rows
from jitprof.resolve import MapFinder, build_profile
from jitprof.symbols.jitdump import parse_jitdump
from jitprof.symbols.perfmap import parse_perf_map
from tests.jitdumpfile import DebugInfo, Dump, Load, Move, Raw
from tests.test_perf_texts import HEADER
from tests.test_script import DEFAULT

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- perf maps ------------------------------------------------------------------------------

MAP_LINES = [
    b"7fe801b67000 55 case0_plain_hex", b"0x7fe801b68000 0x55 case1_0x_prefixed",
    b"7FE801B6A000 55 UPPERCASE_HEX", b"  7fe801b67000 55 leading_ws",
    b"7fe801b6e000\t55\ttab_separated", b"7fe801b6d000 55 crlf_name\r",
    b"7fe801b6c000 55 ab", b"7fe801b6b000 0 zero_size", b"this is not a valid line",
    b"# address size name", b"0x00007f1af0ecf1c0 0x0000000000000328 void Hot.sortHeavy()",
    b'7f5251fc7d80 414 "HHVM::pcre_jit::/a\\\\d/"', b"ffffffffffffffff ffffffffffffffff x",
    b"7fe801b69000 55 PHP::/srv/www/a b.php::Foo::bar(int, string) [weird]",
]


@st.composite
def map_texts(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(st.sampled_from(MAP_LINES), st.binary(max_size=40)),
                          max_size=30))
    sep = draw(st.sampled_from([b"\n", b"\r\n", b"\n\n"]))
    return sep.join(lines) + draw(st.sampled_from([b"", b"\n"]))


@FUZZ
@given(map_texts(), st.booleans(), st.lists(st.integers(0, (1 << 64) - 1), max_size=20))
def test_perf_map_parser_fails_only_with_jitprof_errors(data: bytes, strict: bool,
                                                        addrs: list[int]) -> None:
    try:
        pm = parse_perf_map(data, "fuzz.map", strict=strict)
    except JitprofError:
        return
    assert pm.lines >= len(pm) and pm.bad >= 0
    for addr, e in pm.lookup_all(addrs).items():
        assert e.start <= addr and (addr < e.end or e.start == e.end == addr)


# -- perf script ----------------------------------------------------------------------------

SCRIPT_LINES = (DEFAULT + HEADER).splitlines() + [
    "func_ab 15294 cpu-clock: ",
    "\t    7f4547d9a53a determine_info+0x13a (inlined)",
    "\t    7f4547d9a53a __GI__dl_addr+0x13a (inlined)",
    "\tffffffffffffffff [unknown] ([unknown])",
    "\t          970cb7 __schedule (/lib/modules/4.3.0-rc1-virtual/build/vmlinux)",
    "\t              b6 JS:*fib /x.js:2:13+0x36 (/tmp/jitted-31714-1.so)",
    "\t    6d2f70756f726763 [unknown] ([unknown])",
    "\t    7f5251fc6497 JS:^sortMany /tmp/demo/node/work.js:4:11+0x2d7 (/tmp/perf-8598.map)",
    "\t    7f5251fc6497 [unknown] (//anon)",
    "  prog.cpp:14",
    " 4605",
    "prog 4305 [000] 258.769073: 1001001 cpu-clock:      7f80821aec27 check_match+0x67 (/x)",
    "node  8598   490.643936: PERF_RECORD_MMAP2 8598/8598: [0x7f5251fc3000(0x3c000) @ "
    "0x7f5251fc3000 00:00 0 0]: rwxp //anon",
    "swapper     0     0.000000: PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1209988) @ "
    "0xffffffff81000000]: x [kernel.kallsyms]_text",
    "prog 10349/10351 1.0: PERF_RECORD_COMM: my worker 1:10349/10351",
    "prog 1 2.0: PERF_RECORD_FORK(10349:10352):(10349:10349)",
    "Warning:", "", "", "",
]


@st.composite
def script_texts(draw: st.DrawFn) -> str:
    def mangle(line: str) -> str:
        how = draw(st.integers(0, 9))
        if how == 0:
            return line.replace("\t", draw(st.sampled_from(["", " ", "    ", "\t\t"])))
        if how == 1 and line:
            cut = draw(st.integers(0, len(line)))
            return line[:cut]
        if how == 2:
            return line + draw(st.text(max_size=8))
        if how == 3:
            return draw(st.text(max_size=30))
        return line

    lines = draw(st.lists(st.sampled_from(SCRIPT_LINES), max_size=40))
    text = "\n".join(mangle(ln) for ln in lines)
    return text + draw(st.sampled_from(["", "\n", "\n\n"]))


def _check_profile(reader: ScriptReader) -> None:
    try:
        prof = build_profile(reader.data, MapFinder(search_tmp=False))
    except JitprofError:
        return
    prof.verify()
    rows = function_rows(prof)
    assert sum(r.self_samples for r in rows) + sum(
        n for st_, _w, n, _t in prof.iter_stacks() if not st_) == prof.samples
    assert sum(r.self_weight for r in rows) == prof.weight
    assert prof.samples == sum(e.samples for e in reader.data.events.values()
                               if e.name == prof.event)


@FUZZ
@given(script_texts())
def test_perf_script_reader_fails_only_with_jitprof_errors(text: str) -> None:
    for read in ("lines", "stream"):
        reader = ScriptReader()
        try:
            if read == "lines":
                reader.read_lines(text.splitlines(keepends=True), "fuzz.txt")
            else:  # the block reader, in small chunks (blocks cut across reads)
                reader.read_text(io.StringIO(text), "fuzz.txt", chunk=37)
        except JitprofError:
            continue
        _check_profile(reader)


@FUZZ
@given(st.binary(max_size=600))
def test_perf_script_reader_on_bytes(data: bytes) -> None:
    reader = ScriptReader()
    try:
        reader.read_text(io.StringIO(data.decode("utf-8", "surrogateescape")), "fuzz.bin")
    except JitprofError:
        return
    _check_profile(reader)


# -- jitdump --------------------------------------------------------------------------------

@st.composite
def jitdumps(draw: st.DrawFn) -> bytes:
    recs: list[object] = []
    t = 0
    for _ in range(draw(st.integers(0, 6))):
        t += draw(st.integers(0, 1000))
        kind = draw(st.integers(0, 3))
        addr = draw(st.sampled_from([0x7F0000001000, 0x7F0000002000, 0, (1 << 64) - 16]))
        if kind == 0:
            recs.append(Load(t, addr, draw(st.integers(0, 64)), draw(st.text(max_size=12)),
                             draw(st.integers(0, 5))))
        elif kind == 1:
            recs.append(Move(t, addr, (addr + 0x100) % (1 << 64), draw(st.integers(0, 64)),
                             draw(st.integers(0, 5))))
        elif kind == 2:
            recs.append(DebugInfo(t, addr, [(addr, 3, 0, "a.js"), (addr + 4, 4, 0, "\xff")]))
        else:
            recs.append(Raw(draw(st.integers(0, 9)), draw(st.binary(max_size=40)), t,
                            draw(st.one_of(st.none(), st.integers(0, 200)))))
    dump = Dump(1234, recs, byte_order=draw(st.sampled_from(["<", ">"])),
                closed=draw(st.booleans()), pad1=draw(st.sampled_from([0, 0xDEADBEEF])))
    data = bytearray(dump.encode())
    for _ in range(draw(st.integers(0, 4))):  # flip bytes anywhere, header included
        if data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return bytes(data if cut is None else data[:cut])


@FUZZ
@given(st.one_of(jitdumps(), st.binary(max_size=200),
                 st.binary(max_size=100).map(lambda b: struct.pack("<I", 0x4A695444) + b)))
def test_jitdump_parser_fails_only_with_jitprof_errors(data: bytes) -> None:
    try:
        jd = parse_jitdump(data, "jit-1234.dump")
    except JitprofError:
        return
    tl = jd.timeline()
    assert tl is not None
