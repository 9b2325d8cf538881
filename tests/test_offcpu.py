"""Off-CPU and wall profiles made from context switches (jitprof/resolve/offcpu.py), on
hand-written perf script text whose waits are computed by hand: the switch fields and
records as read, each wait's end (switch-in, next sample, the recording's end), states,
the scheduler frames cut from the leaf, wall = CPU + waits, and the errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.acquire.record import explain_perf_failure, sampled_event_argv
from jitprof.commands import main
from jitprof.errors import EmptyInputError
from jitprof.parse import ScriptReader, read_scripts
from jitprof.parse.grammar import parse_sched_switch
from jitprof.parse.tables import SWITCH_OUT, SWITCH_PREEMPT
from jitprof.resolve import MapFinder, build_profile, load_profile
from jitprof.resolve.offcpu import add_off_cpu

KS = "[kernel.kallsyms]"


def switch(comm: str, tid: int, t: str, state: str, frames: list[str], nxt: int = 0,
           cpu: int = 0) -> str:
    head = (f"{comm} {tid}/{tid} [{cpu:03d}] {t}: sched:sched_switch: prev_comm={comm} "
            f"prev_pid={tid} prev_prio=120 prev_state={state} ==> next_comm=swapper/{cpu} "
            f"next_pid={nxt} next_prio=120\n")
    return head + "".join(f"\t{f}\n" for f in frames) + "\n"


def record(comm: str, tid: int, t: str, what: str) -> str:
    return f"{comm} {tid}/{tid} {t}: PERF_RECORD_SWITCH {what}\n"


def cpu(comm: str, tid: int, t: str, frames: list[str], period: int = 1000000) -> str:
    return (f"{comm} {tid}/{tid} {t}: {period:10d} cpu-clock: \n"
            + "".join(f"\t{f}\n" for f in frames) + "\n")


POLL = [f"ffffffff82258a08 __schedule+0x628 ({KS})",
        f"ffffffff82259373 schedule+0x23 ({KS})",
        f"ffffffff82260984 schedule_hrtimeout_range_clock+0x114 ({KS})",
        f"ffffffff816f9857 poll_schedule_timeout.constprop.0+0x37 ({KS})",
        f"ffffffff816fb297 do_sys_poll+0x437 ({KS})",
        "401010 wait_fn+0x10 (/bin/app)",
        "401110 main+0x10 (/bin/app)"]
PREEMPT = [f"ffffffff82258a08 __schedule+0x628 ({KS})",
           f"ffffffff82259373 schedule+0x23 ({KS})",
           f"ffffffff8225372f irqentry_exit_to_user_mode+0x11f ({KS})",
           "401210 work_fn+0x10 (/bin/app)",
           "401110 main+0x10 (/bin/app)"]
FUTEX = [f"ffffffff82258a08 __schedule+0x628 ({KS})",
         f"ffffffff82259373 schedule+0x23 ({KS})",
         f"ffffffff8147a2b1 futex_wait_queue+0x61 ({KS})",
         "402010 lock_fn+0x10 (/bin/app)",
         "401110 main+0x10 (/bin/app)"]
WORK = ["401210 work_fn+0x10 (/bin/app)", "401110 main+0x10 (/bin/app)"]

# thread 100: works, waits 20.1 ms in poll (S), works, is preempted 0.3 ms (R), works,
# waits in poll again until the end (no switch-in: cut at the last time, 10.100000).
# thread 200: waits 50 ms on a futex (S), works, exits (X: no wait).
TEXT = (
    cpu("app", 100, "10.000000", WORK)
    + switch("app", 100, "10.001000", "S", POLL)
    + record("app", 100, "10.001010", "OUT")
    + switch("app", 200, "10.002000", "S", FUTEX, cpu=1)
    + record("app", 200, "10.002010", "OUT")
    + record("app", 100, "10.021100", "IN")
    + cpu("app", 100, "10.022000", WORK)
    + switch("app", 100, "10.023000", "R", PREEMPT)
    + record("app", 100, "10.023005", "OUT preempt")
    + record("app", 100, "10.023300", "IN")
    + record("app", 200, "10.052000", "IN")
    + cpu("app", 200, "10.053000", WORK, period=2000000)
    + switch("app", 200, "10.054000", "X", WORK, cpu=1)
    + cpu("app", 100, "10.060000", WORK)
    + switch("app", 100, "10.070000", "S", POLL)
    + record("app", 100, "10.070010", "OUT")
    + cpu("app", 300, "10.100000", WORK)  # another thread: the newest time
)


def data_of(text: str, tmp_path: Path, name: str = "off.txt") -> tuple[Path, object]:
    p = tmp_path / name
    p.write_text(text)
    return p, read_scripts([str(p)])


def build(path: Path, event: str):  # type: ignore[no-untyped-def]
    return load_profile([str(path)], search_tmp=False, event=event)


def weights_by_leaf(prof) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out: dict[str, int] = {}
    for st in prof.function_stats():
        if st.self_weight:
            out[prof.frames[st.frame_id].name] = st.self_weight
    return out


def test_switch_fields_and_records_are_read(tmp_path: Path) -> None:
    _p, d = data_of(TEXT, tmp_path)
    sw = d.events["sched:sched_switch"]
    assert list(sw.sw_prev_tid) == [100, 200, 100, 200, 100]
    assert list(sw.sw_next_tid) == [0, 0, 0, 0, 0]
    assert bytes(sw.sw_prev_state) == b"SSRXS"
    assert list(d.switches.tid) == [100, 200, 100, 100, 100, 200, 100]
    assert list(d.switches.flags) == [SWITCH_OUT, SWITCH_OUT, 0, SWITCH_OUT | SWITCH_PREEMPT,
                                      0, 0, SWITCH_OUT]
    assert list(d.switches.time) == [10.00101, 10.00201, 10.0211, 10.023005, 10.0233,
                                     10.052, 10.07001]


def test_line_reader_and_merge_keep_the_columns_aligned(tmp_path: Path) -> None:
    """The block reader, the line reader and a merge of two halves read the same."""
    _p, blocks = data_of(TEXT, tmp_path)
    r = ScriptReader()
    r.read_lines(TEXT.splitlines(keepends=True), "x")
    cut = TEXT.index("app 200/200 10.052000")
    first, second = ScriptReader(), ScriptReader()
    first.read_lines(TEXT[:cut].splitlines(keepends=True), "x")
    second.read_lines(TEXT[cut:].splitlines(keepends=True), "x")
    first._merge(second.data, 0)
    for d in (r.data, first.data):
        a, b = d.events["sched:sched_switch"], blocks.events["sched:sched_switch"]
        assert list(a.sw_prev_tid) == list(b.sw_prev_tid)
        assert bytes(a.sw_prev_state) == bytes(b.sw_prev_state)
        assert list(a.s_time) == list(b.s_time)
        assert list(d.switches.time) == list(blocks.switches.time)


def test_parse_sched_switch_comm_with_blanks() -> None:
    assert parse_sched_switch(
        "prev_comm=Web Content prev_pid=42 prev_prio=120 prev_state=D ==> next_comm=a b "
        "next_pid=7 next_prio=-51") == (42, 7, ord("D"))
    assert parse_sched_switch("prev_comm=x prev_pid=1 prev_prio=120 prev_state=R+ ==> "
                              "next_comm=y next_pid=2 next_prio=120") == (1, 2, ord("R"))
    assert parse_sched_switch("ip sym") is None


def test_off_cpu_waits_by_hand(tmp_path: Path) -> None:
    p, _d = data_of(TEXT, tmp_path)
    prof = build(p, "off-cpu")
    prof.verify()
    # poll waits: 10.001000 -> 10.021100 (20.1 ms) and 10.070000 -> 10.100000 (30 ms, cut
    # at the end); futex: 10.002000 -> 10.052000 (50 ms); preempted: 10.023 -> 10.0233
    assert prof.samples == 4
    assert prof.weight == 20_100_000 + 30_000_000 + 50_000_000 + 300_000
    # the scheduler's frames are cut: the leaf is what the thread waits in
    assert weights_by_leaf(prof) == {"poll_schedule_timeout.constprop.0": 50_100_000,
                                     "futex_wait_queue": 50_000_000,
                                     "irqentry_exit_to_user_mode": 300_000}
    names = {f.name for f in prof.frames}
    assert "__schedule" not in names and "schedule" not in names
    tot = {prof.frames[s.frame_id].name: s.total_weight for s in prof.function_stats()}
    assert tot["wait_fn"] == 50_100_000 and tot["lock_fn"] == 50_000_000
    assert tot["work_fn"] == 300_000 and tot["main"] == prof.weight
    d = prof.diagnostics
    assert d.has_period and d.events["off-cpu"] == 4
    assert any("no switch-in before the recording's end (10.100000 s): cut there (30.0 ms"
               in w for w in d.warnings), d.warnings
    assert d.off_cpu[0] == ("off-CPU: 4 waits, 100.4 ms (S sleeping 100.1 ms, "
                            "R runnable (preempted) 0.3 ms)")
    assert "  thread 200 (app): on-CPU 2.0 ms, off-CPU 50.0 ms (S sleeping 50.0 ms)" in d.off_cpu
    assert ("  thread 100 (app): on-CPU 3.0 ms, off-CPU 50.4 ms (S sleeping 50.1 ms, "
            "R runnable (preempted) 0.3 ms)") in d.off_cpu


def test_wall_is_cpu_plus_waits(tmp_path: Path) -> None:
    p, _d = data_of(TEXT, tmp_path)
    wall, cpu_p = build(p, "wall"), build(p, "cpu-clock")
    wall.verify()
    assert wall.samples == 5 + 4
    assert wall.weight == cpu_p.weight + 100_400_000 == 6_000_000 + 100_400_000
    tot = {wall.frames[s.frame_id].name: s.total_weight for s in wall.function_stats()}
    assert tot["work_fn"] == 6_000_000 + 300_000
    assert cpu_p.diagnostics.off_cpu == [] and cpu_p.weight == 6_000_000


def test_switch_samples_without_stacks(tmp_path: Path) -> None:
    """A text with switch events but no stacks (recorded without -g): the waits count,
    under [no stack], and a warning says why."""
    text = (cpu("app", 100, "1.000000", WORK)
            + switch("app", 100, "1.001000", "S", [])
            + record("app", 100, "1.005000", "IN")
            + cpu("app", 100, "1.006000", WORK))
    p, _d = data_of(text, tmp_path)
    prof = build(p, "off-cpu")
    assert prof.weight == 4_000_000
    assert weights_by_leaf(prof) == {"[no stack]": 4_000_000}
    assert any("1 of 1 switch samples have no call stack (record them with -g)" in w
               for w in prof.diagnostics.warnings)


def test_without_switch_records_the_next_sample_ends_a_wait(tmp_path: Path) -> None:
    """No PERF_RECORD_SWITCH (perf record without --switch-events): the thread's next
    sample ends its wait, and a warning says the waits may be too long."""
    text = "".join(ln for ln in TEXT.splitlines(keepends=True) if "PERF_RECORD" not in ln)
    p, _d = data_of(text, tmp_path)
    prof = build(p, "off-cpu")
    # 100: 10.001 -> 10.022 (its next cpu sample), 10.023 -> 10.060, 10.070 -> 10.100 (end)
    # 200: 10.002 -> 10.053
    assert prof.weight == 21_000_000 + 37_000_000 + 30_000_000 + 51_000_000
    assert any("3 of 4 waits ended at the thread's next sample, not at a switch-in" in w
               for w in prof.diagnostics.warnings), prof.diagnostics.warnings


def test_system_wide_next_pid_is_a_switch_in(tmp_path: Path) -> None:
    """perf record -a: the switch sample that switches a thread in (next_pid) ends its
    wait; the idle task's switch-outs are no waits."""
    text = (switch("app", 100, "5.000000", "D", POLL, nxt=0)
            + switch("swapper/0", 0, "5.004000", "R", [], nxt=100)
            + cpu("app", 100, "5.005000", WORK))
    p, _d = data_of(text, tmp_path)
    prof = build(p, "off-cpu")
    assert prof.samples == 1 and prof.weight == 4_000_000
    assert prof.diagnostics.off_cpu[0] == ("off-CPU: 1 waits, 4.0 ms (D uninterruptible "
                                           "(IO) 4.0 ms)")


