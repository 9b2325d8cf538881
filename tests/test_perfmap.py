"""perfmap: the perf-map line grammar, bad-line accounting and "later line wins" lookups."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from jitprof.errors import InputError
from jitprof.symbols.intervals import Entry, LatestWinsIndex
from jitprof.symbols.perfmap import (
    MAX_KEPT_DIAGNOSTICS,
    PerfMap,
    load_perf_map,
    parse_perf_map,
    pid_from_map_name,
)

MAP = "/tmp/perf-4242.map"

# Verbatim lines of /tmp/perf-12693.map written by
#   perf record -F 999 -g -e cpu-clock -o node.data -- node --perf-basic-prof work.js
# (node v20, work.js computes fib(20) in a loop); lines 1, 2323, 2325 and 2329 of 2495.
NODE_MAP = (
    b"18c4000 300 Builtin:DeoptimizationEntry_Eager\n"
    b"10f8457cb29e 2a JS:~fib /tmp/rec/work.js:1:13\n"
    b"7fc0bf7c5b80 100 JS:^fib /tmp/rec/work.js:1:13\n"
    b"7fc0bf7c6180 180 JS:*fib /tmp/rec/work.js:1:13\n"
)
# Three callchain frames of that recording (perf script -i node.data); perf named them
# from the map above, the "+0x.." is the distance from the entry's start.
NODE_FRAMES = (
    "\t    7fc0bf7c619d JS:*fib /tmp/rec/work.js:1:13+0x1d (/tmp/perf-12693.map)\n"
    "\t    7fc0bf7c6217 JS:*fib /tmp/rec/work.js:1:13+0x97 (/tmp/perf-12693.map)\n"
    "\t    7fc0bf7c625c JS:*fib /tmp/rec/work.js:1:13+0xdc (/tmp/perf-12693.map)\n"
)


def one(line: bytes) -> tuple[int, int, str]:
    """Parse a one-line map that must yield exactly one entry: (start, end, name)."""
    pm = parse_perf_map(line, MAP)
    assert (len(pm), pm.bad, pm.blank) == (1, 0, 0), pm.diagnostics
    return pm.starts[0], pm.ends[0], pm.name(0)


def entries(pm: PerfMap) -> list[tuple[int, int, int, str]]:
    return [(pm.starts[i], pm.ends[i], pm.linenos[i], pm.name(i)) for i in range(len(pm))]


# --- numbers ---------------------------------------------------------------------------


def test_hex_without_prefix_lower_case() -> None:
    assert one(b"7fe801b67000 55 case0_plain_hex\n") == (
        0x7FE801B67000, 0x7FE801B67055, "case0_plain_hex")


def test_hex_with_0x_prefix() -> None:
    assert one(b"0x7fe801b68000 0x55 case1_0x_prefixed\n") == (
        0x7FE801B68000, 0x7FE801B68055, "case1_0x_prefixed")


def test_hex_with_upper_case_0X_prefix() -> None:
    assert one(b"0X10 0X20 x\n") == (0x10, 0x30, "x")


def test_hex_upper_case_digits() -> None:
    assert one(b"7FE801B6A000 5A UPPERCASE_HEX\n") == (
        0x7FE801B6A000, 0x7FE801B6A05A, "UPPERCASE_HEX")


def test_dotnet_line_upper_case_zero_padded() -> None:
    # a real .NET map line (perf-formats.md section 3)
    line = (b"00007FABB90D4480 2e instance bool [System.Private.CoreLib] "
            b"dynamicClass::IL_STUB_UnboxingStub()\n")
    assert one(line) == (0x7FABB90D4480, 0x7FABB90D44AE,
                         "instance bool [System.Private.CoreLib] "
                         "dynamicClass::IL_STUB_UnboxingStub()")


def test_jdk_line_0x_prefixed_zero_padded() -> None:
    # JDK 17 -XX:+DumpPerfMapAtExit (perf-formats.md section 3)
    line = b"0x00007fd54cec7640 0x0000000000000130 long W.fib(int)\n"
    assert one(line) == (0x7FD54CEC7640, 0x7FD54CEC7770, "long W.fib(int)")


def test_leading_blanks_before_start() -> None:
    assert one(b"  7fe801b67000 55 leading_ws\n") == (
        0x7FE801B67000, 0x7FE801B67055, "leading_ws")


def test_leading_tab_before_start() -> None:
    assert one(b"\t10 20 x\n") == (0x10, 0x30, "x")


def test_tabs_as_separators() -> None:
    assert one(b"7fe801b6e000\t55\ttab_separated\n") == (
        0x7FE801B6E000, 0x7FE801B6E055, "tab_separated")


def test_several_blanks_between_start_and_size() -> None:
    assert one(b"7fe801b68000  55 two_spaces_before_size\n") == (
        0x7FE801B68000, 0x7FE801B68055, "two_spaces_before_size")
    assert one(b"10 \t  20 mixed\n") == (0x10, 0x30, "mixed")


def test_size_zero_padded_with_0x() -> None:
    assert one(b"10 0x0000000000000020 padded\n") == (0x10, 0x30, "padded")


def test_largest_range_whose_end_fits_64_bits() -> None:
    assert one(b"ffffffffffffff00 ff top\n") == (0xFFFFFFFFFFFFFF00, 0xFFFFFFFFFFFFFFFF, "top")


# --- names -----------------------------------------------------------------------------

NAMES = [
    "JS:*fib /tmp/rec/work.js:1:13",
    "JS:~ node:internal/main/run_main_module:1:1",
    "PHP::/srv/www/a b.php::Foo::bar(int, string) [weird]",
    "HPHP::f_sort(HPHP::Variant&, long)",
    '"HHVM::pcre_jit::/^([a-z]+)\\\\d+$/i"',
    "py::Sorter.sort_many.<locals>.<lambda>:/tmp/work.py",
    "name\twith\ttabs",
    "it's \"quoted\"",
    "Ünïcödé → 函数",
    "RegExp:([a-z]+)(\\d+)",
    "trailing blanks  ",
]


@pytest.mark.parametrize("name", NAMES)
def test_name_is_the_rest_of_the_line_verbatim(name: str) -> None:
    assert one(b"10 20 " + name.encode() + b"\n") == (0x10, 0x30, name)


def test_second_blank_before_name_belongs_to_the_name() -> None:
    # perf skips exactly one separator: the name is " two_spaces_before_name"
    assert one(b"7fe801b69000 55  two_spaces_before_name\n")[2] == " two_spaces_before_name"


def test_tab_then_blank_before_name_belongs_to_the_name() -> None:
    assert one(b"10 20\t x\n")[2] == " x"


@pytest.mark.parametrize("name", ["x", "ab"])
def test_short_names_kept(name: str) -> None:
    # perf drops names shorter than 3 characters; we keep them
    assert one(b"7fe801b6c000 55 " + name.encode() + b"\n")[2] == name


def test_invalid_utf8_in_name_is_replaced_when_decoded() -> None:
    pm = parse_perf_map(b"10 20 a\xffb\n", MAP)
    assert pm.raw_name(0) == b"a\xffb"
    assert pm.name(0) == "a\ufffdb"


def test_crlf_line_endings_stripped() -> None:
    pm = parse_perf_map(b"10 20 crlf_name\r\n30 10 second\r\n", MAP)
    assert entries(pm) == [(0x10, 0x30, 1, "crlf_name"), (0x30, 0x40, 2, "second")]


def test_only_one_carriage_return_stripped() -> None:
    assert one(b"10 20 name\r\r\n")[2] == "name\r"


def test_carriage_return_inside_name_kept() -> None:
    assert one(b"10 20 a\rb\n")[2] == "a\rb"


def test_unterminated_last_line_kept_whole() -> None:
    # perf chops the last character of every line: "last_line_no_newlin"; we do not
    pm = parse_perf_map(b"10 20 first\n7fe801b6f000 55 last_line_no_newline", MAP)
    assert entries(pm) == [(0x10, 0x30, 1, "first"),
                           (0x7FE801B6F000, 0x7FE801B6F055, 2, "last_line_no_newline")]
    assert pm.lines == 2


def test_unterminated_last_line_with_carriage_return() -> None:
    pm = parse_perf_map(b"10 20 first\r\n30 10 last\r", MAP)
    assert [pm.name(i) for i in range(len(pm))] == ["first", "last"]


def test_real_node_map_lines() -> None:
    pm = parse_perf_map(NODE_MAP, "/tmp/perf-12693.map")
    assert pm.pid == 12693
    assert entries(pm) == [
        (0x18C4000, 0x18C4300, 1, "Builtin:DeoptimizationEntry_Eager"),
        (0x10F8457CB29E, 0x10F8457CB2C8, 2, "JS:~fib /tmp/rec/work.js:1:13"),
        (0x7FC0BF7C5B80, 0x7FC0BF7C5C80, 3, "JS:^fib /tmp/rec/work.js:1:13"),
        (0x7FC0BF7C6180, 0x7FC0BF7C6300, 4, "JS:*fib /tmp/rec/work.js:1:13"),
    ]
    assert (pm.lines, pm.bad, pm.blank, pm.zero_size, pm.overlapping) == (4, 0, 0, 0, 0)


def test_real_node_frames_resolve_like_perf() -> None:
    # the addresses perf printed as "JS:*fib ...+0xOFF" resolve to that entry, OFF from start
    pm = parse_perf_map(NODE_MAP, "/tmp/perf-12693.map")
    for line in NODE_FRAMES.splitlines():
        addr_s, _, rest = line.strip().partition(" ")
        addr = int(addr_s, 16)
        sym, _, _ = rest.rpartition(" (")
        name, _, off = sym.rpartition("+0x")
        e = pm.lookup_all([addr])[addr]
        assert e.name == name == "JS:*fib /tmp/rec/work.js:1:13"
        assert addr - e.start == int(off, 16)


# --- zero size, blank lines, bad lines ---------------------------------------------------


def test_zero_size_entry_kept_and_counted() -> None:
    pm = parse_perf_map(b"7fe801b6b000 0 zero_size\n10 20 x\n", MAP)
    assert [(pm.starts[i], pm.linenos[i], pm.name(i)) for i in range(len(pm))] == [
        (0x7FE801B6B000, 1, "zero_size"), (0x10, 2, "x")]
    assert (pm.zero_size, pm.bad) == (1, 0)


def test_zero_size_entry_covers_only_its_start_byte() -> None:
    pm = parse_perf_map(b"1000 0 point\n", MAP)
    got = pm.lookup_all([0xFFF, 0x1000, 0x1001])
    assert {a: e.name for a, e in got.items()} == {0x1000: "point"}


def test_blank_lines_ignored_and_counted_separately() -> None:
    pm = parse_perf_map(b"\n10 20 a\n\n   \n\t\n30 10 b\n", MAP)
    assert entries(pm) == [(0x10, 0x30, 2, "a"), (0x30, 0x40, 6, "b")]
    assert (pm.lines, pm.blank, pm.bad) == (6, 4, 0)
    assert pm.diagnostics == []


def test_blank_crlf_line_is_blank() -> None:
    pm = parse_perf_map(b"10 20 a\r\n\r\n", MAP)
    assert (len(pm), pm.lines, pm.blank, pm.bad) == (1, 2, 1, 0)


BAD_LINES = [
    pytest.param(b"this is not a valid line", "not 'START SIZE NAME' in hex", id="words"),
    pytest.param(b"# address size name", "not 'START SIZE NAME' in hex", id="comment"),
    pytest.param(b"xyz 20 name", "not 'START SIZE NAME' in hex", id="bad-hex-start"),
    pytest.param(b"10 2g name", "not 'START SIZE NAME' in hex", id="bad-hex-size"),
    pytest.param(b"10q 20 x", "not 'START SIZE NAME' in hex", id="partial-hex-start"),
    pytest.param(b"10 20q x", "not 'START SIZE NAME' in hex", id="partial-hex-size"),
    pytest.param(b"-10 20 x", "not 'START SIZE NAME' in hex", id="negative-start"),
    pytest.param(b"10 -20 x", "not 'START SIZE NAME' in hex", id="negative-size"),
    pytest.param(b"+10 20 x", "not 'START SIZE NAME' in hex", id="plus-start"),
    pytest.param(b"10 +20 x", "not 'START SIZE NAME' in hex", id="plus-size"),
    pytest.param(b"1_0 20 x", "not 'START SIZE NAME' in hex", id="underscore-start"),
    pytest.param(b"10 2_0 x", "not 'START SIZE NAME' in hex", id="underscore-size"),
    pytest.param(b"0x 20 x", "not 'START SIZE NAME' in hex", id="bare-0x"),
    pytest.param(b"0x0x10 20 x", "not 'START SIZE NAME' in hex", id="double-0x"),
    pytest.param(b"10,20,x", "not 'START SIZE NAME' in hex", id="comma-separators"),
    pytest.param(b"10", "not 'START SIZE NAME' in hex", id="start-only"),
    pytest.param(b"7fe801b6d000 55", "missing name", id="missing-name"),
    pytest.param(b"7fe801b6d000 55 ", "missing name", id="missing-name-blank"),
    pytest.param(b"10 20  ", "missing name", id="name-only-blanks"),
    pytest.param(b"10 20 \t", "missing name", id="name-only-tab"),
    pytest.param(b"\t10 20\t", "missing name", id="missing-name-tabs"),
    pytest.param(b"ffffffffffffff00 100 top", "range past the end of the address space",
                 id="end-is-2**64"),
    pytest.param(b"ffffffffffffffff 2 x", "range past the end of the address space",
                 id="end-past-2**64"),
    pytest.param(b"10000000000000000 0 x", "range past the end of the address space",
                 id="start-is-2**64"),
    pytest.param(b"  ffffffffffffffff\t2 x", "range past the end of the address space",
                 id="end-past-2**64-slow-path"),
]


@pytest.mark.parametrize(("line", "why"), BAD_LINES)
def test_bad_line_skipped_and_counted_with_line_number(line: bytes, why: str) -> None:
    pm = parse_perf_map(b"10 20 good\n" + line + b"\n30 10 also_good\n", MAP)
    assert entries(pm) == [(0x10, 0x30, 1, "good"), (0x30, 0x40, 3, "also_good")]
    assert (pm.lines, pm.bad, pm.blank) == (3, 1, 0)
    assert len(pm.diagnostics) == 1
    d = pm.diagnostics[0]
    assert (d.path, d.lineno) == (MAP, 2)
    assert d.message.startswith(f"bad map line ({why}): ")


@pytest.mark.parametrize(("line", "why"), BAD_LINES)
def test_bad_line_under_strict_raises_with_path_and_line(line: bytes, why: str) -> None:
    with pytest.raises(InputError) as info:
        parse_perf_map(b"10 20 good\n\n" + line + b"\n", MAP, strict=True)
    err = info.value
    assert (err.path, err.lineno) == (MAP, 3)
    assert str(err).startswith(f"{MAP}:3: bad map line ({why})")


def test_strict_accepts_a_clean_map() -> None:
    pm = parse_perf_map(b"10 20 a\n\n0x30 0X10 b\n", MAP, strict=True)
    assert [pm.name(i) for i in range(len(pm))] == ["a", "b"]


def test_long_bad_line_shortened_in_message() -> None:
    pm = parse_perf_map(b"zz " + b"y" * 100 + b"\n", MAP)
    msg = pm.diagnostics[0].message
    assert msg == "bad map line (not 'START SIZE NAME' in hex): " + repr("zz " + "y" * 54 + "...")


def test_diagnostics_capped_but_every_bad_line_counted() -> None:
    data = b"".join(b"bad line %d\n" % i for i in range(MAX_KEPT_DIAGNOSTICS + 10))
    pm = parse_perf_map(data, MAP)
    assert pm.bad == MAX_KEPT_DIAGNOSTICS + 10
    assert len(pm.diagnostics) == MAX_KEPT_DIAGNOSTICS
    assert [d.lineno for d in pm.diagnostics] == list(range(1, MAX_KEPT_DIAGNOSTICS + 1))


def test_empty_map() -> None:
    pm = parse_perf_map(b"", MAP)
    assert (len(pm), pm.lines, pm.blank, pm.bad, pm.zero_size, pm.overlapping) == (0, 0, 0, 0,
                                                                                   0, 0)
    assert pm.lookup_all([0, 0x10]) == {}
    assert len(pm.index_for([0x10])) == 0


def test_map_with_only_bad_lines() -> None:
    pm = parse_perf_map(b"junk\n10q 20 x\n-10 20 x\n", MAP)
    assert (len(pm), pm.lines, pm.bad, pm.blank) == (0, 3, 3, 0)
    assert [d.lineno for d in pm.diagnostics] == [1, 2, 3]
    assert pm.lookup_all([0x10, 0x20]) == {}


# --- pid, files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "pid"),
    [
        ("/tmp/perf-1234.map", 1234),
        ("perf-7.map", 7),
        ("/some/dir/perf-8598.map", 8598),
        ("/tmp/custom.map", None),
        ("/tmp/perf-abc.map", None),
        ("/tmp/perf-.map", None),
    ],
)
def test_pid_from_file_name(path: str, pid: int | None) -> None:
    assert pid_from_map_name(path) == pid
    assert parse_perf_map(b"", path).pid == pid


def test_pid_only_from_the_base_name() -> None:
    assert pid_from_map_name("/tmp/perf-12.map/other.map") is None


def test_load_perf_map_reads_file(tmp_path: Path) -> None:
    p = tmp_path / "perf-31337.map"
    p.write_bytes(b"10 20 a\n\njunk\n30 10 b")
    pm = load_perf_map(str(p))
    assert pm.path == str(p)
    assert pm.pid == 31337
    assert entries(pm) == [(0x10, 0x30, 1, "a"), (0x30, 0x40, 4, "b")]
    assert (pm.lines, pm.blank, pm.bad) == (4, 1, 1)
    assert pm.mtime == p.stat().st_mtime
    assert pm.diagnostics[0].path == str(p)


def test_load_perf_map_strict(tmp_path: Path) -> None:
    p = tmp_path / "perf-5.map"
    p.write_bytes(b"10 20 a\nnot a map line\n")
    with pytest.raises(InputError) as info:
        load_perf_map(str(p), strict=True)
    assert (info.value.path, info.value.lineno) == (str(p), 2)


def test_load_missing_map_raises_input_error(tmp_path: Path) -> None:
    p = tmp_path / "perf-6.map"
    with pytest.raises(InputError) as info:
        load_perf_map(str(p))
    assert info.value.path == str(p)
    assert "cannot read map" in info.value.message


# --- "later line wins" -----------------------------------------------------------------


def names_at(pm: PerfMap, addrs: list[int]) -> dict[int, str]:
    return {a: e.name for a, e in pm.lookup_all(addrs).items()}


def test_same_start_later_line_wins() -> None:
    # node wrote these two lines one after the other (perf-formats.md section 0.3)
    pm = parse_perf_map(b"7f5251fc7d80 102c JS:*sortMany /tmp/demo/node/work.js:4:11\n"
                        b"7f5251fc7d80 414 JS:*regexWork /tmp/demo/node/work.js:16:19\n"
                        b"7f5251fc8200 104 JS:^protoGetter node:net:872:21\n", MAP)
    got = names_at(pm, [0x7F5251FC7D80, 0x7F5251FC8193, 0x7F5251FC8194, 0x7F5251FC81FF,
                        0x7F5251FC8200, 0x7F5251FC8303, 0x7F5251FC8304, 0x7F5251FC8DAB,
                        0x7F5251FC8DAC])
    assert got == {
        0x7F5251FC7D80: "JS:*regexWork /tmp/demo/node/work.js:16:19",
        0x7F5251FC8193: "JS:*regexWork /tmp/demo/node/work.js:16:19",
        0x7F5251FC8194: "JS:*sortMany /tmp/demo/node/work.js:4:11",  # stale tail
        0x7F5251FC81FF: "JS:*sortMany /tmp/demo/node/work.js:4:11",
        0x7F5251FC8200: "JS:^protoGetter node:net:872:21",
        0x7F5251FC8303: "JS:^protoGetter node:net:872:21",
        0x7F5251FC8304: "JS:*sortMany /tmp/demo/node/work.js:4:11",
        0x7F5251FC8DAB: "JS:*sortMany /tmp/demo/node/work.js:4:11",
    }
    assert pm.overlapping == 3


def test_same_start_same_size_later_line_wins() -> None:
    pm = parse_perf_map(b"100 10 first\n100 10 second\n100 10 third\n", MAP)
    e = pm.lookup_all([0x105])[0x105]
    assert (e.name, e.order, e.start, e.end) == ("third", 3, 0x100, 0x110)


def test_earlier_small_range_inside_later_big_range_loses() -> None:
    pm = parse_perf_map(b"110 10 small_old\n100 100 big_new\n", MAP)
    assert names_at(pm, [0x100, 0x110, 0x11F, 0x120]) == {
        0x100: "big_new", 0x110: "big_new", 0x11F: "big_new", 0x120: "big_new"}


def test_later_small_range_inside_earlier_big_range_wins_only_inside() -> None:
    pm = parse_perf_map(b"100 100 big_old\n110 10 small_new\n", MAP)
    assert names_at(pm, [0xFF, 0x100, 0x10F, 0x110, 0x11F, 0x120, 0x1FF, 0x200]) == {
        0x100: "big_old", 0x10F: "big_old", 0x110: "small_new", 0x11F: "small_new",
        0x120: "big_old", 0x1FF: "big_old"}


def test_partial_overlap_later_on_the_right() -> None:
    pm = parse_perf_map(b"100 20 left_old\n110 20 right_new\n", MAP)
    assert names_at(pm, [0x10F, 0x110, 0x11F, 0x120, 0x12F, 0x130]) == {
        0x10F: "left_old", 0x110: "right_new", 0x11F: "right_new", 0x120: "right_new",
        0x12F: "right_new"}


def test_partial_overlap_later_on_the_left() -> None:
    pm = parse_perf_map(b"110 20 right_old\n100 20 left_new\n", MAP)
    assert names_at(pm, [0xFF, 0x100, 0x11F, 0x120, 0x12F, 0x130]) == {
        0x100: "left_new", 0x11F: "left_new", 0x120: "right_old", 0x12F: "right_old"}


def test_range_end_is_exclusive() -> None:
    pm = parse_perf_map(b"7fe801b6e000 10 size_0x10_only\n", MAP)
    assert names_at(pm, [0x7FE801B6DFFF, 0x7FE801B6E000, 0x7FE801B6E00F, 0x7FE801B6E010]) == {
        0x7FE801B6E000: "size_0x10_only", 0x7FE801B6E00F: "size_0x10_only"}


def test_adjacent_ranges_do_not_overlap() -> None:
    pm = parse_perf_map(b"100 10 a\n110 10 b\n", MAP)
    assert names_at(pm, [0x10F, 0x110]) == {0x10F: "a", 0x110: "b"}
    assert pm.overlapping == 0


def test_addresses_outside_every_range_are_missing() -> None:
    pm = parse_perf_map(b"100 10 a\n200 10 b\n", MAP)
    assert pm.lookup_all([0, 0xFF, 0x110, 0x1FF, 0x210, 0xFFFFFFFFFFFFFFFF]) == {}


def test_zero_size_entry_later_wins_its_byte_only() -> None:
    pm = parse_perf_map(b"100 10 range\n104 0 point_new\n", MAP)
    assert names_at(pm, [0x103, 0x104, 0x105]) == {
        0x103: "range", 0x104: "point_new", 0x105: "range"}
    assert (pm.zero_size, pm.overlapping) == (1, 2)


def test_zero_size_entry_earlier_loses_to_range() -> None:
    pm = parse_perf_map(b"104 0 point_old\n100 10 range_new\n", MAP)
    assert names_at(pm, [0x104]) == {0x104: "range_new"}


def test_zero_size_at_end_of_range_does_not_overlap_it() -> None:
    pm = parse_perf_map(b"100 10 range\n110 0 point\n", MAP)
    assert pm.overlapping == 0
    assert names_at(pm, [0x10F, 0x110]) == {0x10F: "range", 0x110: "point"}


def test_lookup_result_is_the_whole_entry() -> None:
    pm = parse_perf_map(b"\n100 10 a\n", MAP)
    assert pm.lookup_all([0x108]) == {0x108: Entry(0x100, 0x110, 2, "a")}


def test_bad_and_blank_lines_keep_file_line_numbers_for_order() -> None:
    # line numbers, not entry indices, decide: the winner is on line 5
    pm = parse_perf_map(b"100 10 a\n\njunk\n\n100 10 b\n", MAP)
    e = pm.lookup_all([0x100])[0x100]
    assert (e.name, e.order) == ("b", 5)


def test_index_for_holds_only_hit_entries() -> None:
    pm = parse_perf_map(b"100 10 a\n200 10 b\n204 0 c\n300 10 d\n", MAP)
    index = pm.index_for([0x105, 0x204, 0x400])
    assert isinstance(index, LatestWinsIndex)
    assert len(index) == 3  # a (holds 0x105); b and c (hold 0x204); none holds 0x400
    assert index.lookup(0x105) == Entry(0x100, 0x110, 1, "a")
    c = index.lookup(0x204)
    assert c is not None and (c.start, c.order, c.name) == (0x204, 3, "c")
    assert index.lookup(0x400) is None
    assert index.lookup(0x300) is None  # d was not asked for, so not indexed


def test_index_for_no_addresses_is_empty() -> None:
    pm = parse_perf_map(b"100 10 a\n", MAP)
    assert len(pm.index_for([])) == 0


def test_lookup_all_duplicate_addresses() -> None:
    pm = parse_perf_map(b"100 10 a\n", MAP)
    assert names_at(pm, [0x100, 0x100, 0x101]) == {0x100: "a", 0x101: "a"}


# --- overlap counting ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "overlapping"),
    [
        (b"100 10 a\n", 0),
        (b"100 10 a\n110 10 b\n120 10 c\n", 0),
        (b"100 10 a\n100 10 b\n", 2),
        (b"100 100 a\n110 10 b\n150 10 c\n300 10 d\n", 3),
        (b"100 20 a\n110 20 b\n125 20 c\n", 3),
        (b"300 10 d\n100 20 a\n110 20 b\n", 2),
        (b"100 0 a\n100 0 b\n", 2),
        (b"100 0 a\n101 0 b\n", 0),
        (b"100 0 a\n100 1 b\n", 2),
        (b"100 1000 big\n200 10 x\n800 10 y\n", 3),
    ],
)
def test_overlapping_counts_lines_whose_range_meets_another(data: bytes,
                                                          overlapping: int) -> None:
    assert parse_perf_map(data, MAP).overlapping == overlapping


# --- properties against brute force ----------------------------------------------------


def brute_winner(lines: list[tuple[int, int, str]], addr: int) -> tuple[int, str] | None:
    """Among lines whose [start, end) (zero size: [start, start+1)) holds addr, the last."""
    best = None
    for lineno, (start, size, name) in enumerate(lines, 1):
        end = start + size if size else start + 1
        if start <= addr < end:
            best = (lineno, name)
    return best


def brute_overlapping(lines: list[tuple[int, int, str]]) -> int:
    spans = [(s, s + z if z else s + 1) for s, z, _ in lines]
    return sum(
        any(i != j and a < d and c < b for j, (c, d) in enumerate(spans))
        for i, (a, b) in enumerate(spans)
    )


def random_map(rng: random.Random) -> list[tuple[int, int, str]]:
    return [
        (rng.randrange(0, 64), rng.choice([0, 1, 2, 3, 5, 8, 13, 40]), f"f{i}")
        for i in range(rng.randrange(0, 12))
    ]


@pytest.mark.parametrize("seed", range(40))
def test_lookup_all_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        lines = random_map(rng)
        text = "".join(f"{s:x} {z:x} {n}\n" for s, z, n in lines).encode()
        pm = parse_perf_map(text, MAP)
        addrs = list(range(0, 110))
        got = {a: (e.order, e.name) for a, e in pm.lookup_all(addrs).items()}
        want = {a: w for a in addrs if (w := brute_winner(lines, a)) is not None}
        assert got == want, lines
        assert pm.overlapping == brute_overlapping(lines), lines
        assert pm.zero_size == sum(1 for _, z, _ in lines if z == 0)


def formatted(rng: random.Random, start: int, size: int, name: str) -> bytes:
    """One map line in a random spelling of the grammar (prefix, case, blanks)."""

    def num(v: int) -> str:
        digits = f"{v:x}"
        digits = digits.upper() if rng.random() < 0.3 else digits
        digits = "0" * rng.randrange(0, 3) + digits
        return rng.choice(["", "", "0x", "0X"]) + digits

    lead = rng.choice(["", "", " ", "\t", "  \t"])
    sep1 = rng.choice([" ", " ", "\t", "  ", " \t "])
    sep2 = rng.choice([" ", "\t"])
    end = rng.choice(["\n", "\n", "\r\n"])
    return f"{lead}{num(start)}{sep1}{num(size)}{sep2}{name}{end}".encode()


@pytest.mark.parametrize("seed", range(10))
def test_every_spelling_parses_like_the_plain_one(seed: int) -> None:
    rng = random.Random(1000 + seed)
    lines = [(rng.randrange(0, 1 << 48), rng.randrange(0, 1 << 16),
              rng.choice(["a", "JS:*f /x.js:1:2", "x y\tz", "PHP::A::b", "(p)"]))
             for _ in range(50)]
    plain = b"".join(f"{s:x} {z:x} {n}\n".encode() for s, z, n in lines)
    fancy = b"".join(formatted(rng, *line) for line in lines)
    a = parse_perf_map(plain, MAP)
    b = parse_perf_map(fancy, MAP)
    assert entries(a) == entries(b) == [(s, s + z, i, n) for i, (s, z, n) in
                                        enumerate(lines, 1)]
    assert (b.bad, b.blank) == (0, 0)


# --- the interval facade -----------------------------------------------------------------


def test_latest_wins_index_highest_order_wins_whatever_the_insertion_order() -> None:
    new = Entry(0x100, 0x110, 7, "new")
    old = Entry(0x100, 0x200, 3, "old")
    for entries_ in ([old, new], [new, old]):
        index = LatestWinsIndex(entries_)
        assert len(index) == 2
        assert index.lookup(0x100) == new
        assert index.lookup(0x10F) == new
        assert index.lookup(0x110) == old
        assert index.lookup(0x1FF) == old
        assert index.lookup(0x200) is None
        assert index.lookup(0xFF) is None


def test_latest_wins_index_zero_size_entry_is_one_byte() -> None:
    point = Entry(0x100, 0x100, 1, "point")
    index = LatestWinsIndex([point])
    assert (index.lookup(0xFF), index.lookup(0x100), index.lookup(0x101)) == (None, point, None)


def test_latest_wins_index_empty() -> None:
    index = LatestWinsIndex([])
    assert len(index) == 0
    assert index.lookup(0) is None


def _random_map(rng: random.Random, n: int) -> bytes:
    out = []
    for _ in range(n):
        start = rng.randrange(0x1000, 0x1000 + 4096)
        size = rng.choice([0, 1, rng.randrange(1, 64), rng.randrange(64, 2048)])
        out.append(f"{start:x} {size:x} f{rng.randrange(1000)}\n")
    if rng.random() < 0.5:  # sometimes a huge early range that covers everything
        out.insert(0, "1 ffffffff huge\n")
    return "".join(out).encode()


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("walk", ["stabbing", "per-line fallback"])
def test_hits_walk_and_fallback_agree_with_brute_force(
    seed: int, walk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jitprof.symbols.perfmap as perfmap

    if walk != "stabbing":
        monkeypatch.setattr(perfmap, "_WALK_STEPS_PER_ADDRESS", 0)
        monkeypatch.setattr(perfmap, "_WALK_STEPS_BASE", -1)
    rng = random.Random(seed)
    pm = parse_perf_map(_random_map(rng, rng.randrange(1, 80)), MAP)
    addrs = sorted({rng.randrange(0, 0x1000 + 6000) for _ in range(rng.randrange(1, 200))})
    want = [i for i in range(len(pm)) if any(pm.starts[i] <= a < pm.ends[i] for a in addrs)]
    assert pm._hits(addrs) == want
    got = pm.lookup_all(addrs)
    for a in addrs:
        holders = [i for i in range(len(pm)) if pm.starts[i] <= a < pm.ends[i]]
        if holders:
            assert got[a].order == pm.linenos[max(holders)]
        else:
            assert a not in got
