"""jitprof.inputs: one classification of every input form, and perf run for reading."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jitprof.errors import InputError
from jitprof.inputs.bundle import MANIFEST
from jitprof.inputs.classify import InputKind, classify, is_perf_data
from jitprof.inputs.perftool import perf_script_text
from jitprof.inputs.procfs import process_start_time, start_time
from tests.conftest import require_tools

ROOT = Path(__file__).resolve().parent.parent


def test_each_form_is_told_apart(tmp_path: Path) -> None:
    text = tmp_path / "perf.script"
    text.write_text("hhvm 1 [000] 1.0: 1 cpu-clock:\n\t 1234 f (/x)\n")
    gz = tmp_path / "perf.script.gz"
    gz.write_bytes(gzip.compress(text.read_bytes()))
    data = tmp_path / "perf.data"
    data.write_bytes(b"PERFILE2" + bytes(96))
    swapped = tmp_path / "big-endian.data"
    swapped.write_bytes(b"2ELIFREP" + bytes(96))
    prof = tmp_path / "p.JSON"
    prof.write_text(json.dumps({"format": "jitprof-profile"}))
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / MANIFEST).write_text("{}")
    plain_dir = tmp_path / "dir"
    plain_dir.mkdir()
    kinds = {p.name: classify(str(p)) for p in
             (text, gz, data, swapped, prof, bundle, plain_dir, tmp_path / "missing")}
    assert kinds == {"perf.script": InputKind.TEXT, "perf.script.gz": InputKind.TEXT,
                     "perf.data": InputKind.PERF_DATA, "big-endian.data": InputKind.PERF_DATA,
                     "p.JSON": InputKind.PROFILE_JSON, "bundle": InputKind.BUNDLE,
                     # not ours: reading them reports the error with their name
                     "dir": InputKind.TEXT, "missing": InputKind.TEXT}
    assert is_perf_data(str(data)) and not is_perf_data(str(text)) and not is_perf_data("-")


@pytest.mark.parametrize("head,kind", [(b"PERFILE2" + bytes(8), "perf.data"),
                                       (b"hhvm 1 [000] 1.0: 1 cpu-clock:\n", "text")])
def test_stdin_is_peeked_not_consumed(head: bytes, kind: str) -> None:
    code = ("import sys\nfrom jitprof.inputs.classify import classify\n"
            "k = classify('-')\nrest = sys.stdin.buffer.read()\n"
            "print(k.value, len(rest))")
    r = subprocess.run([sys.executable, "-c", code], input=head, capture_output=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == [kind, str(len(head))]


def test_a_failing_perf_script_names_the_file_and_perfs_reason(tmp_path: Path) -> None:
    require_tools("perf")
    bad = tmp_path / "broken.data"
    bad.write_bytes(b"PERFILE2" + bytes(200))  # the magic, then nonsense sizes
    with pytest.raises(InputError) as e:
        with perf_script_text(str(bad)) as text:
            text.read()
    assert str(e.value).startswith(f"{bad}: perf script failed (")


def test_the_start_time_of_this_process() -> None:
    import time

    started = process_start_time(__import__("os").getpid())
    assert started is not None and time.time() - 24 * 3600 * 365 < started <= time.time() + 1
    assert process_start_time(2 ** 22 + 12345) is None  # above pid_max: never running
    assert start_time(b"garbage") is None
