"""Following a growing perf map: only new bytes read, truncation/rewrite/replacement seen,
never through a symlink; lookups agree with parsing the whole file at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jitprof.acquire.mapwatch import GrowingFile, LiveMap
from jitprof.acquire.proc import open_in_dir
from jitprof.errors import UnsafeFileError
from jitprof.symbols.perfmap import load_perf_map


def _lines(n0: int, n1: int) -> bytes:
    # 0x100-byte entries 0x1000 apart; every 7th line reuses the range of the line before
    out = []
    for i in range(n0, n1):
        start = 0x7F0000000000 + 0x1000 * (i - (i % 7 == 6))
        out.append(f"{start:x} 100 JS:*fn{i} /app/x.js:{i}\n")
    return "".join(out).encode()


def _resolve_all(maps: list, addrs: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for pm in maps:  # later segments win, as build_profile's merge does
        out.update({a: e.name for a, e in pm.lookup_all(addrs).items()})
    return out


def test_growing_map_reads_only_appended_bytes(tmp_path: Path) -> None:
    path = tmp_path / "perf-1.map"
    path.write_bytes(_lines(0, 2000))  # 64 KB: reading it again would show
    lm = LiveMap(str(tmp_path), "perf-1.map")
    assert lm.refresh() == 2000
    reads: list[int] = []
    real_pread = os.pread

    def counting_pread(fd: int, n: int, off: int) -> bytes:
        b = real_pread(fd, n, off)
        reads.append(len(b))
        return b

    os.pread = counting_pread  # type: ignore[assignment]
    try:
        with open(path, "ab") as f:
            f.write(_lines(2000, 2010))
            f.write(b"7f0000fff000 10 JS:*part")  # a line still being written
        assert lm.refresh() == 10
        # the new bytes once, plus the two fixed-size checks (head <= 4096, tail <= 256)
        appended = len(_lines(2000, 2010)) + len(b"7f0000fff000 10 JS:*part")
        assert sum(reads) <= appended + 4096 + 256
        assert lm.lines == 2010
        with open(path, "ab") as f:
            f.write(b"ial\n")
        assert lm.refresh() == 1
    finally:
        os.pread = real_pread  # type: ignore[assignment]
    # the same names as the whole file parsed in one go (later line wins)
    whole = load_perf_map(str(path))
    addrs = [0x7F0000000000 + 0x1000 * i + 0x10 for i in range(2011)] + [0x7F0000FFF005]
    expect = {a: e.name for a, e in whole.lookup_all(addrs).items()}
    assert _resolve_all(lm.maps(), addrs) == expect
    assert expect[0x7F0000FFF005] == "JS:*partial"
    assert expect[0x7F0000000000 + 0x1000 * 5 + 0x10] == "JS:*fn6 /app/x.js:6"  # reuse
    # segments stay few (merged LSM-style) and line numbers continue across them
    for i in range(2011, 2400, 3):
        with open(path, "ab") as f:
            f.write(_lines(i, i + 3))
        lm.refresh()
    assert len(lm.maps()) <= 12
    linenos = sorted(x for pm in lm.maps() for x in pm.linenos)
    assert linenos == list(range(1, lm.lines + 1))
    lm.close()


def test_truncated_rewritten_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "perf-2.map"
    path.write_bytes(_lines(0, 20))
    lm = LiveMap(str(tmp_path), "perf-2.map")
    lm.refresh()
    # truncated and rewritten shorter ("w" again)
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(b"7f1000000000 10 PHP::again\n")
    lm.refresh()
    assert lm.lines == 1 and lm.file.resets == 1
    assert _resolve_all(lm.maps(), [0x7F1000000004]) == {0x7F1000000004: "PHP::again"}
    # rewritten longer than before between two polls: the head check notices
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(_lines(100, 130))
    lm.refresh()
    assert lm.lines == 30 and lm.file.resets == 2
    # replaced: deleted and created again (a new inode)
    path.unlink()
    path.write_bytes(b"7f2000000000 10 PHP::third\n")
    lm.refresh()
    assert lm.lines == 1 and lm.file.resets == 3
    # deleted for good: what the held descriptor has stays
    path.unlink()
    lm.refresh()
    assert lm.lines == 1 and lm.file.deleted()
    lm.close()


def test_deleted_map_keeps_lines_written_before_the_unlink(tmp_path: Path) -> None:
    path = tmp_path / "perf-3.map"
    path.write_bytes(_lines(0, 3))
    gf = GrowingFile(str(tmp_path), "perf-3.map")
    gf.poll()
    with open(path, "ab") as f:
        f.write(b"7f3000000000 10 PHP::written_at_exit\n")
    path.unlink()  # HHVM at exit without Eval.KeepPerfPidMap
    gf.poll()
    assert gf.data.endswith(b"PHP::written_at_exit\n") and gf.deleted()
    gf.close()


def test_symlinks_and_fifos_are_never_opened(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("7f0000000000 10 planted\n")
    (tmp_path / "perf-4.map").symlink_to(secret)
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        open_in_dir(str(tmp_path), "perf-4.map")
    os.mkfifo(tmp_path / "perf-5.map")
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        open_in_dir(str(tmp_path), "perf-5.map")  # and the open did not block
    (tmp_path / "linkdir").symlink_to(tmp_path)
    with pytest.raises(UnsafeFileError, match="symbolic link or not a directory"):
        open_in_dir(str(tmp_path / "linkdir"), "secret")
    with pytest.raises(FileNotFoundError):
        open_in_dir(str(tmp_path), "perf-6.map")
