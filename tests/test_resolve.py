"""Resolution and aggregation against hand-computed profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitprof.errors import EmptyInputError
from jitprof.model import Kind, Profile
from jitprof.parse import ScriptReader
from jitprof.present.rows import function_rows, kind_summary
from jitprof.resolve import MapFinder, build_profile, load_profile

MAP = (
    "7f0000001000 100 PHP::A::run\n"  # line 1: [..1000, ..1100)
    "7f0000001100 80 HPHP::f_sort(HPHP::Variant&, long)\n"  # line 2: HHVM's C++ overlay
    "7f0000002000 200 PHP::Old\n"  # line 3: [..2000, ..2200)
    "7f0000002000 40 PHP::New\n"  # line 4: same start, later: wins on [..2000, ..2040)
    "7f0000002100 10 JS:*fib /x.js:1:1\n"  # line 5: inside the stale PHP::Old range
)

SCRIPT = """\
x 100/101 1.000000: 10 cpu-clock:
\t7f0000001150 [unknown] (//anon)
\t7f0000001010 [unknown] (//anon)
\t401000 main+0x10 (/bin/x)

x 100/101 1.100000: 10 cpu-clock:
\t7f0000002010 PHP::Old+0x10 (/tmp/perf-100.map)
\t7f0000001010 [unknown] (//anon)
\t401000 main+0x10 (/bin/x)

x 101 1.200000: 20 cpu-clock:
\t7f0000002105 [unknown] (//anon)
\t7f0000002106 [unknown] (//anon)
\t7f0000001010 [unknown] (//anon)
\t401000 main+0x10 (/bin/x)

x 101 1.300000: 5 cpu-clock:
\t124d HPHP::f_sort+0x4b (/usr/bin/hhvm)
\t7f0000001010 [unknown] (//anon)
\t401000 main+0x10 (/bin/x)

x 101 1.400000: 5 cpu-clock:
\tffffffff81000000 clear_page_erms+0x0 ([kernel.kallsyms])
\t7f0000001150 [unknown] (//anon)
\t7f0000002040 [unknown] (//anon)
\t401000 main+0x10 (/bin/x)

x 101 1.500000: 1 cpu-clock:
\t7f0000003000 [unknown] ([unknown])
\t401000 main+0x10 (/bin/x)

x 101 1.600000: 7 page-faults:
\t7f0000001150 [unknown] (//anon)

"""


def _profile(tmp_path: Path, script: str = SCRIPT, with_map: bool = True, **kw: object) -> Profile:
    inp = tmp_path / "perf.script"
    inp.write_text(script)
    if with_map:
        (tmp_path / "perf-100.map").write_text(MAP)
    prof = load_profile([str(inp)], search_tmp=False, **kw)  # type: ignore[arg-type]
    prof.verify()
    return prof


def _by_name(prof: Profile) -> dict[str, tuple[int, int]]:
    return {r.name: (r.self_weight, r.total_weight) for r in function_rows(prof)}


def test_hand_computed_self_and_total(tmp_path: Path) -> None:
    prof = _profile(tmp_path)
    assert prof.event == "cpu-clock"
    assert prof.weight == 51 and prof.samples == 6
    got = _by_name(prof)
    assert got == {
        "HPHP::f_sort": (15, 20),  # overlay name (params cut) + perf's ELF name: one row
        "PHP::New": (10, 15),  # later line wins over PHP::Old; caller ..2040 looked up at -1
        "JS:*fib /x.js:1:1": (20, 20),  # recursion counted once in total
        "clear_page_erms": (5, 5),
        "[unknown]": (1, 1),
        "PHP::A::run": (0, 45),
        "main": (0, 51),
    }
    assert "PHP::Old" not in got


def test_percentages_and_kinds(tmp_path: Path) -> None:
    prof = _profile(tmp_path)
    rows = {r.name: r for r in function_rows(prof)}
    assert rows["JS:*fib /x.js:1:1"].self_pct == pytest.approx(100 * 20 / 51)
    assert rows["main"].total_pct == pytest.approx(100.0)
    assert rows["HPHP::f_sort"].kind is Kind.HPHP
    assert rows["PHP::New"].kind is Kind.PHP
    assert rows["JS:*fib /x.js:1:1"].kind is Kind.JIT
    assert rows["main"].kind is Kind.NATIVE
    assert rows["clear_page_erms"].kind is Kind.KERNEL
    assert rows["[unknown]"].kind is Kind.UNKNOWN
    kinds = kind_summary(prof)
    assert {k: v["self"] for k, v in kinds.items() if v["self"]} == {
        "HPHP": 15, "PHP": 10, "JIT": 20, "kernel": 5, "unknown": 1}


def test_sorting_and_filters(tmp_path: Path) -> None:
    prof = _profile(tmp_path)
    assert [r.name for r in function_rows(prof, top=2)] == ["JS:*fib /x.js:1:1", "HPHP::f_sort"]
    assert [r.name for r in function_rows(prof, sort="total", top=2)] == ["main", "PHP::A::run"]
    assert [r.name for r in function_rows(prof, kinds=[Kind.PHP])] == ["PHP::New", "PHP::A::run"]


def test_jit_diagnostics(tmp_path: Path) -> None:
    d = _profile(tmp_path).diagnostics
    # leaves in JIT memory: S1, S2, S3, S6 (..3000 in [unknown]) = 1 + 1 + 1 + 1 samples
    assert d.jit_samples == 4 and d.jit_samples_resolved == 3
    # JIT frames: S1 2, S2 2, S3 3, S4 1, S5 2, S6 1 = 11; only ..3000 stays unnamed
    assert d.jit_frames == 11 and d.jit_frames_resolved == 10
    assert d.maps[0].lines == 5 and d.maps[0].overlapping == 3
    assert d.missing_map_pids == []


def test_other_event_chosen_by_name(tmp_path: Path) -> None:
    prof = _profile(tmp_path, event="page-faults")
    assert prof.weight == 7 and _by_name(prof) == {"HPHP::f_sort": (7, 7)}
    with pytest.raises(EmptyInputError, match="no samples of event 'instructions'"):
        _profile(tmp_path, event="instructions")


def test_missing_map_keeps_perf_names_and_warns(tmp_path: Path) -> None:
    prof = _profile(tmp_path, with_map=False)
    got = _by_name(prof)
    assert got["PHP::Old"] == (10, 10)  # perf's printed name, perf had a map
    assert "PHP::New" not in got
    assert prof.diagnostics.missing_map_pids == [100]
    assert any("no perf map for pid 100" in w for w in prof.diagnostics.warnings)


def test_thread_mapped_to_process_through_map_dso(tmp_path: Path) -> None:
    # tid 555 has no pid/tid header and no mmap event; its perf-map dso names pid 100
    script = "y 555 2.0: 3 cpu-clock:\n\t7f0000002010 PHP::Old+0x10 (/tmp/perf-100.map)\n\n"
    prof = _profile(tmp_path, script=script)
    assert _by_name(prof) == {"PHP::New": (3, 3)}
    assert prof.threads == [(100, "y")]


def test_thread_mapped_through_mmap_event(tmp_path: Path) -> None:
    script = (
        "y 0 0.0: PERF_RECORD_MMAP2 100/556: [0x7f0000001000(0x10000) @ 0x7f0000001000"
        " 00:00 0 0]: rwxp //anon\n"
        "y 556 2.0: 3 cpu-clock:\n\t7f0000001150 [unknown] (//anon)\n\n"
        "z 557 2.1: 4 cpu-clock:\n\t7f0000001150 [unknown] (//anon)\n\n"
    )
    prof = _profile(tmp_path, script=script)
    assert _by_name(prof) == {"HPHP::f_sort": (3, 3), "[unknown]": (4, 4)}
    assert prof.diagnostics.unknown_thread_tids == [557]
    assert prof.diagnostics.missing_map_pids == [557]
    assert any("could not be mapped to a process" in w for w in prof.diagnostics.warnings)


def test_pid_and_comm_filters(tmp_path: Path) -> None:
    script = SCRIPT + "other 900 3.0: 9 cpu-clock:\n\t401000 main+0x10 (/bin/x)\n\n"
    assert _profile(tmp_path, script=script).weight == 60
    assert _profile(tmp_path, script=script, pids=[900]).weight == 9
    assert _profile(tmp_path, script=script, comms=["x"]).weight == 51
    with pytest.raises(EmptyInputError):
        _profile(tmp_path, script=script, pids=[12345])


def test_unnamed_map_applies_to_every_process(tmp_path: Path) -> None:
    inp = tmp_path / "perf.script"
    inp.write_text("y 556 2.0: 3 cpu-clock:\n\t7f0000001150 [unknown] (//anon)\n\n")
    m = tmp_path / "jit.map"
    m.write_text(MAP)
    prof = load_profile([str(inp)], maps=[str(m)], search_tmp=False)
    assert _by_name(prof) == {"HPHP::f_sort": (3, 3)}


def test_samples_merge_across_inputs(tmp_path: Path) -> None:
    a = tmp_path / "a.script"
    b = tmp_path / "b.script"
    a.write_text("x 7 1.0: 2 cpu-clock:\n\t401000 main+0x10 (/bin/x)\n\n")
    b.write_text("x 7 5.0: 3 cpu-clock:\n\t401000 main+0x10 (/bin/x)\n\n")
    prof = load_profile([str(a), str(b)], search_tmp=False)
    assert prof.weight == 5 and prof.samples == 2 and len(prof.stacks) == 1
    assert (prof.time_first, prof.time_last) == (1.0, 5.0)


def test_no_period_counts_samples(tmp_path: Path) -> None:
    reader = ScriptReader()
    reader.read_lines(["x 7 1.0: cpu-clock:\n", "\t401000 main (/bin/x)\n", "\n"] * 3, "t")
    prof = build_profile(reader.data, MapFinder(search_tmp=False))
    assert prof.weight == 3 and prof.diagnostics.has_period is False


def test_first_user_frame_under_kernel_frames_is_an_exact_ip(tmp_path: Path) -> None:
    # ..2000 is where the user code was interrupted (syscall/fault), not a return
    # address: looked up at ..2000 it is PHP::New; at ..1fff it would be nothing.
    script = (
        "x 100/101 1.0: 4 cpu-clock:\n"
        "\tffffffff81000000 clear_page_erms+0x0 ([kernel.kallsyms])\n"
        "\tffffffff81000100 asm_exc_page_fault+0x22 ([kernel.kallsyms])\n"
        "\t7f0000002000 [unknown] (//anon)\n"
        "\t7f0000001010 [unknown] (//anon)\n\n"
    )
    prof = _profile(tmp_path, script=script)
    assert _by_name(prof) == {"clear_page_erms": (4, 4), "asm_exc_page_fault": (0, 4),
                              "PHP::New": (0, 4), "PHP::A::run": (0, 4)}
    assert prof.diagnostics.jit_frames == 2 and prof.diagnostics.jit_frames_resolved == 2


def test_unwinder_garbage_is_not_jit_code(tmp_path: Path) -> None:
    script = ("x 100/101 1.0: 4 cpu-clock:\n\t7f0000001150 [unknown] (//anon)\n"
              "\t1 [unknown] ([unknown])\n\n")
    prof = _profile(tmp_path, script=script)
    assert prof.diagnostics.jit_frames == 1


def test_big_map_parsed_in_a_second_process_gives_the_same_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jitprof.resolve as resolve

    (tmp_path / "perf.script").write_text(SCRIPT)
    (tmp_path / "perf-100.map").write_text(MAP)
    args = ([str(tmp_path / "perf.script")],)
    kw = {"maps": [str(tmp_path / "perf-100.map")], "search_tmp": False}
    inline = load_profile(*args, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(resolve.finder, "PRELOAD_BYTES", 0)
    finder = resolve.MapFinder(maps=kw["maps"], search_tmp=False)  # type: ignore[arg-type]
    finder.preload()
    assert finder._pending  # really parsed elsewhere
    finder.close()  # its process and manager thread gone: the next test can fork
    background = load_profile(*args, **kw, jobs=2)  # type: ignore[arg-type]
    assert _by_name(background) == _by_name(inline)
    assert background.diagnostics.maps == inline.diagnostics.maps


def test_map_parsed_while_workers_read_gives_the_same_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jitprof.parse.reader as script
    import jitprof.resolve as resolve

    # many samples, so that the text can be cut in pieces
    text = SCRIPT * 40
    (tmp_path / "perf.script").write_text(text)
    (tmp_path / "perf-100.map").write_text(MAP)
    args = ([str(tmp_path / "perf.script")],)
    kw = {"maps": [str(tmp_path / "perf-100.map")], "search_tmp": False}
    alone = load_profile(*args, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(resolve.finder, "PRELOAD_BYTES", 0)
    monkeypatch.setattr(script, "PARALLEL_MIN_BYTES", 0)
    ran: list[int] = []
    real = resolve.MapFinder.load_all

    def spy(self: resolve.MapFinder, paths: list[str]) -> None:
        ran.append(len(paths))
        real(self, paths)

    monkeypatch.setattr(resolve.MapFinder, "load_all", spy)
    pieces: list[int] = []
    real_parallel = script.ScriptReader.read_file_parallel

    def spy_parallel(self: script.ScriptReader, path: str, cuts: list[int],
                     side_job: object = None) -> None:
        pieces.append(len(cuts) - 1)
        real_parallel(self, path, cuts, side_job)  # type: ignore[arg-type]

    monkeypatch.setattr(script.ScriptReader, "read_file_parallel", spy_parallel)
    split = load_profile(*args, **kw, jobs=3)  # type: ignore[arg-type]
    assert ran == [1]  # the side job ran
    assert pieces == [3]  # and the text was really read in three pieces
    assert _by_name(split) == _by_name(alone)
    assert split.weight == alone.weight and split.samples == alone.samples
    assert split.diagnostics.maps == alone.diagnostics.maps


def test_bad_map_in_a_second_process_is_the_same_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jitprof.resolve as resolve
    from jitprof.errors import InputError

    monkeypatch.setattr(resolve.finder, "PRELOAD_BYTES", 0)
    (tmp_path / "perf.script").write_text(SCRIPT)
    (tmp_path / "perf-100.map").write_text(MAP + "zz nonsense\n")
    with pytest.raises(InputError, match=r"perf-100\.map:6: bad map line"):
        load_profile([str(tmp_path / "perf.script")], maps=[str(tmp_path / "perf-100.map")],
                     search_tmp=False, strict=True)


def test_map_older_than_its_live_process_is_flagged_stale(tmp_path: Path) -> None:
    import os
    import subprocess
    import time

    proc = subprocess.Popen(["sleep", "30"])
    try:
        pid = proc.pid
        m = Path(f"/tmp/perf-{pid}.map")
        m.write_text("7f0000001000 100 PHP::A::run\n")
        try:
            script = f"x {pid}/{pid} 1.0: 3 cpu-clock:\n\t7f0000001010 [unknown] (//anon)\n\n"
            inp = tmp_path / "perf.script"
            inp.write_text(script)
            fresh = load_profile([str(inp)])
            assert _by_name(fresh) == {"PHP::A::run": (3, 3)}
            assert not any("stale" in w for w in fresh.diagnostics.warnings)
            old = time.time() - 3600
            os.utime(m, (old, old))
            stale = load_profile([str(inp)])
            assert any(f"before process {pid} started" in w for w in stale.diagnostics.warnings)
        finally:
            m.unlink()
    finally:
        proc.kill()
        proc.wait()


def test_no_missing_map_warning_for_unwinder_garbage_alone(tmp_path: Path) -> None:
    script = ("x 100/101 1.0: 4 cpu-clock:\n\t401000 main+0x10 (/bin/x)\n"
              "\t7ffd00001234 [unknown] ([unknown])\n\n")
    prof = _profile(tmp_path, script=script, with_map=False)
    assert prof.diagnostics.missing_map_pids == [100]
    assert not any("no perf map" in w for w in prof.diagnostics.warnings)


def test_inlined_lines_are_left_out_like_perf_report(tmp_path: Path) -> None:
    # perf script --inline: the inlined callee is printed at the address of its holder
    script = ("x 100/101 1.0: 4 cpu-clock:\n\t401010 vec_push (inlined)\n"
              "\t401010 main+0x10 (/bin/x)\n\t402000 start+0x1 (/bin/x)\n\n")
    prof = _profile(tmp_path, script=script)
    assert _by_name(prof) == {"main": (4, 4), "start": (0, 4)}
    assert prof.diagnostics.inlined_frames == 1