def test_input_is_not_changed(tmp_path: Path) -> None:
    _p, d = data_of(TEXT, tmp_path)
    before = (len(d.stacks), list(d.events), len(d.stacks.frames))
    out, note = add_off_cpu(d)
    assert note is not None and out is not d
    assert (len(d.stacks), list(d.events), len(d.stacks.frames)) == before
    assert set(out.events) == {"cpu-clock", "sched:sched_switch", "off-cpu", "wall"}
    prof = build_profile(d, MapFinder(search_tmp=False), event="sched:sched_switch")
    assert prof.samples == 5  # the raw event keeps its stacks, scheduler frames and all
    assert "__schedule" in {f.name for f in prof.frames}


def test_errors_name_what_is_missing(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text(cpu("app", 100, "1.000000", WORK))
    with pytest.raises(EmptyInputError, match="off-cpu and wall are made from "
                       "sched:sched_switch samples: record with jitprof record --off-cpu"):
        build(plain, "off-cpu")
    no_period = re.sub(r" +\d+ cpu-clock:", " cpu-clock:", TEXT)
    p, _d = data_of(no_period, tmp_path, "np.txt")
    with pytest.raises(EmptyInputError, match=r"wall needs the period of the cpu-clock "
                       r"samples \(CPU ns\): print them with perf script -F \+period"):
        build(p, "wall")
    r = CliRunner().invoke(main, ["report", str(plain), "--event", "wall"])
    assert r.exit_code == 3
    assert r.output.strip().splitlines()[-1].startswith(f"jitprof: error: {plain}: no samples "
                                                        "of event 'wall'")


def test_report_json_and_header(tmp_path: Path) -> None:
    p, _d = data_of(TEXT, tmp_path)
    r = CliRunner().invoke(main, ["report", str(p), "--event", "off-cpu", "--no-tmp",
                                  "--format", "json", "--top", "0"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["event"] == "off-cpu" and doc["weight"] == 100_400_000
    assert doc["weight_unit"] == "period"
    assert doc["diagnostics"]["off_cpu"][0].startswith("off-CPU: 4 waits")
    r = CliRunner().invoke(main, ["report", str(p), "--event", "wall", "--no-tmp"])
    assert r.exit_code == 0, r.output
    assert "# event: wall  samples: 9  weight: 106,400,000 (ns)" in r.output
    assert "# off-CPU: 4 waits, 100.4 ms" in r.output


def test_diff_of_off_cpu_profiles(tmp_path: Path) -> None:
    """"Did the patch cut the waiting?": the futex wait halved."""
    after = TEXT.replace("app 200/200 10.052000: PERF_RECORD_SWITCH IN",
                         "app 200/200 10.027000: PERF_RECORD_SWITCH IN")
    a, _ = data_of(TEXT, tmp_path, "a.txt")
    b, _ = data_of(after, tmp_path, "b.txt")
    r = CliRunner().invoke(main, ["diff", str(a), str(b), "--event", "off-cpu", "--no-tmp",
                                  "--format", "json", "--top", "0"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    # counted in ms of wait (a wait is one sample of any length): shares are of time
    assert (doc["before"]["samples"], doc["after"]["samples"]) == (100, 75)
    assert (doc["before"]["cpu_ms"], doc["after"]["cpu_ms"]) == (100.4, 75.4)
    fut = {f["name"]: f for f in doc["functions"]}["futex_wait_queue"]
    assert fut["self_samples"] == [50, 25] and fut["self_ms"] == [50.0, 25.0]
    assert fut["self_pct"] == [50.0, pytest.approx(100 * 25 / 75)]
    assert fut["verdict"] == "down"
    text = CliRunner().invoke(main, ["diff", str(a), str(b), "--event", "off-cpu", "--no-tmp"])
    assert "# before: " + str(a) + ": 100 ms of samples, 0.069 s, 100.4 ms off-CPU" in text.output


def test_record_arguments() -> None:
    assert sampled_event_argv("cpu-clock", 999, False) == ["-F", "999", "-e", "cpu-clock"]
    assert sampled_event_argv("cpu-clock", 499, True) == [
        "-e", "cpu-clock/freq=499,name=cpu-clock/", "-e", "sched:sched_switch",
        "--switch-events"]
    assert sampled_event_argv("cycles:u", 99, True) == [
        "-F", "99", "-e", "cycles:u", "-e", "sched:sched_switch", "--switch-events"]


def test_tracepoint_not_permitted_message() -> None:
    """perf 6.1's own message for a user who may not read tracefs (seen as nobody)."""
    err = ("event syntax error: 'sched:sched_switch'\n                     \\___ can't "
           "access trace events\n\nError:\tNo permissions to read "
           "/sys/kernel/tracing/events/sched/sched_switch\nHint:\tTry 'sudo mount -o "
           "remount,mode=755 /sys/kernel/tracing/'\n")
    e = explain_perf_failure(err, 129, "cpu-clock", [], [1], off_cpu=True)
    assert str(e).startswith("perf record: cannot record the sched:sched_switch tracepoint "
                             "that --off-cpu needs (kernel.perf_event_paranoid = ")
    assert "sysctl kernel.perf_event_paranoid=-1" in str(e) and e.exit_code == 4
    assert "\n" not in str(e)


def test_next_measure() -> None:
    from jitprof.present.views import next_measure

    events = ["cpu-clock", "sched:sched_switch", "off-cpu", "wall"]
    assert next_measure(events, "cpu-clock") == "off-cpu"
    assert next_measure(events, "off-cpu") == "wall"
    assert next_measure(events, "wall") == "cpu-clock"
    assert next_measure(events, "sched:sched_switch") == "cpu-clock"
    assert next_measure(["cpu-clock/freq=99/", "off-cpu"], "off-cpu") == "cpu-clock/freq=99/"
    assert next_measure(["cpu-clock", "cycles"], "cpu-clock") is None


async def test_tui_e_key_cycles_the_measure(tmp_path: Path) -> None:
    """e reads the inputs again for off-cpu, wall, then cpu-clock; the numbers shown are
    those of report for each."""
    from jitprof.tui.app import JitprofApp
    from jitprof.tui.widgets import LoadingScreen

    p, _d = data_of(TEXT, tmp_path)

    def loader_of(event):  # type: ignore[no-untyped-def]
        return lambda progress: load_profile([str(p)], search_tmp=False, event=event,
                                             progress=progress)

    app = JitprofApp(loader=loader_of(None), inputs=[str(p)], measure_loader=loader_of)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        seen = [(app.full.event, app.full.weight)]
        for _ in range(3):
            await pilot.press("e")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert not isinstance(app.screen, LoadingScreen)
            seen.append((app.full.event, app.full.weight))
    assert seen == [("cpu-clock", 6_000_000), ("off-cpu", 100_400_000),
                    ("wall", 106_400_000), ("cpu-clock", 6_000_000)]


def test_raw_sched_switch_payloads_decode_as_perf_prints_them() -> None:
    """For a native perf.data reader: payloads laid out as this kernel's format file says
    (sched_switch: prev_pid at 24, prev_state at 32 (8 bytes), next_pid at 56), and the
    letter of each prev_state value as the format's __print_flags prints it."""
    import struct

    from jitprof.parse.switches import decode_sched_switch, prev_state_code

    fields = {"prev_pid": (24, 4), "prev_state": (32, 8), "next_pid": (56, 4)}
    cases = [(100, 0x0, 0, "R"), (101, 0x1, 7, "S"), (102, 0x2, 8, "D"), (103, 0x100, 9, "R"),
             (104, 0x10, 0, "X"), (105, 0x80, 3, "I"), (106, 0x3, 4, "S"), (107, 0x402, 5, "D")]
    raw = b""
    starts = []
    for prev, state, nxt, _letter in cases:
        payload = bytearray(68)
        struct.pack_into("<i", payload, 24, prev)
        struct.pack_into("<q", payload, 32, state)
        struct.pack_into("<i", payload, 56, nxt)
        starts.append(len(raw) + 4)
        raw += b"\0\0\0\0" + bytes(payload)  # (a size word before each, as in a sample)
    p, n, s = decode_sched_switch(raw, starts, fields)
    assert list(p) == [c[0] for c in cases] and list(n) == [c[2] for c in cases]
    assert bytes(s).decode() == "".join(c[3] for c in cases)
    assert [chr(prev_state_code(c[1])) for c in cases] == [c[3] for c in cases]
    # and the text reader's letter for each (perf script's "R+", "S|D"): the same
    for text, letter in (("R+", "R"), ("S|D", "S"), ("D", "D"), ("I", "I")):
        line = (f"prev_comm=a prev_pid=1 prev_prio=120 prev_state={text} ==> next_comm=b "
                "next_pid=2 next_prio=120")
        assert parse_sched_switch(line) == (1, 2, ord(letter))


def test_exports_say_nanoseconds(tmp_path: Path) -> None:
    """speedscope and pprof of an off-cpu / wall profile weigh in nanoseconds."""
    from jitprof.export.base import weight_unit
    from jitprof.export.pprof import sample_types

    p, _d = data_of(TEXT, tmp_path)
    for event in ("off-cpu", "wall"):
        prof = build(p, event)
        assert weight_unit(prof, True) == "nanoseconds"
        assert sample_types(prof) == [("samples", "count"), (event, "nanoseconds")]
    out = tmp_path / "off.speedscope.json"
    r = CliRunner().invoke(main, ["export", str(p), "--event", "off-cpu", "--no-tmp", "-o",
                                  str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert {pr["unit"] for pr in doc["profiles"]} == {"nanoseconds"}
    assert sum(sum(pr["weights"]) for pr in doc["profiles"]) == 100_400_000


def test_wall_rows_split_cpu_and_off_cpu(tmp_path: Path) -> None:
    """Each function of a wall profile: its CPU and off-CPU time (ns and % of wall), by
    hand; the table's CPU and Off-CPU columns; a JSON profile keeps the split."""
    p, _d = data_of(TEXT, tmp_path)
    r = CliRunner().invoke(main, ["report", str(p), "--event", "wall", "--no-tmp",
                                  "--format", "json", "--top", "0"])
    assert r.exit_code == 0, r.output
    rows = {f["name"]: f for f in json.loads(r.output)["functions"]}
    wall = 106_400_000
    want = {"main": (0, 6_000_000, 0, 100_400_000), "work_fn": (6_000_000, 6_000_000, 0, 300_000),
            "wait_fn": (0, 0, 0, 50_100_000), "futex_wait_queue": (0, 0, 50_000_000, 50_000_000)}
    for name, (cs, ct, os_, ot) in want.items():
        f = rows[name]
        assert (f["cpu_self"], f["cpu_total"], f["off_cpu_self"], f["off_cpu_total"]) == (
            cs, ct, os_, ot), name
        assert f["cpu_total"] + f["off_cpu_total"] == f["total"]
        assert f["off_cpu_total_pct"] == round(100 * ot / wall, 4)
    r = CliRunner().invoke(main, ["report", str(p), "--event", "wall", "--no-tmp",
                                  "--sort", "total"])
    lines = r.output.splitlines()
    assert any(ln.startswith("#    Self   Total      CPU Off-CPU  Self#  Total#") for ln in lines)
    main_row = next(ln for ln in lines if ln.endswith("  main"))
    assert main_row.split()[:4] == ["0.00%", "100.00%", "5.64%", "94.36%"]
    # the CPU profile has no such columns
    r = CliRunner().invoke(main, ["report", str(p), "--no-tmp", "--format", "json"])
    assert "cpu_total" not in json.loads(r.output)["functions"][0]
    # a JSON profile of the wall profile, read back, keeps the split
    out = tmp_path / "wall.json"
    r = CliRunner().invoke(main, ["export", str(p), "--event", "wall", "--no-tmp", "-o", str(out)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["report", str(out), "--format", "json", "--top", "0"])
    again = {f["name"]: f for f in json.loads(r.output)["functions"]}
    assert again["wait_fn"]["off_cpu_total"] == 50_100_000


def test_live_view_switches_the_measure() -> None:
    """jitprof top's engine fed the text in pieces: the whole run as off-cpu and wall
    (the e key: LiveView.set_event), the same numbers as report."""
    from jitprof.acquire.live import LiveProfiler
    from jitprof.present.liveview import LiveView

    live = LiveProfiler([], event="cpu-clock")
    for i in range(0, len(TEXT), 97):  # any chunking
        live.feed(TEXT[i:i + 97])
    live.feed("\n")
    view = LiveView(live, alive=lambda pid: True)
    got = []
    for event in ("cpu-clock", "off-cpu", "wall"):
        view.set_event(event)
        assert view.pending
        r = view.compute(view.generation, None)
        assert r.profile is not None
        got.append((r.profile.event, r.profile.weight))
    assert got == [("cpu-clock", 6_000_000), ("off-cpu", 100_400_000), ("wall", 106_400_000)]
