"""`jitprof maps`: map health counts and --tidy, against hand-computed maps and a
brute-force "latest line holding the address" oracle."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.symbols.maphealth import check_map, owners, tidy
from jitprof.symbols.perfmap import load_perf_map, parse_perf_map

MAP = (
    b"7f0000001000 800 PHP::Old\n"  # 1: cut by 2 and 4 (split in two around Inside)
    b"7f0000001000 100 PHP::New\n"  # 2: hidden entirely by its duplicate, line 9
    b"zzz bad line\n"  # 3: bad
    b"7f0000001400 40 PHP::Inside\n"  # 4
    b"7f0000002000 0 PHP::Zero\n"  # 5: zero size (names its start byte)
    b"\n"  # 6: blank
    b"7f0000003000 10 ab\n"  # 7: perf ignores names shorter than 3
    b"0x7F0000004000 0x20 JS:*fib /x.js:1:1\r\n"  # 8: 0x, upper case, CRLF
    b"7f0000001000 100 PHP::New\n"  # 9: duplicate of 2
    b"7f0000005000 10 HPHP::f_sort(HPHP::Variant&, long)"  # 10: no newline at the end
)

TIDY = (
    b"7f0000001000 100 PHP::New\n"
    b"7f0000001100 300 PHP::Old\n"
    b"7f0000001400 40 PHP::Inside\n"
    b"7f0000001440 3c0 PHP::Old\n"
    b"7f0000002000 1 PHP::Zero\n"
    b"7f0000003000 10 ab\n"
    b"7f0000004000 20 JS:*fib /x.js:1:1\n"
    b"7f0000005000 10 HPHP::f_sort(HPHP::Variant&, long)\n"
)


def test_health_counts(tmp_path: Path) -> None:
    p = tmp_path / "perf-1.map"
    p.write_bytes(MAP)
    r = check_map(str(p))
    assert (r.lines, r.entries, r.bad, r.blank, r.zero_size) == (10, 8, 1, 1, 1)
    assert r.bad_lines == [f"{p}:3: bad map line (not 'START SIZE NAME' in hex): 'zzz bad line'"]
    assert (r.overlapping, r.cut, r.shadowed, r.duplicates) == (4, 1, 1, 1)
    assert (r.short_names, r.crlf, r.unterminated) == (1, 1, True)
    assert r.span == (0x7F0000001000, 0x7F0000005010)
    assert r.covered_bytes == 0x800 + 1 + 0x10 + 0x20 + 0x10
    assert r.kinds == {"PHP": 5, "JIT": 2, "HPHP": 1}
    assert r.prefixes == {"PHP::": 5, "ab": 1, "JS:": 1, "HPHP::": 1}


def test_a_clean_map_is_healthy(tmp_path: Path) -> None:
    p = tmp_path / "m.map"
    p.write_bytes(TIDY)
    r = check_map(str(p))
    assert (r.bad, r.overlapping, r.cut, r.shadowed, r.duplicates, r.unterminated) == (
        0, 0, 0, 0, 0, False)


def test_tidy_by_hand(tmp_path: Path) -> None:
    pm = parse_perf_map(MAP, "m.map")
    assert b"".join(b"%x %x %s\n" % e for e in tidy([pm])) == TIDY


def _brute(lines: list[tuple[int, int, str]], addr: int) -> str | None:
    """The latest line whose range [start, start + max(size, 1)) holds addr."""
    best = None
    for s, n, name in lines:
        if s <= addr < s + max(n, 1):
            best = name
    return best


@pytest.mark.parametrize("seed", range(6))
def test_tidy_names_every_address_like_the_original(seed: int) -> None:
    rng = random.Random(seed)
    lines = []
    for k in range(rng.randint(1, 60)):
        s = 0x1000 + rng.randrange(0, 0x400)
        lines.append((s, rng.choice([0, 1, 3, 0x10, 0x40, 0x200]), f"fn{k}"))
    text = "".join(f"{s:x} {n:x} {name}\n" for s, n, name in lines).encode()
    pieces = tidy([parse_perf_map(text, "m")])
    starts = [s for s, _n, _ in pieces]
    assert starts == sorted(starts)
    assert all(s + n <= t for (s, n, _), t in zip(pieces, starts[1:], strict=False))
    tidied = [(s, n, name.decode()) for s, n, name in pieces]
    for addr in range(0xFF0, 0x1700):
        want = _brute(lines, addr)
        assert _brute(tidied, addr) == want, hex(addr)
    # adjacent pieces never carry the same line
    own = owners([parse_perf_map(text, "m")])
    assert all(not (a[1] == b[0] and a[3] == b[3]) for a, b in zip(own, own[1:], strict=False))


def test_later_file_wins_in_tidy(tmp_path: Path) -> None:
    a = parse_perf_map(b"1000 100 A\n", "a")
    b = parse_perf_map(b"1080 10 B\n", "b")
    assert tidy([a, b]) == [(0x1000, 0x80, b"A"), (0x1080, 0x10, b"B"), (0x1090, 0x70, b"A")]
    assert tidy([b, a]) == [(0x1000, 0x100, b"A")]


def test_cli_report_tidy_and_input_unchanged(tmp_path: Path) -> None:
    p = tmp_path / "perf-1.map"
    p.write_bytes(MAP)
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    out = tmp_path / "tidy.map"
    res = CliRunner().invoke(main, ["maps", str(p), "--tidy", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 cut and 1 hidden entirely by later lines" in res.output
    assert f"{p}:3: bad map line" in res.output
    assert out.read_bytes() == TIDY
    assert hashlib.sha256(p.read_bytes()).hexdigest() == before
    # the tidy map is healthy and reads back the same
    again = load_perf_map(str(out))
    assert (again.bad, again.overlapping) == (0, 0) and len(again) == 8
    res = CliRunner().invoke(main, ["maps", str(p), "--format", "json"])
    assert res.exit_code == 0, res.output
    (doc,) = json.loads(res.output)
    assert doc["entries"] == 8 and doc["shadowed"] == 1 and doc["span"] == [
        0x7F0000001000, 0x7F0000005010]


def test_cli_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    p = tmp_path / "perf-1.map"
    p.write_bytes(MAP)
    res = CliRunner().invoke(main, ["maps", str(p), "--tidy", "-o", str(p)])
    assert res.exit_code == 1
    assert res.output.strip().endswith(f"{p}: is one of the input maps: choose another output "
                                       "(the input is never changed)")
    assert p.read_bytes() == MAP


@pytest.mark.parametrize(("args", "message"), [
    (["--tidy"], "--tidy needs -o OUTPUT"),
    (["-o", "x.map"], "-o is for --tidy"),
])
def test_cli_usage(tmp_path: Path, args: list[str], message: str) -> None:
    p = tmp_path / "m.map"
    p.write_bytes(TIDY)
    res = CliRunner().invoke(main, ["maps", str(p), *args])
    assert res.exit_code == 2 and message in res.output


def test_cli_missing_file(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["maps", str(tmp_path / "nope.map")])
    assert res.exit_code == 1
    assert "nope.map: cannot read map: No such file or directory" in res.output


def test_cli_a_file_that_is_no_map_is_an_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("\nthis is not\na perf map\n")
    out = tmp_path / "tidy.map"
    res = CliRunner().invoke(main, ["maps", str(junk), "--tidy", "-o", str(out)])
    assert res.exit_code == 1
    assert f"{junk}:2: not a perf map" in res.output  # the first bad line (1 is blank)
    assert not out.exists()
    # an empty map (a JIT that has written nothing yet) is healthy, not an error
    empty = tmp_path / "perf-1.map"
    empty.write_text("")
    assert CliRunner().invoke(main, ["maps", str(empty)]).exit_code == 0


SLOW_MAP = Path(__file__).resolve().parent.parent / "samples" / "hhvm-demo" / "slow" / (
    "perf-14089.map")


def test_a_gzip_map_reads_as_its_text_and_overlaps_are_listed(tmp_path: Path) -> None:
    """Issue 14, item 11: a .gz map is read compressed (no binary garbage), and the report
    says which lines overlap which. In the demo map, line 4 [0x7fb7d7225000, +0x800)
    holds line 5 (same start) and line 6 (0x...5400): the 3 lines that meet another."""
    import gzip

    gz = tmp_path / "perf-14089.map.gz"
    gz.write_bytes(gzip.compress(SLOW_MAP.read_bytes()))
    plain = CliRunner().invoke(main, ["maps", str(SLOW_MAP)])
    packed = CliRunner().invoke(main, ["maps", str(gz)])
    assert plain.exit_code == packed.exit_code == 0, packed.output
    assert packed.output.replace(str(gz), "X") == plain.output.replace(str(SLOW_MAP), "X")
    assert "\x1f" not in packed.output and "bad map line" not in packed.output
    assert ("    line 5 [0x7fb7d7225000-0x7fb7d7225052) PHP::Api_Router::route overlaps line 4"
            " [0x7fb7d7225000-0x7fb7d7225800) PHP::Api_Legacy::dispatch") in plain.output
    assert ("    line 6 [0x7fb7d7225400-0x7fb7d7225449) PHP::Api_View::render overlaps line 4"
            " [0x7fb7d7225000-0x7fb7d7225800) PHP::Api_Legacy::dispatch") in plain.output
    js = CliRunner().invoke(main, ["maps", str(gz), "--format", "json"])
    assert len(json.loads(js.output)[0]["overlaps"]) == 2
    broken = tmp_path / "broken.map.gz"
    broken.write_bytes(gzip.compress(SLOW_MAP.read_bytes())[:40])
    res = CliRunner().invoke(main, ["maps", str(broken)])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert f"{broken}: cannot read compressed map" in res.output and len(
        res.output.strip().splitlines()) == 1


def test_overlap_pairs_by_hand() -> None:
    from jitprof.symbols.maphealth import overlap_pairs
    from jitprof.symbols.perfmap import parse_perf_map

    pm = parse_perf_map(b"100 10 a\n200 10 b\n105 20 c\n300 0 z\n208 1 d\n400 5 e\n", "m")
    # c (line 3) starts inside a; d (line 5) inside b; z is zero-size; e alone
    assert overlap_pairs(pm) == ["line 3 [0x105-0x125) c overlaps line 1 [0x100-0x110) a",
                                 "line 5 [0x208-0x209) d overlaps line 2 [0x200-0x210) b"]
    assert overlap_pairs(pm, limit=1) == overlap_pairs(pm)[:1]
