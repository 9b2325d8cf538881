"""The block reader (read_text, used for files) must agree exactly with the line reader."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from jitprof.parse import ScriptData, ScriptReader

ROOT = Path(__file__).resolve().parent.parent

ODD = [
    # default callchain samples, two events, a thread mapped by pid/tid
    "x 10/11 1.0: 5 cpu-clock: \n\t7f0000001000 a+0x1 (//anon)\n\t401000 main+0x2 (/bin/x)\n\n"
    "x 10/11 2.0: 5 cpu-clock: \n\t7f0000001000 a+0x1 (//anon)\n\t401000 main+0x2 (/bin/x)\n\n"
    "x 11 3.0: 1 page-faults: \n\t401000 main+0x2 (/bin/x)\n\n",
    # side-band records glued to the first sample, junk, a perf warning, srclines
    "x 0 0.0: PERF_RECORD_MMAP2 10/10: [0x400000(0x1000) @ 0 00:00 0 0]: r-xp /bin/x\n"
    "x 10 1.0: 5 cpu-clock: \n\t401000 main+0x2 (/bin/x)\n  x.c:3\n\t401100 f+0x2 (/bin/x)\n\n"
    "Warning: something\njunk line\n\n"
    "x 10 1.5: 5 cpu-clock: \n\t401000 main+0x2 (/bin/x)\n\n\n\n"
    "x 10 1.6: 5 cpu-clock: \n\tnot-a-frame\n\t401000 main+0x2 (/bin/x)\n\n",
    # -G: one line per sample, no blank lines; then -F ip,sym,dso style empty headers
    "x 10 1.0: 5 cpu-clock:  401000 main+0x2 (/bin/x)\n"
    "x 10 1.1: 5 cpu-clock:  401100 f+0x2 (/bin/x)\n\n"
    "\n\t401000 main+0x2 (/bin/x)\n\n\t401100 f (/bin/x)\n\n",
    # no trailing blank line; then a truncated last line
    "x 10 1.0: 5 cpu-clock: \n\t401000 main+0x2 (/bin/x)\n",
    "x 10 1.0: 5 cpu-clock: \n\t401000 main+0x2 (/bin/x)\n\nx 10 2.0: 5 cpu-clock: \n\t4010",
    # the same frames under different times and threads (caches must not mix them)
    "".join(f"x {10 + i % 3} {i}.5: {i} cpu-clock: \n\t401000 main+0x2 (/bin/x)\n\n"
            for i in range(50)),
]


def _by_lines(text: str) -> ScriptData:
    r = ScriptReader()
    r.read_lines(io.StringIO(text), "t")
    return r.data


def _by_blocks(text: str, chunk: int) -> ScriptData:
    r = ScriptReader()
    r.read_text(io.StringIO(text), "t", chunk=chunk)
    return r.data


def _by_text(d: ScriptData, e: object) -> list[tuple[object, ...]]:
    """Samples and weight per (tid, comm, frames as text): readers that merged pieces may
    give one frame line two ids."""
    out: dict[tuple[object, ...], list[int]] = {}
    for (tid, comm, st), v in e.stacks.items():  # type: ignore[attr-defined]
        acc = out.setdefault((tid, comm, tuple(repr(d.frames[f]) for f in st)), [0, 0])
        acc[0] += v[0]
        acc[1] += v[1]
    return sorted((*k, n, w) for k, (n, w) in out.items())


def _digest(d: ScriptData) -> object:
    events = {
        name: (e.samples, e.weight, e.has_period, e.time_first, e.time_last, _by_text(d, e))
        for name, e in d.events.items()
    }
    return (list(d.events), events, d.tid_pid, d.mmaps, d.lines, d.srclines, d.unparsed,
            d.warnings, d.truncated, d.empty_stacks, [str(x) for x in d.diagnostics])


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 22])
@pytest.mark.parametrize("text", ODD)
def test_blocks_equal_lines_on_odd_texts(text: str, chunk: int) -> None:
    assert _digest(_by_blocks(text, chunk)) == _digest(_by_lines(text))


@pytest.mark.parametrize("sample", ["hhvm-demo/slow", "hhvm-demo/fast", "node-demo"])
def test_blocks_equal_lines_on_real_recordings(sample: str) -> None:
    text = gzip.decompress((ROOT / "samples" / sample / "perf.script.gz").read_bytes()).decode(
        "utf-8", "surrogateescape")
    want = _digest(_by_lines(text))
    assert _digest(_by_blocks(text, 1 << 16)) == want
    assert _digest(_by_blocks(text, 4099)) == want


@pytest.mark.parametrize("jobs", [2, 3])
def test_parallel_read_equals_one_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         jobs: int) -> None:
    import jitprof.parse.reader as script

    text = gzip.decompress((ROOT / "samples" / "hhvm-demo" / "slow" / "perf.script.gz")
                           .read_bytes())
    # junk in the middle: its line number must come out right from a worker
    half = text.index(b"\n\n", len(text) * 2 // 3) + 2
    text = text[:half] + b"junk that is not perf output\n\n" + text[half:]
    p = tmp_path / "perf.script"
    p.write_bytes(text)
    want = script.read_scripts([str(p)])
    monkeypatch.setattr(script, "PARALLEL_MIN_BYTES", 0)
    cuts = script._sample_boundaries(str(p), len(text), jobs)
    assert len(cuts) == jobs + 1  # really cut
    got = script.read_scripts([str(p)], jobs=jobs)
    assert _digest(got) == _digest(want)
    junk_line = text[:half].count(b"\n") + 1
    assert any(d.lineno == junk_line and "junk" in d.message for d in got.diagnostics)


BARE = {
    # -F tid,ip,sym (callchain): the header is the tid alone
    "tid": (" 4605 \n\tffffffff815fd0e5 set_pte_range\n\t401000 main\n\n", (4605, "", 1)),
    # -F comm,ip,sym: the comm alone (with a blank inside)
    "comm": ("my worker 1x \n\t401000 main\n\n", (-1, "my worker 1x", 1)),
    # -F comm,tid,period,ip,sym
    "comm,tid,period": ("node  4605    1001001 \n\t401000 main\n\n", (4605, "node", 1001001)),
    # -F comm,tid,cpu,ip,sym
    "comm,tid,cpu": ("node  4605 [001] \n\t401000 main\n\n", (4605, "node", 1)),
}


@pytest.mark.parametrize("fields", list(BARE))
@pytest.mark.parametrize("reader", ["lines", "blocks"])
def test_headers_without_time_or_event(fields: str, reader: str) -> None:
    text, (tid, comm, weight) = BARE[fields]
    d = _by_lines(text * 3) if reader == "lines" else _by_blocks(text * 3, 1 << 20)
    assert d.unparsed == 0 and list(d.events) == [""]
    ev = d.events[""]
    assert ev.samples == 3 and ev.weight == 3 * weight
    assert [(k[0], k[1], n) for k, (n, _w) in ev.stacks.items()] == [(tid, comm, 3)]


def test_a_bare_header_without_frames_is_junk() -> None:
    d = _by_blocks("eggs\nmilk 2\n\nx 10 1.0: 5 cpu-clock: \n\t401000 main (/bin/x)\n\n", 64)
    assert d.unparsed == 2 and [x.lineno for x in d.diagnostics] == [1, 2]
    assert d.events["cpu-clock"].samples == 1 and "" not in d.events


def test_no_worker_processes_while_other_threads_run(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import jitprof.parse.reader as script

    p = tmp_path / "perf.script"
    p.write_text(ODD[-1] * 20)
    monkeypatch.setattr(script, "PARALLEL_MIN_BYTES", 0)
    calls: list[int] = []
    monkeypatch.setattr(script.ScriptReader, "read_file_parallel",
                        lambda self, path, cuts, side_job=None: calls.append(len(cuts)))
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        d = script.read_scripts([str(p)], jobs=2)
    finally:
        stop.set()
        t.join()
    assert calls == [] and d.events["cpu-clock"].samples == 50 * 20
    script.read_scripts([str(p)], jobs=2)
    assert calls == [3]
