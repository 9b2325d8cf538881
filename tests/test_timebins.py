"""Samples per time bin (the reader's ``bin_width``), which diff's block bootstrap needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitprof.analysis.diff import diff_profiles
from jitprof.parse import read_scripts
from jitprof.parse import reader as script
from jitprof.resolve import load_profile

ROOT = Path(__file__).resolve().parent.parent
SLOW = ROOT / "samples" / "hhvm-demo" / "slow" / "perf.script.gz"

# times 10.00 .. 11.40: bins of 0.5 s are 20 (10.0-10.5), 21, 22
TEXT = "".join(
    f"php 10/10 {t:.6f}: {p} cpu-clock:\n\t{leaf}\n\t401000 main+0x1 (/usr/bin/php)\n\n"
    for t, p, leaf in [
        (10.00, 5, "7f00000a1000 memcpy+0x1 (/usr/lib/libc.so.6)"),
        (10.20, 5, "7f00000a1000 memcpy+0x1 (/usr/lib/libc.so.6)"),
        (10.60, 7, "7f00000a1000 memcpy+0x1 (/usr/lib/libc.so.6)"),
        (10.70, 1, "401100 f+0x1 (/usr/bin/php)"),
        (11.40, 2, "401100 f+0x1 (/usr/bin/php)"),
    ]
)


def _by_name(prof):  # type: ignore[no-untyped-def]
    return {prof.frames[s.frame_id].name: (s.self_samples, s.total_samples, s.self_weight)
            for s in prof.function_stats()}


def test_reader_counts_per_bin(tmp_path: Path) -> None:
    p = tmp_path / "perf.script"
    p.write_text(TEXT)
    data = read_scripts([str(p)], bin_width=0.5)
    ev = data.events["cpu-clock"]
    per_bin: dict[tuple[str, int], list[int]] = {}
    for (_tid, _comm, stack, b), (n, w) in ev.bins.items():
        acc = per_bin.setdefault((data.frames[stack[0]].sym, b), [0, 0])
        acc[0] += n
        acc[1] += w
    assert per_bin == {("memcpy", 20): [2, 10], ("memcpy", 21): [1, 7], ("f", 21): [1, 1],
                       ("f", 22): [1, 2]}
    assert sum(n for n, _ in ev.bins.values()) == ev.samples == 5
    assert read_scripts([str(p)]).events["cpu-clock"].bins == {}  # only when asked


def test_binned_profile_has_the_same_numbers(tmp_path: Path) -> None:
    p = tmp_path / "perf.script"
    p.write_text(TEXT)
    plain = load_profile([str(p)], search_tmp=False)
    binned = load_profile([str(p)], search_tmp=False, bin_width=0.5)
    binned.verify()
    assert binned.bin_width == 0.5 and plain.bin_width is None and plain.stack_bin == []
    assert sorted(binned.stack_bin) == [20, 21, 21, 22]
    assert _by_name(binned) == _by_name(plain)


def test_recording_binned_block_reader_and_line_reader_agree() -> None:
    # binning sends every sample through the line reader's counting (_count): the totals
    # must be those of the block reader's fast path
    plain = load_profile([str(SLOW)], search_tmp=False)
    binned = load_profile([str(SLOW)], search_tmp=False, bin_width=0.1)
    binned.verify()
    assert _by_name(binned) == _by_name(plain)
    assert len(set(binned.stack_bin)) == 26  # 2.513 s of samples in 0.1 s bins


def test_parallel_read_merges_bins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "perf.script"
    p.write_text(TEXT * 40)  # 200 samples, bins 20-22 again and again
    serial = read_scripts([str(p)], bin_width=0.5)
    monkeypatch.setattr(script, "PARALLEL_MIN_BYTES", 0)
    pieces: list[int] = []
    real = script.ScriptReader.read_file_parallel

    def spy(self: script.ScriptReader, path: str, cuts: list[int],
            side_job: object = None) -> None:
        pieces.append(len(cuts) - 1)
        real(self, path, cuts, side_job)  # type: ignore[arg-type]

    monkeypatch.setattr(script.ScriptReader, "read_file_parallel", spy)
    par = read_scripts([str(p)], jobs=3, bin_width=0.5)
    assert pieces == [3]

    def named(data):  # type: ignore[no-untyped-def]
        # summed by frame names: merged pieces may give one frame line two ids
        out: dict[object, list[int]] = {}
        for (_t, _c, st, b), v in data.events["cpu-clock"].bins.items():
            acc = out.setdefault((tuple(data.frames[f].sym for f in st), b), [0, 0])
            acc[0] += v[0]
            acc[1] += v[1]
        return out

    assert named(par) == named(serial)
    assert sum(v[0] for v in par.events["cpu-clock"].bins.values()) == 200


def test_text_without_time_is_not_binned_and_diff_says_why(tmp_path: Path) -> None:
    p = tmp_path / "notime.script"  # perf script -F comm,tid,ip,sym,dso
    p.write_text("".join(f"php 10\n\t{leaf}\n\t401000 main+0x1 (/usr/bin/php)\n\n" for leaf in
                         ["401100 f+0x1 (/usr/bin/php)"] * 3))
    prof = load_profile([str(p)], search_tmp=False, bin_width=0.1)
    assert prof.bin_width is None and prof.stack_bin == []
    r = diff_profiles([prof], [prof], method="bootstrap")
    assert r.method == "binomial"
    assert r.method_note.endswith(f"{p} has no per-sample time (no time field in the text)")


def test_long_recording_gets_wider_bins(tmp_path: Path) -> None:
    # 100 s of samples at 0.1 s: 1,000 bins, more than MAX_BINS (256): 4 merge into one
    p = tmp_path / "perf.script"
    p.write_text("".join(
        f"php 10/10 {1000 + i * 0.25:.6f}: 1 cpu-clock:\n\t401100 f+0x1 (/usr/bin/php)\n\n"
        for i in range(400)))
    prof = load_profile([str(p)], search_tmp=False, bin_width=0.1)
    prof.verify()
    assert prof.bin_width == pytest.approx(0.4)
    # the sample at 1000 + 0.25 i s lies in 0.4 s bin int((1000 + 0.25 i) / 0.4)
    want: dict[int, int] = {}
    for i in range(400):
        b = int((1000 + i * 0.25) / 0.1) // 4  # the 0.1 s bin, then 4 to one
        want[b] = want.get(b, 0) + 1
    got = dict(zip(prof.stack_bin, prof.stack_samples, strict=True))
    assert got == want and len(got) <= 256
