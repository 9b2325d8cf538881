"""jitdump reading (hand-built files in both byte orders) and naming JIT frames by time."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitprof.errors import InputError
from jitprof.model import Profile
from jitprof.present.rows import function_rows
from jitprof.resolve import load_profile
from jitprof.symbols.jitdump import load_jitdump, parse_jitdump
from tests.jitdumpfile import DebugInfo, Dump, Load, Move, Raw

S = 1_000_000_000  # ns per second
PID = 100
RESPOND, X, RENDER = 0x7F0000002000, 0x7F0000001000, 0x7F0000001400

# The JIT's history: dispatch owns [X, X+0x800) from 1 s; at 2 s that space is reused by
# route (at X) and render (at X+0x400, inside the old range).
LOADS = [
    Load(S // 2, RESPOND, 0x100, "PHP::Api_Handler::respond", 1),
    Load(1 * S, X, 0x800, "PHP::Api_Legacy::dispatch", 2),
    Load(2 * S, X, 0x100, "PHP::Api_Router::route", 3),
    Load(2 * S, RENDER, 0x100, "PHP::Api_View::render", 4),
]
# the same history as a perf map (what --perf-basic-prof style writers give)
MAP = "".join(f"{ld.addr:x} {ld.size:x} {ld.name}\n" for ld in LOADS)


def _dump(byte_order: str = "<", **kw: object) -> Dump:
    recs: list[object] = [
        Raw(4, b"\0" * 40, S // 4),  # CODE_UNWINDING_INFO: skipped
        *LOADS[:1],
        DebugInfo(S - 1, X, [(X + 0x10, 7, 3, "/srv/legacy.php"), (X + 0x40, 9, 0, "\xff")]),
        *LOADS[1:2],
        Raw(42, b"future record", S + 5),  # unknown id: skipped by its size
        *LOADS[2:],
    ]
    return Dump(PID, recs, byte_order=byte_order, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("bo", ["<", ">"])
def test_header_and_records_in_both_byte_orders(tmp_path: Path, bo: str) -> None:
    jd = load_jitdump(str(_dump(bo).write(tmp_path / f"jit-{PID}.dump")))
    assert jd.byte_order == bo and jd.version == 1 and jd.elf_mach == 62
    assert jd.pid == PID and jd.timestamp == 1234567 and not jd.arch_timestamp
    assert [(c.time, c.start, c.size, c.name, c.index) for c in jd.loads] == [
        (ld.time_ns, ld.addr, ld.size, ld.name, ld.index) for ld in LOADS]
    assert jd.counts == {"CODE_LOAD": 4, "CODE_MOVE": 0, "CODE_DEBUG_INFO": 1,
                         "CODE_CLOSE": 1, "CODE_UNWINDING_INFO": 1}
    assert jd.unknown_records == 1 and jd.closed and jd.truncated is None
    assert (jd.first_time, jd.last_time) == (S // 4, 2 * S)
    # DEBUG_INFO belongs to the next load of its address; "\xff" = the previous file
    dispatch = jd.loads[1]
    assert [(s.addr, s.file, s.line, s.discrim) for s in dispatch.lines] == [
        (X + 0x10, "/srv/legacy.php", 7, 3), (X + 0x40, "/srv/legacy.php", 9, 0)]
    line = dispatch.source_line(X + 0x41)
    assert line is not None and line.line == 9
    assert dispatch.source_line(X + 0x8) is None and jd.loads[2].lines == ()


def test_byte_orders_give_the_same_dump(tmp_path: Path) -> None:
    a = parse_jitdump(_dump("<").encode(), "a")
    b = parse_jitdump(_dump(">").encode(), "b")
    assert a.loads == b.loads and a.counts == b.counts


def test_v8_debug_info_addresses_are_0x40_high() -> None:
    # V8 (pad1 0xDEADBEEF) adds its ELF header size to every DEBUG_INFO address
    d = Dump(PID, [DebugInfo(S, X, [(X + 0x40, 3, 1, "t.js"), (X + 0x50, 4, 1, "\xff")]),
                   Load(S, X, 0x20, "JS:*f t.js:3:1")], pad1=0xDEADBEEF)
    (ld,) = parse_jitdump(d.encode(), "d").loads
    assert [(x.addr, x.line) for x in ld.lines] == [(X, 3), (X + 0x10, 4)]
    d.pad1 = 0
    (ld,) = parse_jitdump(d.encode(), "d").loads
    assert [x.addr for x in ld.lines] == [X + 0x40, X + 0x50]


def test_v8_broken_script_names_are_read_and_repaired() -> None:
    # node 20's V8 writes long script names from freed memory: the first 16 bytes are heap
    # pointers, NULs included; the entries must still line up, the name comes from the load
    path = "/srv/app/lib/some/long/path/t.js"
    broken = b"z3@\x19\0\0\0\0s\xb1S-s\xa5\xfa\x1f" + path[16:].encode()
    d = Dump(PID, [DebugInfo(S, X, [(X + 0x40, 2, 13, broken), (X + 0x67, 2, 28, broken)]),
                   Load(S, X, 0x80, f"JS:*fib {path}:2:13")], pad1=0xDEADBEEF)
    jd = parse_jitdump(d.encode(), "d")
    (ld,) = jd.loads
    assert [(x.addr - X, x.file, x.line, x.discrim) for x in ld.lines] == [
        (0, path, 2, 13), (0x27, path, 2, 28)]
    assert jd.bad_debug_info == 0
    # entries that cannot line up (an address nowhere near the code) are dropped, counted
    d = Dump(PID, [DebugInfo(S, X, [(7, 2, 13, "a.js")]), Load(S, X, 0x80, "JS:*f a.js:2:1")])
    jd = parse_jitdump(d.encode(), "d")
    assert jd.loads[0].lines == () and jd.bad_debug_info == 1
    assert "1 unreadable CODE_DEBUG_INFO dropped" in jd.summary()


def test_timeline_by_time_and_latest(tmp_path: Path) -> None:
    tl = parse_jitdump(_dump().encode(), "d").timeline()
    assert [c.name for c in tl.covering(X + 0x10)] == ["PHP::Api_Legacy::dispatch",
                                                       "PHP::Api_Router::route"]

    def at(addr: int, t: int) -> str | None:
        c = tl.at(addr, t)
        return c.name if c else None

    assert at(X + 0x10, S // 2) is None  # nothing there yet
    assert at(X + 0x10, S) == "PHP::Api_Legacy::dispatch"  # at the load's own time
    assert at(X + 0x10, 2 * S - 1) == "PHP::Api_Legacy::dispatch"
    assert at(X + 0x10, 2 * S) == "PHP::Api_Router::route"
    assert at(X + 0x200, 3 * S) == "PHP::Api_Legacy::dispatch"  # stale, never reused
    assert at(RENDER + 0x10, 3 * S) == "PHP::Api_View::render"
    assert at(X + 0x800, 3 * S) is None  # end is exclusive
    latest = tl.latest(RENDER)
    assert latest is not None and latest.name == "PHP::Api_View::render"


def test_code_move_names_the_new_address(tmp_path: Path) -> None:
    d = Dump(PID, [Load(S, X, 0x40, "JS:*moved", 7), Move(2 * S, X, RESPOND, 0x40, 7)])
    jd = parse_jitdump(d.encode(), "d")
    assert jd.counts["CODE_MOVE"] == 1
    mv = jd.loads[1]
    assert (mv.name, mv.start, mv.moved, mv.time) == ("JS:*moved", RESPOND, True, 2 * S)
    tl = jd.timeline()
    c = tl.at(RESPOND + 1, 3 * S)
    assert c is not None and c.name == "JS:*moved"
    assert tl.at(RESPOND + 1, S) is None


def test_truncated_last_record_is_tolerated_and_reported(tmp_path: Path) -> None:
    full = _dump(closed=False).encode()
    last_start = full.rindex(b"\0\0\0\0", 0, len(full) - 300)  # somewhere in the last load
    for cut in (len(full) - 5, len(full) - 0x100 - 20):  # in the code bytes; in the prefix
        jd = parse_jitdump(full[:cut], "live.dump")
        assert jd.truncated is not None and "still writing" in jd.truncated
        assert "byte " in jd.truncated
        assert [c.name for c in jd.loads][:3] == [ld.name for ld in LOADS[:3]]
        assert not jd.closed
    assert last_start > 0


def test_prefix_cut_short(tmp_path: Path) -> None:
    full = _dump(closed=False).encode()
    jd = parse_jitdump(full + b"\0" * 7, "live.dump")
    assert jd.truncated == (f"last record cut short at byte {len(full)} (7 of at least 16 bytes;"
                            " is the JIT still writing?)")
    assert len(jd.loads) == 4


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not a jitdump file (empty)"),
    (b"\x7fELF" + b"\0" * 60, "byte 0: not a jitdump file (magic 0x464c457f"),
    (b"DTiJ\1\0\0\0", "byte 8: header cut short (8 of 40 bytes)"),
])
def test_bad_files_fail_with_file_and_offset(tmp_path: Path, data: bytes, message: str) -> None:
    p = tmp_path / "jit-1.dump"
    p.write_bytes(data)
    with pytest.raises(InputError) as ei:
        load_jitdump(str(p))
    assert str(ei.value).startswith(f"{p}: ")
    assert message in str(ei.value)


def test_impossible_record_size_fails_with_offset() -> None:
    good = Dump(PID, LOADS[:1], closed=False).encode()
    d = Dump(PID, [*LOADS[:1], Raw(0, b"", 0, size=8)], closed=False).encode()
    with pytest.raises(InputError, match=rf"^d: byte {len(good)}: record size 8 is smaller"):
        parse_jitdump(d, "d")
    # a CODE_LOAD whose code cannot fit its record
    short = Dump(PID, [Raw(0, b"\0" * 40 + b"name\0", 0)], closed=False).encode()
    short = short[:40 + 16 + 24] + (2**40).to_bytes(8, "little") + short[40 + 16 + 32:]
    with pytest.raises(InputError, match=r"^d: byte 40: CODE_LOAD of 61 bytes cannot hold"):
        parse_jitdump(short, "d")


# -- naming samples by time -----------------------------------------------------------------

def _sample(t: float | None, w: int, *frames: int, kernel_leaf: bool = False) -> str:
    head = f"php {PID}/{PID} {t:.6f}: {w} cpu-clock:" if t is not None else (
        f"php {PID}/{PID} {w} cpu-clock:")
    lines = [head]
    if kernel_leaf:
        lines.append("\tffffffff81000000 clear_page_erms+0x0 ([kernel.kallsyms])")
    lines += [f"\t{a:x} [unknown] (//anon)" for a in frames]
    lines.append("\t401000 main+0x10 (/usr/bin/php)")
    return "\n".join(lines) + "\n\n"


# (time s, weight, frames leaf first): S1/S3 and S2/S4 are the same stacks at other times
SAMPLES = [
    (1.5, 10, (X + 0x10, RESPOND + 0x20)),  # dispatch <- respond
    (1.6, 10, (RENDER + 0x10, RESPOND + 0x20)),  # dispatch (render's space, before reuse)
    (2.5, 5, (X + 0x10, RESPOND + 0x20)),  # route <- respond
    (2.6, 5, (RENDER + 0x10, RESPOND + 0x20)),  # render <- respond
    (3.0, 3, (RESPOND + 0x10, X + 0x21)),  # respond <- route (return address - 1)
    (1.2, 2, (RESPOND + 0x10, X + 0x21)),  # respond <- dispatch
]
KERNEL_SAMPLE = (1.7, 1, (RENDER + 0x20, RESPOND + 0x20))  # clear_page <- dispatch (exact ip)


def _script(times: bool = True, shift: float = 0.0) -> str:
    text = "".join(_sample(t + shift if times else None, w, *fr) for t, w, fr in SAMPLES)
    t, w, fr = KERNEL_SAMPLE
    return text + _sample(t + shift if times else None, w, *fr, kernel_leaf=True)


def _named(tmp_path: Path, script: str, *, dump: Dump | None = None, perf_map: bool = False
           ) -> Profile:
    tmp_path.mkdir(exist_ok=True)
    inp = tmp_path / "perf.script"
    inp.write_text(script)
    if dump is not None:
        dump.write(tmp_path / f"jit-{PID}.dump")
    if perf_map:
        (tmp_path / f"perf-{PID}.map").write_text(MAP)
    prof = load_profile([str(inp)], search_tmp=False)
    prof.verify()
    return prof


def _weights(prof: Profile) -> dict[str, tuple[int, int]]:
    return {r.name: (r.self_weight, r.total_weight) for r in function_rows(prof)
            if r.name.startswith("PHP::")}


BY_TIME = {  # hand-computed from SAMPLES and LOADS
    "PHP::Api_Legacy::dispatch": (20, 23),
    "PHP::Api_Router::route": (5, 8),
    "PHP::Api_View::render": (5, 5),
    "PHP::Api_Handler::respond": (5, 36),
}
LATEST_WINS = {  # what a perf map gives: the later line always wins
    "PHP::Api_Router::route": (15, 20),
    "PHP::Api_View::render": (15, 16),
    "PHP::Api_Handler::respond": (5, 36),
}


@pytest.mark.parametrize("bo", ["<", ">"])
def test_reused_range_is_named_by_time(tmp_path: Path, bo: str) -> None:
    prof = _named(tmp_path, _script(), dump=_dump(bo), perf_map=True)  # the dump wins
    assert _weights(prof) == BY_TIME
    assert prof.weight == 36 and prof.samples == 7
    assert prof.diagnostics.jit_samples == prof.diagnostics.jit_samples_resolved == 6
    assert prof.diagnostics.jit_frames == prof.diagnostics.jit_frames_resolved == 14
    assert not [w for w in prof.diagnostics.warnings if "jitdump" in w]
    (note,) = prof.diagnostics.jitdumps
    assert "4 code loads, 4 addresses in samples were reused" in note
    assert "7 samples there named by time (4 differ from the load written last)" in note


def test_a_perf_map_of_the_same_history_gets_the_reused_range_wrong(tmp_path: Path) -> None:
    prof = _named(tmp_path, _script(), perf_map=True)
    assert _weights(prof) == LATEST_WINS
    assert prof.diagnostics.jitdumps == []


def test_without_sample_times_the_dump_falls_back_and_says_so(tmp_path: Path) -> None:
    prof = _named(tmp_path, _script(times=False), dump=_dump())
    assert _weights(prof) == LATEST_WINS
    (w,) = [w for w in prof.diagnostics.warnings if "jitdump" in w]
    assert "the samples have no time" in w and "-k CLOCK_MONOTONIC" in w


def test_samples_on_another_clock_fall_back_and_say_so(tmp_path: Path) -> None:
    # perf's default clock: the times are off by more than the run (all before the loads)
    prof = _named(tmp_path, _script(shift=-1.0), dump=_dump())
    assert _weights(prof) == LATEST_WINS
    (w,) = [w for w in prof.diagnostics.warnings if "jitdump" in w]
    assert "sample times are earlier than the code they ran was loaded" in w


def test_arch_timestamps_fall_back_and_say_so(tmp_path: Path) -> None:
    prof = _named(tmp_path, _script(), dump=_dump(flags=1))
    assert _weights(prof) == LATEST_WINS
    (w,) = [w for w in prof.diagnostics.warnings if "jitdump" in w]
    assert "JITDUMP_FLAGS_ARCH_TIMESTAMP" in w


def test_microsecond_times_may_be_up_to_999ns_late(tmp_path: Path) -> None:
    # route loaded at 2.0000000005 s; a sample printed 2.000000 (perf cut 500 ns off) is
    # later than the load, one printed 1.999999 is not
    loads = [Load(S, X, 0x800, "PHP::Old", 1), Load(2 * S + 500, X, 0x100, "PHP::New", 2)]
    text = _sample(2.0, 1, X + 1) + _sample(1.999999, 2, X + 1)
    prof = _named(tmp_path, text, dump=Dump(PID, loads))
    assert _weights(prof) == {"PHP::New": (1, 1), "PHP::Old": (2, 2)}


def test_explicit_jitdump_option(tmp_path: Path) -> None:
    inp = tmp_path / "perf.script"
    inp.write_text(_script())
    other = tmp_path / "elsewhere"
    other.mkdir()
    dump = _dump().write(other / "renamed.dump")
    prof = load_profile([str(inp)], search_tmp=False, jitdumps=[str(dump)])
    prof.verify()
    assert _weights(prof) == BY_TIME


def test_code_missing_from_the_dump_is_named_from_the_map(tmp_path: Path) -> None:
    # the writer's buffer was not flushed: the dump lacks the last load; the map has it
    late = 0x7F0000003000
    inp = tmp_path / "perf.script"
    inp.write_text(_script() + _sample(3.5, 4, late + 0x10, RESPOND + 0x20))
    _dump().write(tmp_path / f"jit-{PID}.dump")
    (tmp_path / f"perf-{PID}.map").write_text(MAP + f"{late:x} 40 PHP::Late::fn\n")
    prof = load_profile([str(inp)], search_tmp=False)
    prof.verify()
    got = _weights(prof)
    assert got == {**BY_TIME, "PHP::Late::fn": (4, 4), "PHP::Api_Handler::respond": (5, 40)}
    (note,) = prof.diagnostics.jitdumps
    assert f"1 sampled code addresses not in the dump named from {tmp_path}/perf-{PID}.map" in note
    # without the map the late code stays unknown
    (tmp_path / f"perf-{PID}.map").unlink()
    prof = load_profile([str(inp)], search_tmp=False)
    assert "PHP::Late::fn" not in _weights(prof)


def test_a_dump_closed_before_the_samples_is_not_used(tmp_path: Path) -> None:
    # an older process with the same pid left its dump (closed at 0.9 s; samples from 1.2 s)
    old = Dump(PID, [Load(S // 2, X, 0x800, "PHP::FromAnOldRun", 1)])  # CLOSE at 0.5 s
    prof = _named(tmp_path, _script(shift=1.0), dump=old, perf_map=True)
    assert _weights(prof) == LATEST_WINS  # from the map
    (w,) = [w for w in prof.diagnostics.warnings if "jit-100.dump" in w]
    assert "was closed (its JIT exited) before the first sample" in w
    assert prof.diagnostics.jitdumps == []


def test_time_bins_survive_naming_by_time(tmp_path: Path) -> None:
    # per 0.5 s bin (jitprof diff's bootstrap needs them), hand-computed from SAMPLES
    inp = tmp_path / "perf.script"
    inp.write_text(_script())
    _dump().write(tmp_path / f"jit-{PID}.dump")
    prof = load_profile([str(inp)], search_tmp=False, bin_width=0.5)
    prof.verify()
    assert prof.bin_width == 0.5 and len(prof.stack_bin) == len(prof.stacks)
    assert _weights(prof) == BY_TIME  # the same totals as without bins
    leaf_by_bin: dict[tuple[str, int], int] = {}
    for stack, w, _s, _t, b in zip(prof.stacks, prof.stack_weight, prof.stack_samples,
                                   prof.stack_thread, prof.stack_bin, strict=True):
        key = (prof.frames[stack[0]].name, b)
        leaf_by_bin[key] = leaf_by_bin.get(key, 0) + w
    assert leaf_by_bin == {
        ("PHP::Api_Legacy::dispatch", 3): 20,  # 1.5 s and 1.6 s
        ("PHP::Api_Router::route", 5): 5,  # 2.5 s
        ("PHP::Api_View::render", 5): 5,  # 2.6 s
        ("PHP::Api_Handler::respond", 6): 3,  # 3.0 s
        ("PHP::Api_Handler::respond", 2): 2,  # 1.2 s
        ("clear_page_erms", 3): 1,  # 1.7 s
    }
