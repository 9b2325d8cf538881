"""The loading progress hook: bytes of the input read, per 4 MiB chunk, same result."""

from __future__ import annotations

import gzip
from pathlib import Path

from jitprof.parse import input_bytes, read_scripts
from jitprof.resolve import load_profile

ROOT = Path(__file__).resolve().parent.parent
SLOW = ROOT / "samples" / "hhvm-demo" / "slow"


def test_progress_counts_bytes_up_to_the_file_sizes(tmp_path: Path) -> None:
    gz = SLOW / "perf.script.gz"
    plain = tmp_path / "perf.script"
    text = gzip.decompress(gz.read_bytes())
    # several 4 MiB chunks: the text repeated (samples merge; the numbers scale)
    plain.write_bytes(text * (1 + (9 << 20) // len(text)))
    calls: list[tuple[int, int]] = []
    data = read_scripts([str(gz), str(plain)], progress=lambda d, t: calls.append((d, t)))
    total = gz.stat().st_size + plain.stat().st_size
    assert input_bytes([str(gz), str(plain)]) == total
    assert all(t == total for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == total
    assert len(calls) >= 4  # the gz once or twice, then >= 3 chunks of the 9+ MiB text
    plain_only = read_scripts([str(gz), str(plain)])
    assert data.events.keys() == plain_only.events.keys()
    ev, ev2 = data.events["cpu-clock"], plain_only.events["cpu-clock"]
    assert (ev.samples, ev.weight, ev.stacks) == (ev2.samples, ev2.weight, ev2.stacks)


def test_load_profile_passes_progress_and_stdin_has_no_total() -> None:
    calls: list[tuple[int, int]] = []
    p = load_profile([str(SLOW / "perf.script.gz")], search_tmp=False,
                     progress=lambda d, t: calls.append((d, t)))
    assert p.samples == 2002 and calls[-1][0] == calls[-1][1] > 0
    assert input_bytes(["-"]) == 0 and input_bytes([str(SLOW / "perf.data")]) == 0
