"""perf script texts other people and tools produced (issue 13): every rule, with the lines
that were seen (verbatim where the issue quotes them).

The lines marked "verbatim" are from third-party texts quoted in issue 13; the others are
perf 6.1.187 output made here (tests/test_script.py names the recordings) or the same text
changed the way the rule says (re-indented, cut, another host's header).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.inputs.recording import (
    HostFacts,
    RecordingFacts,
    file_verdict,
    is_header_comment,
    kernel_build_id,
    kernel_verdict,
    parse_header_comment,
)
from jitprof.model import Kind
from jitprof.parse import (
    ScriptData,
    ScriptReader,
    collapse_inlined,
    is_frame_line,
    parse_header,
    unreadable_text,
)
from jitprof.resolve import MapFinder, build_profile
from jitprof.symbols.symbolize import Kallsyms, is_kallsyms_marker, read_kallsyms
from tests.conftest import skip_or_fail
from tests.test_script import DEFAULT


def read(text: str, path: str = "t.txt") -> ScriptData:
    r = ScriptReader()
    r.read_lines(text.splitlines(keepends=True), path)
    return r.data


def samples_by_text(d: ScriptData) -> dict[tuple[str, int, str, tuple[tuple[int, str, str], ...]],
                                           list[int]]:
    """(event, tid, comm, frames as (addr, sym, dso)) -> [samples, weight]: independent of
    frame ids (a re-indented line is another raw text, the same frame)."""
    out: dict = {}
    for name, ev in d.events.items():
        for (tid, comm, st), v in ev.stacks.items():
            key = (name, tid, comm, tuple((d.frames[f].addr, d.frames[f].sym, d.frames[f].dso)
                                          for f in st))
            acc = out.setdefault(key, [0, 0])
            acc[0] += v[0]
            acc[1] += v[1]
    return out


def report(path: Path, *args: str, code: int = 0) -> dict:
    res = CliRunner().invoke(main, ["report", str(path), "--no-tmp", "--format", "json",
                                    *args])
    assert res.exit_code == code, res.output
    return json.loads(res.output) if code == 0 else {"output": res.output}


def rows(doc: dict) -> dict[str, tuple[str, int, int]]:
    return {f["name"]: (f["kind"], f["self_samples"], f["total_samples"])
            for f in doc["functions"]}


# -- 1. "comm tid event:" headers (perf script -F comm,tid,event,ip,sym,dso) ---------------

def test_comm_tid_event_header() -> None:
    h = parse_header("func_ab 15294 cpu-clock: ")  # verbatim
    assert h is not None
    assert (h.comm, h.tid, h.pid, h.period, h.event, h.time) == (
        "func_ab", 15294, None, None, "cpu-clock", None)
    # the period is printed "%10lu ": the same shape, told apart by its width
    h = parse_header("               w    1001001 cpu-clock: ")  # -F comm,period,event
    assert h is not None and (h.comm, h.tid, h.period) == ("w", None, 1001001)
    h = parse_header("               w 11850    1001001 cpu-clock: ")  # comm,tid,period,event
    assert h is not None and (h.comm, h.tid, h.period) == ("w", 11850, 1001001)
    h = parse_header("   1001001 cpu-clock: ")  # -F period,event
    assert h is not None and (h.tid, h.period, h.event) == (None, 1001001, "cpu-clock")
    h = parse_header("11850 cpu-clock: ")  # -F tid,event
    assert h is not None and (h.tid, h.period, h.event) == (11850, None, "cpu-clock")
    h = parse_header("w    42 cpu-clock: ")  # a short tid keeps "%5d"'s padding
    assert h is not None and (h.comm, h.tid, h.period) == ("w", 42, None)
    h = parse_header("my worker 1 4194303 cpu-clock: ")  # pid_max, a comm with blanks
    assert h is not None and (h.comm, h.tid, h.period) == ("my worker 1", 4194303, None)
    h = parse_header("kworker/0:1    42 cpu-clock: ")
    assert h is not None and (h.comm, h.tid, h.period) == ("kworker/0:1", 42, None)
    h = parse_header("w  4305/4305       1001001 cpu-clock: ")  # -F comm,pid,tid,period,event
    assert h is not None and (h.pid, h.tid, h.period) == (4305, 4305, 1001001)


def test_comm_tid_event_text_keeps_event_process_and_samples(tmp_path: Path) -> None:
    text = ("func_ab 15294 cpu-clock: \n"
            "\t          401136 func_b+0x10 (/tmp/a.out)\n"
            "\t          401156 main+0x10 (/tmp/a.out)\n"
            "\n"
            "func_ab 15294 cpu-clock: \n"
            "\t          401146 func_a+0x10 (/tmp/a.out)\n"
            "\t          401156 main+0x10 (/tmp/a.out)\n"
            "\n")
    d = read(text)
    assert d.unparsed == 0 and list(d.events) == ["cpu-clock"]
    assert sorted(samples_by_text(d)) == [
        ("cpu-clock", 15294, "func_ab", ((0x401136, "func_b", "/tmp/a.out"),
                                         (0x401156, "main", "/tmp/a.out"))),
        ("cpu-clock", 15294, "func_ab", ((0x401146, "func_a", "/tmp/a.out"),
                                         (0x401156, "main", "/tmp/a.out")))]
    (tmp_path / "t.txt").write_text(text)
    doc = report(tmp_path / "t.txt", "--elf-symbols", "never")
    assert doc["event"] == "cpu-clock" and doc["samples"] == 2
    assert doc["processes"] == [{"pid": 15294, "comm": "func_ab", "weight": 2, "samples": 2,
                                 "pct": 100.0}]
    assert doc["diagnostics"]["unparsed_lines"] == 0


# -- 2. callchain lines indented with blanks, or not at all ----------------------------------

@pytest.mark.parametrize("indent", ["    ", "        ", " ", "  ", "\t ", ""],
                         ids=["4", "8", "1", "2", "tab+1", "none"])
def test_frames_indented_any_way_read_like_tabs(indent: str) -> None:
    want = read(DEFAULT)
    text = "".join(indent + ln[1:].lstrip() if ln.startswith("\t") else ln
                   for ln in DEFAULT.splitlines(keepends=True))
    got = read(text)
    assert got.unparsed == 0 and got.empty_stacks == 0
    assert samples_by_text(got) == samples_by_text(want)
    assert sum(e.samples for e in got.events.values()) == 4


def test_spaces_indented_text_is_not_one_sample_per_frame(tmp_path: Path) -> None:
    # the third-party text that gave 34 samples for 2: each frame line was a sample
    text = ("prog 4305/4305 258.769073: 1001001 cpu-clock:\n"
            + "".join(f"    {0x11dd + i:x} f{i}+0x4 (/tmp/prog)\n" for i in range(16))
            + "\n"
            "prog 4305/4305 258.770073: 1001001 cpu-clock:\n"
            + "".join(f"    {0x11dd + i:x} f{i}+0x4 (/tmp/prog)\n" for i in range(16))
            + "\n")
    (tmp_path / "s.txt").write_text(text)
    doc = report(tmp_path / "s.txt", "--elf-symbols", "never", "--top", "0")
    assert doc["samples"] == 2
    r = rows(doc)
    assert r["f0"] == ("native", 2, 2) and r["f15"] == ("native", 0, 2)
    assert "[no stack]" not in r and doc["diagnostics"]["empty_stacks"] == 0


def test_is_frame_line() -> None:
    assert is_frame_line("\t    7f4547d9a53a determine_info+0x13a (inlined)")
    assert is_frame_line("    7f4547d9a53a determine_info+0x13a (inlined)")
    assert is_frame_line("7f4547d9a53a determine_info+0x13a (inlined)")
    assert is_frame_line("  970cb7 __schedule (/lib/modules/4.3.0-rc1-virtual/build/vmlinux)")
    assert is_frame_line("      4013f5")  # -F ip
    # srclines (-F +srcline) and headers are not frames
    assert not is_frame_line("  prog.cpp:14")
    assert not is_frame_line("  [kernel.kallsyms][ffffffff816a4345]")
    assert not is_frame_line("  ??:0")
    assert not is_frame_line("cafe 15294 cpu-clock: ")  # a comm that reads as hex
    assert not is_frame_line("             cc1 12345   416.164080: cpu-clock: ")
    assert not is_frame_line("4605 1001001")  # -F tid,period
    assert not is_frame_line("")


def test_srclines_after_blank_indented_frames() -> None:
    text = ("prog  4305   258.786796:    1001001 cpu-clock: \n"
            "            11dd HPHP::spin+0x44 (/tmp/demo/c/prog_pie)\n"
            "  prog.cpp:14\n"
            "            1213 c_func+0x9 (/tmp/demo/c/prog_pie)\n"
            "  prog.cpp:18\n"
            "\n")
    d = read(text)
    assert d.srclines == 2 and d.unparsed == 0
    assert [k[3] for k in samples_by_text(d)] == [
        ((0x11DD, "HPHP::spin", "/tmp/demo/c/prog_pie"),
         (0x1213, "c_func", "/tmp/demo/c/prog_pie"))]


def test_blank_indented_frames_after_an_empty_header_and_a_bare_header() -> None:
    # perf script -F ip,sym,dso: an empty header line; -F tid,ip,sym,dso: " 4605"; -F comm,...
    for head in ("", "4605", "prog"):
        text = "".join(f"{head}\n    12c4 HPHP::f_sort (/tmp/rec/prog)\n"
                       "    135e worker (/tmp/rec/prog)\n\n" for _ in range(3))
        d = read(text)
        (key, (n, _w)), = samples_by_text(d).items()
        assert n == 3 and len(key[3]) == 2, (head, key)
    # -F ip,sym,dso without callchains: one frame a sample, no blank lines at all
    d = read("    12c4 HPHP::f_sort (/tmp/rec/prog)\n    135e worker (/tmp/rec/prog)\n")
    assert sorted(len(k[3]) for k in samples_by_text(d)) == [1, 1]


# -- 3. addresses printed only as (inlined) lines ------------------------------------------

def test_inlined_only_address_keeps_its_time(tmp_path: Path) -> None:
    text = ("prog 100/100 1.0: 10 cpu-clock:\n"
            "\t    7f4547d9a53a determine_info+0x13a (inlined)\n"  # verbatim
            "\t    7f4547d9a53a __GI__dl_addr+0x13a (inlined)\n"  # verbatim
            "\t    7f4547d90000 caller+0x10 (/lib/x.so)\n"
            "\n"
            "prog 100/100 1.1: 10 cpu-clock:\n"
            "\t    7f4547d9a53a determine_info+0x13a (inlined)\n"
            "\t ffffffffffffffff [unknown] ([unknown])\n"  # verbatim
            "\n"
            "prog 100/100 1.2: 10 cpu-clock:\n"
            "\t    7f4547d9a53a determine_info+0x13a (inlined)\n"
            "\t    7f4547d9a53a _dl_addr+0x13a (/lib/libc.so.6)\n"
            "\t    7f4547d90000 caller+0x10 (/lib/x.so)\n"
            "\n")
    (tmp_path / "i.txt").write_text(text)
    doc = report(tmp_path / "i.txt", "--elf-symbols", "never", "--top", "0")
    r = rows(doc)
    # the outermost inlined name stands for the function holding the address
    assert r["__GI__dl_addr"] == ("native", 1, 1)
    assert r["determine_info"] == ("native", 1, 1)  # leaf of the second sample
    assert r["_dl_addr"] == ("native", 1, 1)  # a real line at that address: it counts
    assert r["caller"] == ("native", 0, 2)
    assert r["[unknown]"] == ("unknown", 0, 1)
    assert sum(f["self_samples"] for f in doc["functions"]) == doc["samples"] == 3
    assert doc["diagnostics"]["inlined_frames"] == 2  # the two lines left out


def test_collapse_inlined() -> None:
    from jitprof.parse import RawFrame

    fr = [RawFrame(1, "in1", "inlined"), RawFrame(1, "in2", "inlined"), RawFrame(1, "f", "/x"),
          RawFrame(2, "g", "/x"), RawFrame(3, "in3", "inlined")]
    inl = {0, 1, 4}
    assert collapse_inlined((0, 1, 2, 3), fr, inl) == (2, 3)
    assert collapse_inlined((0, 1, 3), fr, inl) == (1, 3)
    assert collapse_inlined((4, 3), fr, inl) == (4, 3)
    assert collapse_inlined((3, 4), fr, inl) == (3, 4)


# -- 4. another machine's recording and this machine's kallsyms / files --------------------

HERE = HostFacts("vm", "6.18.44-fc-v1147", "7d" * 20)
OTHER = RecordingFacts(hostname="buildbox", os_release="4.9.93-linuxkit-aufs")


def test_kernel_verdicts() -> None:
    v = kernel_verdict([OTHER], HERE, kallsyms_given=False)
    assert not v.trusted and "4.9.93" in v.reason
    assert kernel_verdict([OTHER], HERE, kallsyms_given=True).trusted  # --kallsyms wins
    same = RecordingFacts(hostname="vm", os_release="6.18.44-fc-v1147")
    assert kernel_verdict([same], HERE, kallsyms_given=False).trusted
    other_host = RecordingFacts(hostname="box2", os_release="6.18.44-fc-v1147")
    v = kernel_verdict([other_host], HERE, kallsyms_given=False)
    assert not v.trusted and "box2" in v.reason
    v = kernel_verdict([RecordingFacts(kernel_build_id="ab" * 20)], HERE, kallsyms_given=False)
    assert not v.trusted and "build-id" in v.reason
    assert kernel_verdict([RecordingFacts(kernel_build_id="7d" * 20)], HERE,
                          kallsyms_given=False).trusted
    # nothing known: not named (the text could be from anywhere)
    v = kernel_verdict([], HERE, kallsyms_given=False)
    assert not v.trusted and "does not say" in v.reason
    # the recorded kernel map at this kallsyms' _text: this boot
    assert kernel_verdict([], HERE, kallsyms_given=False, recorded_text={0xFFFFFFFF81000000},
                          local_text=0xFFFFFFFF81000000).trusted
    v = kernel_verdict([same], HERE, kallsyms_given=False, recorded_text={0xFFFFFFFF9A000000},
                       local_text=0xFFFFFFFF81000000)
    assert not v.trusted and "another boot" in v.reason


def test_file_verdicts() -> None:
    assert file_verdict([OTHER], HERE, explicit=True).trusted  # --symfs / --binary
    assert file_verdict([OTHER], HERE, explicit=False, recorded_build_id="01" * 20,
                        local_build_id="01" * 20).trusted
    assert not file_verdict([], HERE, explicit=False, recorded_build_id="01" * 20,
                            local_build_id="02" * 20).trusted
    v = file_verdict([OTHER], HERE, explicit=False)
    assert not v.trusted and "4.9.93" in v.reason
    assert file_verdict([], HERE, explicit=False).trusted  # this host, or not known


def test_running_kernel_build_id(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    bid = bytes(range(20))
    other = (4).to_bytes(4, "little") + (4).to_bytes(4, "little") + (6).to_bytes(4, "little")
    other += b"Xen\0" + b"\1\2\3\4"
    gnu = (4).to_bytes(4, "little") + (20).to_bytes(4, "little") + (3).to_bytes(4, "little")
    notes.write_bytes(other + gnu + b"GNU\0" + bid)
    assert kernel_build_id(str(notes)) == bid.hex()
    assert kernel_build_id(str(tmp_path / "none")) is None


def _two_kernel_functions() -> list[tuple[int, str]]:
    ks = read_kallsyms("/proc/kallsyms")
    if ks is None:
        skip_or_fail("/proc/kallsyms hides its addresses (kptr_restrict) or is unreadable")
        raise AssertionError
    i = len(ks.starts) // 3
    out: list[tuple[int, str]] = []
    while len(out) < 2:
        if ks.names[i] is not None and ks.starts[i + 1] - ks.starts[i] > 16:
            out.append((ks.starts[i], str(ks.names[i])))
        i += 1
    return out


def _kernel_text(header: str) -> str:
    (a, _), (b, _) = _two_kernel_functions()
    return (header
            + "prog 100/100 1.0: 10 cpu-clock:\n"
            f"\t{a + 4:x} [unknown] ([kernel.kallsyms])\n"
            f"\t{b + 5:x} [unknown] ([kernel.kallsyms])\n"
            "\t    401136 main+0x10 (/tmp/nonexistent/prog)\n\n")


def test_another_kernels_frames_are_not_named_from_this_one(tmp_path: Path) -> None:
    (a, name_a), (b, name_b) = _two_kernel_functions()
    other = ("# ========\n# hostname : buildbox\n"
             "# os release : 4.9.93-linuxkit-aufs\n# ========\n#\n")  # another kernel
    (tmp_path / "other.txt").write_text(_kernel_text(other))
    doc = report(tmp_path / "other.txt")
    assert name_a not in rows(doc) and name_b not in rows(doc)
    d = doc["diagnostics"]
    assert (d["kernel_frames"], d["kernel_frames_named"]) == (2, 0)
    w = [x for x in d["warnings"] if "kernel frame" in x]
    assert len(w) == 1 and "4.9.93-linuxkit-aufs" in w[0] and "--kallsyms FILE" in w[0]
    assert d["recorded_on"] == ["host buildbox, kernel 4.9.93-linuxkit-aufs"]
    assert d["perf_warnings"] == 0  # the header lines are facts, not messages
    # a text that says nothing of where it was made: not named either, said why
    (tmp_path / "plain.txt").write_text(_kernel_text(""))
    doc = report(tmp_path / "plain.txt")
    assert doc["diagnostics"]["kernel_frames_named"] == 0
    assert any("does not say" in x for x in doc["diagnostics"]["warnings"])
    # this host's header, or --kallsyms: named
    u = os.uname()
    here = f"# ========\n# hostname : {u.nodename}\n# os release : {u.release}\n# ========\n"
    (tmp_path / "here.txt").write_text(_kernel_text(here))
    assert {name_a, name_b} <= set(rows(report(tmp_path / "here.txt")))
    doc = report(tmp_path / "other.txt", "--kallsyms", "/proc/kallsyms")
    assert {name_a, name_b} <= set(rows(doc))
    assert doc["diagnostics"]["kernel_frames_named"] == 2


def test_kallsyms_markers_name_nothing(tmp_path: Path) -> None:
    k = tmp_path / "kallsyms"
    k.write_text("ffffffff81000000 T _stext\nffffffff81000000 T startup_64\n"
                 "ffffffff81000100 T last_fn\nffffffff81000200 T _etext\n"
                 "ffffffff82000000 T _sinittext\nffffffff82000010 T init_fn\n"
                 "ffffffff82000100 T _einittext\n")
    ks = read_kallsyms(str(k))
    assert isinstance(ks, Kallsyms)
    assert ks.lookup(0xFFFFFFFF81000010) == "startup_64"  # the function, not the marker
    assert ks.lookup(0xFFFFFFFF81000150) == "last_fn"
    assert ks.lookup(0xFFFFFFFF81000250) is None  # past _etext
    assert ks.lookup(0xFFFFFFFF82000020) == "init_fn"
    assert ks.lookup(0xFFFFFFFF82000150) is None  # past _einittext: never "_einittext"
    assert ks.lookup(0xFFFFFFFFC0001000) is None
    assert all(is_kallsyms_marker(n) for n in ("_einittext", "_etext", "__start_mcount_loc",
                                               "__irqentry_text_end", "_sinittext"))
    assert not any(is_kallsyms_marker(n) for n in ("startup_64", "_raw_spin_lock",
                                                   "__schedule", "_text_poke"))


def test_file_frames_of_another_host_are_not_named_from_local_files(tmp_path: Path) -> None:
    prog = Path(sys.executable).resolve()
    text = ("prog 100/100 1.0: 10 cpu-clock:\n"
            f"\t    1136 [unknown] ({prog})\n\n")
    (tmp_path / "here.txt").write_text(text)
    (tmp_path / "other.txt").write_text("# hostname : buildbox\n# os release : 4.9.93\n"
                                        + text)
    doc = report(tmp_path / "other.txt")
    assert any("kernel 4.9.93" in w and "--symfs" in w for w in doc["diagnostics"]["warnings"])
    assert doc["diagnostics"]["elf_frames_named"] == 0
    doc = report(tmp_path / "other.txt", "--binary", f"{prog}={prog}")
    assert not any("4.9.93" in w for w in doc["diagnostics"]["warnings"])
    doc = report(tmp_path / "here.txt")
    assert not any("4.9.93" in w for w in doc["diagnostics"]["warnings"])


# -- 5. kinds: vmlinux, perf inject --jit, non-canonical garbage ---------------------------

def test_kinds_of_vmlinux_jitted_and_garbage_frames(tmp_path: Path) -> None:
    text = ("app 7/7 1.0: 10 cpu-clock:\n"
            "\t          970cb7 __schedule (/lib/modules/4.3.0-rc1-virtual/build/vmlinux)\n"
            "\t              b6 JS:*fib /x.js:2:13+0x36 (/tmp/jitted-31714-1.so)\n"
            "\t    6d2f70756f726763 [unknown] ([unknown])\n\n"  # ASCII "m/puorgc"
            "app 7/7 1.1: 10 cpu-clock:\n"
            "\t              b6 JS:*fib /x.js:2:13+0x36 (/tmp/jitted-31714-1.so)\n"
            "\t    6d2f70756f726763 [unknown] ([unknown])\n\n")
    (tmp_path / "k.txt").write_text(text)
    doc = report(tmp_path / "k.txt", "--elf-symbols", "never")
    kinds = {f["name"]: f["kind"] for f in doc["functions"]}
    assert kinds == {"__schedule": "kernel", "JS:*fib /x.js:2:13": "JIT",
                     "[unknown]": "unknown"}
    d = doc["diagnostics"]
    assert (d["jit_samples"], d["jit_frames"]) == (0, 0)  # no JIT memory in this text
    assert not any("JIT" in w or "could not be mapped" in w for w in d["warnings"])


def test_no_jit_warnings_on_a_text_without_jit(tmp_path: Path) -> None:
    # a thread perf knew no process of, whose only unnamed frames are unwinder garbage
    text = ("prog 4242 1.0: 10 cpu-clock:\n"
            "\t    12c4 HPHP::f_sort+0x7c (/tmp/rec/prog)\n"
            "\t    7ffe0f0329d9 [unknown] ([unknown])\n"
            "\t    6d2f70756f726763 [unknown] ([unknown])\n\n")
    (tmp_path / "n.txt").write_text(text)
    doc = report(tmp_path / "n.txt", "--elf-symbols", "never")
    d = doc["diagnostics"]
    assert (d["jit_samples"], d["jit_frames"]) == (0, 0)
    assert d["warnings"] == []
    assert {f["dso"] for f in doc["functions"] if f["name"] == "[unknown]"} == {"[unknown]"}


def test_map_names_java_and_jvm_kinds() -> None:
    from jitprof.model.names import map_name_full

    assert map_name_full("long Hot.sortHeavy(int)") == (
        "Hot.sortHeavy", Kind.JAVA, "long Hot.sortHeavy(int)")
    assert map_name_full("void Hot.sortHeavy()")[:2] == ("Hot.sortHeavy", Kind.JAVA)  # verbatim
    for blob in ("Interpreter", "StubRoutines (1)", "I2C/C2I adapters", "SafepointBlob",
                 "new_instance Runtime1 stub", "resolve_static_call", "ic_miss_stub",
                 "_new_array_Java", "jni_fast_GetIntField", "MethodHandles adapters"):
        assert map_name_full(blob)[1] is Kind.JVM, blob
    for other in ("JS:*fib /x.js:1:1", "py::f:/x.py", "TRACE_1::@a.lua:1", "julia_f_12",
                  "instance bool [System.Private.CoreLib] dynamicClass::IL_STUB()"):
        assert map_name_full(other)[1] is Kind.JIT, other


# -- 6. perf script --header lines ---------------------------------------------------------

HEADER = (  # perf script --header, perf 6.1.187 (this machine)
    "# ========\n"
    "# captured on    : Thu Dec  3 15:13:03 2026\n"
    "# header version : 1\n"
    "# data offset    : 264\n"
    "# hostname : vm\n"
    "# os release : 6.18.44-fc-v1147\n"
    "# perf version : 6.1.187\n"
    "# arch : x86_64\n"
    "# cmdline : /usr/bin/perf record -q -F 999 -g -e cpu-clock -o g.data -- ./w 20000000 \n"
    "# event : name = cpu-clock, , id = { 435, 436 }, type = 1, size = 128\n"
    "# CPU_TOPOLOGY info available, use -I to display\n"
    "# time of first sample : 416.164080\n"
    "# sample duration :    751.906 ms\n"
    "# missing features: TRACING_DATA BRANCH_STACK GROUP_DESC AUXTRACE STAT CLOCKID \n"
    "# ========\n"
    "#\n")


def test_header_lines_are_facts_not_messages() -> None:
    d = read(HEADER + DEFAULT)
    assert (d.warnings, d.unparsed) == (0, 0)
    assert sum(e.samples for e in d.events.values()) == 4
    f = d.recordings["t.txt"]
    assert (f.hostname, f.os_release, f.perf_version, f.arch) == (
        "vm", "6.18.44-fc-v1147", "6.1.187", "x86_64")
    assert f.cmdline is not None and f.cmdline.startswith("/usr/bin/perf record")
    assert f.header_lines == HEADER.count("\n")
    assert f.extra["time of first sample"] == "416.164080"
    assert parse_header_comment("# hostname : vm") == ("hostname", "vm")
    assert parse_header_comment("# ========") is None
    assert parse_header_comment("#") is None
    assert is_header_comment("#\n") and is_header_comment("# ========")
    assert not is_header_comment("#comm 12 1.0: cpu-clock:")


# -- 7. not perf script text ---------------------------------------------------------------

def test_elf_binary_is_refused(tmp_path: Path) -> None:
    elf = Path(sys.executable).resolve()
    out = report(elf, code=1)["output"]
    assert out.count("\n") == 1 and f"{elf}: is an ELF file" in out
    gz = tmp_path / "x.gz"
    import gzip

    gz.write_bytes(gzip.compress(b"\0\1\2binary" * 100))
    assert "is a binary file" in report(gz, code=1)["output"]


def test_another_tools_format_is_refused(tmp_path: Path) -> None:
    # perf script headers, but frames in another tool's shape (collapsed stacks)
    text = "".join("w 11850   416.164080:    1001001 cpu-clock: \n"
                   "\tspin_a;main 12\n\tspin_b;main 7\n\n" for _ in range(10))
    (tmp_path / "o.txt").write_text(text)
    out = report(tmp_path / "o.txt", code=1)["output"]
    assert out.count("\n") == 1
    assert f"{tmp_path / 'o.txt'}:2: not perf script output: 20 of 40 lines" in out
    assert "'spin_a;main 12'" in out
    # perf report --stdio output given as input
    (tmp_path / "r.txt").write_text(
        "# Samples: 752  of event 'cpu-clock'\n# Overhead  Command  Shared Object  Symbol\n"
        "#\n    67.15%  w        w              [.] spin_b\n"
        "    32.58%  w        w              [.] spin_a\n")
    assert "not perf script output" in report(tmp_path / "r.txt", code=1)["output"]
    # a few junk lines in a good text are counted, not fatal
    (tmp_path / "g.txt").write_text("junk\n" + DEFAULT)
    assert report(tmp_path / "g.txt", "--elf-symbols", "never")["samples"] == 4


def test_lone_truncated_sample_is_refused_as_truncated(tmp_path: Path) -> None:
    text = ("w 11850   416.164080:    1001001 cpu-clock: \n"
            "\t            1153 spin_a+0x1a (/tmp/i13/rec/w)\n"
            "\t           2724a __libc_start_call_main+0x7a (/usr/lib/x86_64-linux-gnu/libc")
    (tmp_path / "t.txt").write_text(text)
    out = report(tmp_path / "t.txt", code=1)["output"]
    assert "looks truncated" in out and "--pid" not in out and out.count("\n") == 1
    assert unreadable_text(0, 0, 3, 1, 0, None) is not None
    assert unreadable_text(5, 0, 30, 1, 0, None) is None  # a long text's cut last sample


# -- 8. an explicit --map wins over one found beside the input -----------------------------

def test_explicit_map_wins_over_a_map_beside_the_input(tmp_path: Path) -> None:
    (tmp_path / "perf.script").write_text(
        "php 77/77 1.0: 10 cpu-clock:\n\t    7f0000001010 [unknown] (/tmp/perf-77.map)\n\n")
    (tmp_path / "perf-77.map").write_text("7f0000001000 100 PHP::found_beside\n")
    mine = tmp_path / "mine" / "app.map"
    mine.parent.mkdir()
    mine.write_text("7f0000001000 100 PHP::given_by_me\n")
    assert set(rows(report(tmp_path / "perf.script"))) == {"PHP::found_beside"}
    doc = report(tmp_path / "perf.script", "--map", str(mine))
    assert set(rows(doc)) == {"PHP::given_by_me"}
    assert [m["path"] for m in doc["diagnostics"]["maps"]] == [str(mine)]
    res = CliRunner().invoke(main, ["report", str(tmp_path / "perf.script"), "--no-tmp",
                                    "--map", str(mine)])
    assert f"# map {mine}: 1 lines" in res.output  # the header names the map used
    # a jitdump found beside the input does not win over --map either
    finder = MapFinder(maps=[str(mine)], search_tmp=False)
    assert finder.map_given(77) and finder.find_jitdump(77, [str(tmp_path)]) is None


# -- 9. machine formats hold every function ------------------------------------------------

def test_json_and_csv_hold_every_function(tmp_path: Path) -> None:
    text = "".join(f"p 1/1 1.{i}: 10 cpu-clock:\n\t    {0x1000 + i:x} fn{i} (/x)\n\n"
                   for i in range(45))
    (tmp_path / "f.txt").write_text(text)
    base = ["report", str(tmp_path / "f.txt"), "--no-tmp", "--elf-symbols", "never"]
    doc = json.loads(CliRunner().invoke(main, [*base, "--format", "json"]).output)
    assert len(doc["functions"]) == 45
    assert sum(f["self"] for f in doc["functions"]) == doc["weight"]
    csv = CliRunner().invoke(main, [*base, "--format", "csv"]).output
    assert csv.count("\n") == 46
    assert len(json.loads(CliRunner().invoke(main, [*base, "--format", "json", "--top", "5"]
                                             ).output)["functions"]) == 5
    table = CliRunner().invoke(main, base).output
    assert table.rstrip("\n").endswith("\u2026 15 more functions (--top 0 for all)")
    assert "more functions" not in CliRunner().invoke(main, [*base, "--top", "0"]).output


# -- 11. the README's test command on a machine without perf -------------------------------

def test_record_usage_errors_come_before_the_perf_check(tmp_path: Path) -> None:
    import subprocess

    from tests.test_record import ROOT

    (tmp_path / "b").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(tmp_path / "nobin")}
    r = subprocess.run([sys.executable, "-m", "jitprof", "record", "-p", str(os.getpid()),
                        "-o", str(tmp_path / "b")], capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 4 and "already exists: choose another -o DIR" in r.stderr
    r = subprocess.run([sys.executable, "-m", "jitprof", "record", "-p", str(os.getpid()),
                        "-o", str(tmp_path / "c")], capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 4 and "perf" in r.stderr  # then: perf is missing


def test_profile_rows_sum_to_samples_on_every_variant() -> None:
    for text in (DEFAULT, HEADER + DEFAULT, DEFAULT.replace("\t", "  ")):
        prof = build_profile(read(text), MapFinder(search_tmp=False))
        prof.verify()
        assert sum(s.self_samples for s in prof.function_stats()) == prof.samples == 4


def test_java_versions_and_full_names_survive_the_json_profile() -> None:
    from jitprof.inputs.profilefile import parse_profile_json, profile_json
    from jitprof.model import ProfileBuilder
    from jitprof.model.merge import merge_profiles
    from jitprof.symbols.intervals import Entry

    b = ProfileBuilder("cpu-clock")
    fib = b.frame("Hot.fib", Kind.JAVA, "[JIT]", "")
    b.full_name(fib, "long Hot.fib(int)")
    for e in (Entry(0x1000, 0x1100, 1, "long Hot.fib(int)"),
              Entry(0x2000, 0x2100, 2, "long Hot.fib(int)"), Entry(0x2000, 0x2100, 2,
                                                                  "long Hot.fib(int)")):
        b.version(fib, e)
    b.add((fib,), b.thread(1, "java"), 10)
    prof = b.finish()
    assert prof.versions == {fib: 2}
    back = parse_profile_json(profile_json(prof), "p.json")
    assert back.versions == {fib: 2} and back.full_names == {fib: ("long Hot.fib(int)",)}
    assert merge_profiles([back, back], "m").versions == {0: 2}


def test_headers_without_ip_of_a_hex_comm_are_not_frames() -> None:
    # -F comm,tid,time,event: right-aligned comms; gcc's "cc1" reads as a hex address
    text = ("             cc1 12345   416.164080: cpu-clock: \n"
            "             cc1 12345   416.165080: cpu-clock: \n")
    d = read(text)
    assert sum(e.samples for e in d.events.values()) == 2 and d.empty_stacks == 2
    assert d.frames == []


def test_a_junk_line_in_one_line_samples_is_counted_not_fatal(tmp_path: Path) -> None:
    # perf script -G: one line per sample, no blank lines; one stray line among them
    line = ("        prog_lld 14142   928.795963:    1001001 cpu-clock:      7f80821aec27 "
            "check_match+0x67 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n")
    (tmp_path / "g.txt").write_text(line * 50 + "some stray line\n" + line * 50)
    doc = report(tmp_path / "g.txt", "--elf-symbols", "never")
    assert doc["samples"] == 100 and doc["diagnostics"]["unparsed_lines"] == 1
    # every sample lost its one frame line: refused
    text = "".join("w 11850   416.164080:    1001001 cpu-clock: \n\tspin_a;main 12\n\n"
                   for _ in range(10))
    (tmp_path / "o.txt").write_text(text)
    assert "not perf script output" in report(tmp_path / "o.txt", code=1)["output"]


# -- 10. a captured jitdump is no missing map ------------------------------------------------

JITDUMP_ONLY = """
import os, sys, time
with open(f"jit-{os.getpid()}.dump", "wb") as d:  # like node --perf-prof: no perf map
    d.write(b"JiTD" + bytes(60))
    d.flush()
    end = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < end:
        sum(range(20000))
"""


def test_record_of_a_jit_writing_only_a_jitdump_has_no_missing_map_warning(
        tmp_path: Path) -> None:
    import subprocess

    from tests.conftest import require_tools
    from tests.test_record import ROOT, check_complete

    require_tools("perf")
    (tmp_path / "jit.py").write_text(JITDUMP_ONLY)
    out = tmp_path / "bundle"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "jitprof", "record", "-o", str(out), "--",
                        sys.executable, str(tmp_path / "jit.py"), "0.8"], capture_output=True,
                       text=True, timeout=120, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = check_complete(out)
    assert any("jitdump" in p for p in m["processes"]), m["processes"]
    assert not any("no perf map" in w for w in m["warnings"]), m["warnings"]
    assert "no perf map" not in r.stderr
