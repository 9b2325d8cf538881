"""script: the perf script text grammar (headers, callchains, side-band lines) and accounting.

Most inputs are verbatim perf 6.1.187 output. The recordings (in a scratch directory):
  prog.cpp   HPHP::f_sort (pushes onto a std::vector) -> HPHP::(anonymous namespace)::
             anon_helper, run by main and by a thread named "my worker 1"
  g.data     perf record -F 999 -g -e cpu-clock -o g.data -- ./prog 0.5      (PIE)
  nog.data   perf record -F 999 -e cpu-clock -o nog.data -- ./prog 0.3       (no -g)
  nopie.data perf record -F 999 -e cpu-clock -o nopie.data -- ./prog_nopie 0.3 (-no-pie)
  a.data     perf record -a -F 999 -g -e cpu-clock -o a.data -- ./prog 0.2
  ppp.data   perf record -F 999 -g -e cpu-clock:ppp -o ppp.data -- ./prog 0.1
  ev2.data   perf record -g -e cpu-clock/period=1000000/ -e page-faults -o ev2.data -- ./prog 0.1
  tp.data    perf record -g -e sched:sched_switch -o tp.data -- ./prog 0.1
  del.data   perf record -F 999 -g -e cpu-clock -p PID (prog_del deleted while running)
  node.data  perf record -F 999 -g -e cpu-clock -o node.data -- node --perf-basic-prof work.js
  vec.data   perf record -F 999 -g -e cpu-clock -o vec.data -- ./vec   (g++ -O0, push_back)
Each constant names the `perf script` options that printed it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from pathlib import Path

import pytest

from jitprof.errors import EmptyInputError, InputError
from jitprof.parse import (
    MAX_KEPT_DIAGNOSTICS,
    Mmap,
    RawFrame,
    ScriptData,
    ScriptReader,
    parse_frame_text,
    parse_header,
    read_scripts,
)

LD = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
PROG = "/tmp/rec/prog"
K = "[kernel.kallsyms]"

# perf script -i g.data (three samples of the main thread, one of "my worker 1")
DEFAULT = (
    "prog 10349   774.784255:    1001001 cpu-clock: \n"
    "\t            99b4 _dl_lookup_symbol_x+0x44 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    "\t    7f95e687a758 [unknown] ([unknown])\n"
    "\t          211f68 [unknown] ([unknown])\n"
    "\n"
    "prog 10349   774.787276:    1001001 cpu-clock: \n"
    "\t            12c4 HPHP::f_sort+0x7c (/tmp/rec/prog)\n"
    "\t            135e worker+0x59 (/tmp/rec/prog)\n"
    "\t            1412 main+0x6e (/tmp/rec/prog)\n"
    "\t           2724a __libc_start_call_main+0x7a (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\n"
    "my worker 1 10351   774.790278:    1001001 cpu-clock: \n"
    "\t            12c4 HPHP::f_sort+0x7c (/tmp/rec/prog)\n"
    "\t            135e worker+0x59 (/tmp/rec/prog)\n"
    "\t           891f5 start_thread+0x305 (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\n"
    "prog 10349   774.794279:    1001001 cpu-clock: \n"
    "\t            12c4 HPHP::f_sort+0x7c (/tmp/rec/prog)\n"
    "\t            135e worker+0x59 (/tmp/rec/prog)\n"
    "\t            1412 main+0x6e (/tmp/rec/prog)\n"
    "\t           2724a __libc_start_call_main+0x7a (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\n"
)
LD_STACK = ((0x99B4, "_dl_lookup_symbol_x", LD), (0x7F95E687A758, "[unknown]", "[unknown]"),
            (0x211F68, "[unknown]", "[unknown]"))
MAIN_STACK = ((0x12C4, "HPHP::f_sort", PROG), (0x135E, "worker", PROG), (0x1412, "main", PROG),
              (0x2724A, "__libc_start_call_main", LIBC))
WORKER_STACK = ((0x12C4, "HPHP::f_sort", PROG), (0x135E, "worker", PROG),
                (0x891F5, "start_thread", LIBC))
DEFAULT_SAMPLES = {
    (10349, "prog", LD_STACK): [1, 1001001],
    (10349, "prog", MAIN_STACK): [2, 2002002],
    (10351, "my worker 1", WORKER_STACK): [1, 1001001],
}

# perf script -i g.data -G (no callchain: ip sym (dso) on the header line, no blank lines)
HIDE_CALLCHAIN = (
    "            prog 10349   774.784255:    1001001 cpu-clock:      7f95e6b8f9b4 "
    "_dl_lookup_symbol_x+0x44 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    "            prog 10349   774.785271:    1001001 cpu-clock:  ffffffff81650990 "
    "kmem_cache_alloc_noprof+0x360 ([kernel.kallsyms])\n"
    "            prog 10349   774.786272:    1001001 cpu-clock:      5622227371f3 "
    "HPHP::(anonymous namespace)::anon_helper+0x1a (/tmp/rec/prog)\n"
    "            prog 10349   774.787276:    1001001 cpu-clock:      5622227372c4 "
    "HPHP::f_sort+0x7c (/tmp/rec/prog)\n"
    "     my worker 1 10351   774.790278:    1001001 cpu-clock:      5622227372c4 "
    "HPHP::f_sort+0x7c (/tmp/rec/prog)\n"
    "            prog 10349   774.794279:    1001001 cpu-clock:      5622227372c4 "
    "HPHP::f_sort+0x7c (/tmp/rec/prog)\n"
)

# perf script -i g.data -F ip,sym,dso (no header field: the header line is empty)
NO_HEADER_FIELDS = (
    "\n"
    "\t            99b4 _dl_lookup_symbol_x (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    "\t    7f95e687a758 [unknown] ([unknown])\n"
    "\t          211f68 [unknown] ([unknown])\n"
    "\n"
    "\n"
    "\tffffffff81650990 kmem_cache_alloc_noprof ([kernel.kallsyms])\n"
    "\tffffffff8161b960 __anon_vma_prepare ([kernel.kallsyms])\n"
    "\n"
)

# perf script -i g.data -F ip,sym,dso -G (each sample is one line starting with blanks)
NO_HEADER_FIELDS_ONE_LINE = (
    "     7f95e6b8f9b4 _dl_lookup_symbol_x (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    " ffffffff81650990 kmem_cache_alloc_noprof ([kernel.kallsyms])\n"
    "     5622227371f3 HPHP::(anonymous namespace)::anon_helper (/tmp/rec/prog)\n"
    "     5622227371f3 HPHP::(anonymous namespace)::anon_helper (/tmp/rec/prog)\n"
)

# perf script -i g.data -F pid,tid,ip,sym (no time, no event; a callchain without dsos)
PID_TID_ONLY = (
    "10349/10349 \n"
    "\t            99b4 _dl_lookup_symbol_x\n"
    "\t    7f95e687a758 [unknown]\n"
    "\t          211f68 [unknown]\n"
    "\n"
    "10351/10351 \n"
    "\t            12c4 HPHP::f_sort\n"
    "\n"
)

# perf script -i g.data -F pid,tid,ip,sym -G
PID_TID_ONLY_ONE_LINE = (
    "10349/10349      7f95e6b8f9b4 _dl_lookup_symbol_x\n"
    "10349/10349  ffffffff81650990 kmem_cache_alloc_noprof\n"
)

# perf script -i g.data -F +srcline (srcline lines: two leading blanks, after each frame)
SRCLINE = (
    "prog 10349   774.787276:    1001001 cpu-clock: \n"
    "\t            12c4 HPHP::f_sort+0x7c (/tmp/rec/prog)\n"
    "  prog.cpp:12\n"
    "\t            135e worker+0x59 (/tmp/rec/prog)\n"
    "  prog.cpp:19\n"
    "\t            1412 main+0x6e (/tmp/rec/prog)\n"
    "  prog.cpp:26\n"
    "\t           2724a __libc_start_call_main+0x7a (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "  libc-start.c:74\n"
    "\n"
)

# perf script -i nog.data -F +srcline (no callchain: the srcline follows the header line)
SRCLINE_ONE_LINE = (
    "            prog 10354   775.953870:    1001001 cpu-clock:  ffffffff816a4345 "
    "memcg1_commit_charge+0x5 ([kernel.kallsyms])\n"
    "  [kernel.kallsyms][ffffffff816a4345]\n"
    "            prog 10354   775.954868:    1001001 cpu-clock:  ffffffff8224a7cc "
    "number+0xc ([kernel.kallsyms])\n"
    "  [kernel.kallsyms][ffffffff8224a7cc]\n"
)

# perf script -i g.data -F ip,sym,dso,srcline -G
SRCLINE_NO_HEADER_FIELDS = (
    "     7f95e6b8f9b4 _dl_lookup_symbol_x (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    "  dl-new-hash.h:81\n"
    " ffffffff81650990 kmem_cache_alloc_noprof ([kernel.kallsyms])\n"
    "  [kernel.kallsyms][ffffffff81650990]\n"
)

# perf script -i g.data --show-mmap-events --show-task-events (first lines, one sample, and
# the thread's fork/comm records)
SIDE_BAND = (
    "swapper     0     0.000000: PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1276f48) @ "
    "0xffffffff81000000]: x [kernel.kallsyms]_text\n"
    "perf-exec     0     0.000000: PERF_RECORD_COMM: perf-exec:10349/10349\n"
    "prog 10349   774.783257: PERF_RECORD_COMM exec: prog:10349/10349\n"
    "prog 10349   774.783307: PERF_RECORD_MMAP2 10349/10349: [0x562222737000(0x1000) @ 0x1000 "
    "fe:00 2146371 1679822234]: r-xp /tmp/rec/prog\n"
    "prog 10349   774.783359: PERF_RECORD_MMAP2 10349/10349: [0x7f95e6b84000(0x2000) @ 0 "
    "00:00 0 0]: r-xp [vdso]\n"
    "prog 10349   774.783723: PERF_RECORD_MMAP2 10349/10349: [0x7f95e6644000(0x156000) @ "
    "0x26000 fe:00 339380 0]: r-xp /usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "prog 10349   774.784255:    1001001 cpu-clock: \n"
    "\t            99b4 _dl_lookup_symbol_x+0x44 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    "\t    7f95e687a758 [unknown] ([unknown])\n"
    "\t          211f68 [unknown] ([unknown])\n"
    "\n"
    "prog 10349   774.785377: PERF_RECORD_FORK(10349:10351):(10349:10349)\n"
    "my worker 1 10349   774.785445: PERF_RECORD_COMM: my worker 1:10349/10351\n"
    "my worker 1 10351   775.285393: PERF_RECORD_EXIT(10349:10351):(10347:10347)\n"
)


def digest(d: ScriptData) -> object:
    """Everything a reader produced, with frame ids replaced by the frames themselves."""
    events = {
        name: (e.samples, e.weight, e.has_period, e.time_first, e.time_last,
               sorted((tid, comm, tuple(repr(d.frames[f]) for f in stack), acc[0], acc[1])
                      for (tid, comm, stack), acc in e.stacks.items()))
        for name, e in d.events.items()
    }
    return (list(d.events), events, d.tid_pid, d.mmaps, d.lines, d.srclines, d.unparsed,
            d.warnings, d.truncated, d.empty_stacks, [str(x) for x in d.diagnostics])


def read(text: str, path: str = "perf.txt", reader: ScriptReader | None = None) -> ScriptData:
    """Read with the line reader; the block reader (files) must produce the same."""
    if reader is not None:
        reader.read_lines(io.StringIO(text), path)
        return reader.data
    by_lines = ScriptReader()
    by_lines.read_lines(io.StringIO(text), path)
    for chunk in (5, 1 << 22):
        by_blocks = ScriptReader()
        by_blocks.read_text(io.StringIO(text), path, chunk=chunk)
        assert digest(by_blocks.data) == digest(by_lines.data), chunk
    return by_lines.data


Stack = tuple[tuple[int, str, str], ...]


def samples(d: ScriptData, event: str) -> dict[tuple[int, str, Stack], list[int]]:
    """An event's stacks with frames spelled out: (tid, comm, frames) -> [samples, weight]."""
    out = {}
    for (tid, comm, stack), acc in d.events[event].stacks.items():
        frames = tuple((d.frames[i].addr, d.frames[i].sym, d.frames[i].dso) for i in stack)
        out[(tid, comm, frames)] = acc
    return out


def header(line: str) -> tuple[object, ...] | None:
    h = parse_header(line)
    if h is None:
        return None
    return (h.comm, h.pid, h.tid, h.time, h.period, h.event, h.rest)


# --- parse_header ------------------------------------------------------------------------

DL = "_dl_lookup_symbol_x+0x44 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)"


@pytest.mark.parametrize(
    ("line", "want"),
    [
        # default fields: comm tid time: period event: (trailing blank)
        pytest.param("prog 10349   774.787276:    1001001 cpu-clock: ",
                     ("prog", None, 10349, 774.787276, 1001001, "cpu-clock", ""), id="default"),
        pytest.param("my worker 1 10351   774.790278:    1001001 cpu-clock: ",
                     ("my worker 1", None, 10351, 774.790278, 1001001, "cpu-clock", ""),
                     id="comm-with-spaces"),
        pytest.param("my worker 1  9577   540.389649:    2004008 cpu-clock: ",
                     ("my worker 1", None, 9577, 540.389649, 2004008, "cpu-clock", ""),
                     id="comm-with-spaces-ref"),
        # perf script -i sys.data (perf record -a): a kernel-made comm with a colon
        pytest.param("memfd:sealed-91  9003 [001]   946.225366:     333444 cpu-clock: ",
                     ("memfd:sealed-91", None, 9003, 946.225366, 333444, "cpu-clock", ""),
                     id="comm-with-colon-and-cpu"),
        # perf script -i a.data
        pytest.param("prog 10915 [000]   800.688149:    1001001 cpu-clock: ",
                     ("prog", None, 10915, 800.688149, 1001001, "cpu-clock", ""), id="cpu"),
        # -F comm,pid,tid,time,period,event,ip,sym,dso
        pytest.param("my worker 1 10349/10351   774.790278:    1001001 cpu-clock: ",
                     ("my worker 1", 10349, 10351, 774.790278, 1001001, "cpu-clock", ""),
                     id="pid-tid"),
        pytest.param("     my worker 1  9560/9577    540.389649:    2004008 cpu-clock: ",
                     ("my worker 1", 9560, 9577, 540.389649, 2004008, "cpu-clock", ""),
                     id="pid-tid-right-aligned"),
        # -F comm,tid,time,event,ip,sym,dso --ns
        pytest.param("my worker 1 10351   774.790278220: cpu-clock: ",
                     ("my worker 1", None, 10351, 774.790278220, None, "cpu-clock", ""),
                     id="ns-no-period"),
        # perf script -i ppp.data
        pytest.param("prog 10951   808.094903:    1001001 cpu-clock:ppp: ",
                     ("prog", None, 10951, 808.094903, 1001001, "cpu-clock:ppp", ""),
                     id="event-modifier"),
        # perf script -i ev2.data (event names right-aligned to the longest)
        pytest.param("prog 10958   809.408988:    1000000 cpu-clock/period=1000000/: ",
                     ("prog", None, 10958, 809.408988, 1000000, "cpu-clock/period=1000000/",
                      ""), id="event-with-terms"),
        pytest.param("prog 10958   809.408049:          1               page-faults: ",
                     ("prog", None, 10958, 809.408049, 1, "page-faults", ""),
                     id="event-right-aligned"),
        # perf script -i tp.data: tracepoint name with a colon, payload after it
        pytest.param(
            "prog 10969 [000]   810.769029: sched:sched_switch: prev_comm=prog prev_pid=10969 "
            "prev_prio=120 prev_state=R ==> next_comm=rcu_preempt next_pid=15 next_prio=120",
            ("prog", None, 10969, 810.769029, None, "sched:sched_switch",
             "prev_comm=prog prev_pid=10969 prev_prio=120 prev_state=R ==> "
             "next_comm=rcu_preempt next_pid=15 next_prio=120"), id="tracepoint"),
        # perf-formats.md 4.1 (perf 6.1, prog_nopie): an event with terms, ip on the line
        pytest.param(
            "      prog_nopie 14747  1026.854024:          1     page-faults/period=1/:  "
            "ffffffff8175336a elf_load+0x28a ([kernel.kallsyms])",
            ("prog_nopie", None, 14747, 1026.854024, 1, "page-faults/period=1/",
             "ffffffff8175336a elf_load+0x28a ([kernel.kallsyms])"), id="ref-page-faults"),
        # perf script -i g.data -G
        pytest.param("            prog 10349   774.784255:    1001001 cpu-clock:      "
                     "7f95e6b8f9b4 " + DL,
                     ("prog", None, 10349, 774.784255, 1001001, "cpu-clock",
                      "7f95e6b8f9b4 " + DL), id="hide-callchain"),
        # perf script -i nopie.data: a decimal-only ip after the period
        pytest.param("     my worker 1 16777  1111.896010:    1001001 cpu-clock:            "
                     "401283 HPHP::f_sort+0x3e (/tmp/rec/prog_nopie)",
                     ("my worker 1", None, 16777, 1111.896010, 1001001, "cpu-clock",
                      "401283 HPHP::f_sort+0x3e (/tmp/rec/prog_nopie)"), id="decimal-ip"),
        # -F comm,tid,time,ip,sym: a decimal-only ip is not a period
        pytest.param("     my worker 1 16777  1111.896010:            401283 HPHP::f_sort",
                     ("my worker 1", None, 16777, 1111.896010, None, "",
                      "401283 HPHP::f_sort"), id="decimal-ip-no-period"),
        # -F comm,tid,time,ip
        pytest.param("     my worker 1 16777  1111.896010:            401283",
                     ("my worker 1", None, 16777, 1111.896010, None, "", "401283"),
                     id="decimal-ip-alone"),
        # -F comm,tid,time,period
        pytest.param("      prog_nopie 16775  1111.880895:    1001001 ",
                     ("prog_nopie", None, 16775, 1111.880895, 1001001, "", ""),
                     id="period-alone"),
        # -F comm,tid,time,period,ip
        pytest.param("     my worker 1 16777  1111.896010:    1001001            401283",
                     ("my worker 1", None, 16777, 1111.896010, 1001001, "", "401283"),
                     id="period-then-decimal-ip"),
        pytest.param("     my worker 1 16777  1111.885960:    1001001            4012c1",
                     ("my worker 1", None, 16777, 1111.885960, 1001001, "", "4012c1"),
                     id="period-then-hex-ip"),
        # -F comm,tid,time,ip,sym -g: the header ends after the time
        pytest.param("prog 10349   774.784255: ",
                     ("prog", None, 10349, 774.784255, None, "", ""), id="no-event"),
        # -F time,ip,sym
        pytest.param("   774.784255: ", ("", None, None, 774.784255, None, "", ""),
                     id="time-only"),
        # -F event,ip,sym
        pytest.param("cpu-clock: ", ("", None, None, None, None, "cpu-clock", ""),
                     id="event-only"),
        # -F pid,tid,ip,sym (-g and -G)
        pytest.param("10349/10349 ", ("", 10349, 10349, None, None, "", ""), id="pid-tid-only"),
        pytest.param(" 4305/4305  ", ("", 4305, 4305, None, None, "", ""),
                     id="pid-tid-only-ref"),
        pytest.param("10349/10349      7f95e6b8f9b4 _dl_lookup_symbol_x",
                     ("", 10349, 10349, None, None, "", "7f95e6b8f9b4 _dl_lookup_symbol_x"),
                     id="pid-tid-only-with-ip"),
        # --show-mmap-events: the kernel's pid/tid -1/0 form is in the side-band part
        pytest.param("swapper     0     0.000000:    1001001 cpu-clock: ",
                     ("swapper", None, 0, 0.0, 1001001, "cpu-clock", ""), id="tid-0"),
    ],
)
def test_parse_header(line: str, want: tuple[object, ...]) -> None:
    assert header(line) == want


@pytest.mark.parametrize(
    "line",
    [
        "",
        "hello world",
        "comm 123: something",  # a pid where an event should be
        "Warning:",
        "Error:",
        "error: perf.data: no such file",
        "# ========",
        "# captured on    : Fri Nov 27 05:24:37 2026",
        "Processed 1234 events and lost 2 chunks!",
        "Samples for 'cpu-clock' event do not have CPU attribute set. Cannot print 'cpu' field.",
        "  prog.cpp:12",
    ],
)
def test_parse_header_rejects(line: str) -> None:
    assert parse_header(line) is None


# --- parse_frame_text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # perf script -i g.data
        ("\t            12c4 HPHP::f_sort+0x7c (/tmp/rec/prog)\n",
         (0x12C4, "HPHP::f_sort", PROG)),
        ("\t            11f3 HPHP::(anonymous namespace)::anon_helper+0x1a (/tmp/rec/prog)\n",
         (0x11F3, "HPHP::(anonymous namespace)::anon_helper", PROG)),
        ("\t    7f95e687a758 [unknown] ([unknown])\n",
         (0x7F95E687A758, "[unknown]", "[unknown]")),
        ("\tffffffff81650990 kmem_cache_alloc_noprof+0x360 ([kernel.kallsyms])\n",
         (0xFFFFFFFF81650990, "kmem_cache_alloc_noprof", K)),
        ("\t           89d6c pthread_create@GLIBC_2.2.5+0x9ec "
         "(/usr/lib/x86_64-linux-gnu/libc.so.6)\n",
         (0x89D6C, "pthread_create@GLIBC_2.2.5", LIBC)),
        # perf script -i node.data
        ("\t           8f0cf pthread_rwlock_unlock@@GLIBC_2.34+0x3f "
         "(/usr/lib/x86_64-linux-gnu/libc.so.6)\n",
         (0x8F0CF, "pthread_rwlock_unlock@@GLIBC_2.34", LIBC)),
        ("\t    7fc0bf7c619d JS:*fib /tmp/rec/work.js:1:13+0x1d (/tmp/perf-12693.map)\n",
         (0x7FC0BF7C619D, "JS:*fib /tmp/rec/work.js:1:13", "/tmp/perf-12693.map")),
        ("\t          c494db v8::internal::(anonymous namespace)::Invoke+0x12b (/usr/bin/node)\n",
         (0xC494DB, "v8::internal::(anonymous namespace)::Invoke", "/usr/bin/node")),
        # perf script -i vec.data
        ("\t            1486 std::vector<double, std::allocator<double> >::push_back+0x2e "
         "(/tmp/rec/vec)\n",
         (0x1486, "std::vector<double, std::allocator<double> >::push_back", "/tmp/rec/vec")),
        ("\t            1b44 __gnu_cxx::__normal_iterator<double*, std::vector<double, "
         "std::allocator<double> > >::operator-+0x3c (/tmp/rec/vec)\n",
         (0x1B44, "__gnu_cxx::__normal_iterator<double*, std::vector<double, "
          "std::allocator<double> > >::operator-", "/tmp/rec/vec")),
        # perf script -i del.data: the dso has its own parentheses
        ("\t            12c8 [unknown] (/tmp/rec/prog_del (deleted))\n",
         (0x12C8, "[unknown]", "/tmp/rec/prog_del (deleted)")),
        # perf-formats.md 4.2 (perf 6.1, node)
        ("\t           8c373 pthread_mutex_lock@@GLIBC_2.2.5+0x3 "
         "(/usr/lib/x86_64-linux-gnu/libc.so.6)\n",
         (0x8C373, "pthread_mutex_lock@@GLIBC_2.2.5", LIBC)),
        ("\t          934dbe non-virtual thunk to node::PerIsolatePlatformData::"
         "PostNonNestableTask(std::unique_ptr<v8::Task, std::default_delete<v8::Task> >)+0x4e "
         "(/usr/bin/node)\n",
         (0x934DBE, "non-virtual thunk to node::PerIsolatePlatformData::PostNonNestableTask"
          "(std::unique_ptr<v8::Task, std::default_delete<v8::Task> >)", "/usr/bin/node")),
        ("\t    7f5251fc6db7 JS:* /tmp/demo/node/work.js:9:14+0x177 (/tmp/perf-8598.map)\n",
         (0x7F5251FC6DB7, "JS:* /tmp/demo/node/work.js:9:14", "/tmp/perf-8598.map")),
        ("\t             15c JS:~initializeGlobalConsole node:internal/console/constructor:689:33"
         "+0xdc (/tmp/demo/node/jd/jitted-10888-2195.so)\n",
         (0x15C, "JS:~initializeGlobalConsole node:internal/console/constructor:689:33",
          "/tmp/demo/node/jd/jitted-10888-2195.so")),
        # perf-formats.md 4.6: perf script -v keeps parameter lists
        ("\t            1260 HPHP::f_sort(std::vector<double, std::allocator<double> >&)+0x4b "
         "(/tmp/demo/c/prog_pie)\n",
         (0x1260, "HPHP::f_sort(std::vector<double, std::allocator<double> >&)",
          "/tmp/demo/c/prog_pie")),
        # -F ip,sym,dso (no symoff)
        ("\t            99b4 _dl_lookup_symbol_x (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)",
         (0x99B4, "_dl_lookup_symbol_x", LD)),
        # -F ip,sym (no dso); a name ending in a parameter list is not a dso
        ("\t            99b4 _dl_lookup_symbol_x\n", (0x99B4, "_dl_lookup_symbol_x", "")),
        ("\t            1260 HPHP::f(int)\n", (0x1260, "HPHP::f(int)", "")),
        # -F ip
        ("\t            99b4\n", (0x99B4, "", "")),
        # the ip sym (dso) part of a -G header line
        ("7f95e6b8f9b4 " + DL, (0x7F95E6B8F9B4, "_dl_lookup_symbol_x", LD)),
        # a dso path with a blank and parentheses
        ("\t  1000 f+0x1 (/opt/my app (v2)/lib.so)", (0x1000, "f", "/opt/my app (v2)/lib.so")),
        # only one trailing +0x offset is removed
        ("\t  1000 f+0x1+0x2 (/x)", (0x1000, "f+0x1", "/x")),
        # "+0x" inside the name stays
        ("\t  1000 a+0x1b c+0x2 (/x)", (0x1000, "a+0x1b c", "/x")),
    ],
)
def test_parse_frame_text(text: str, want: tuple[int, str, str]) -> None:
    assert parse_frame_text(text) == RawFrame(*want)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\t",
        "zz f (x)",
        "-10 f (x)",
        "+10 f (x)",
        "1_0 f (x)",
        "  prog.cpp:12",
        "  [kernel.kallsyms][ffffffff81650990]",
        "prev_comm=prog prev_pid=10969",
    ],
)
def test_parse_frame_text_rejects(text: str) -> None:
    assert parse_frame_text(text) is None


# --- samples: the default format -----------------------------------------------------------


def test_default_format_samples() -> None:
    d = read(DEFAULT)
    assert list(d.events) == ["cpu-clock"]
    assert samples(d, "cpu-clock") == DEFAULT_SAMPLES
    ev = d.events["cpu-clock"]
    assert (ev.samples, ev.weight, ev.has_period) == (4, 4004004, True)
    assert (ev.time_first, ev.time_last) == (774.784255, 774.794279)
    assert (d.lines, d.unparsed, d.warnings, d.truncated, d.empty_stacks, d.srclines) == (
        22, 0, 0, 0, 0, 0)
    assert d.diagnostics == []
    assert d.inputs == ["perf.txt"]


def test_identical_frame_lines_interned_once() -> None:
    d = read(DEFAULT)
    # 3 + 4 + 2 new (start_thread; worker and f_sort shared) frames; the 4th sample adds none
    assert len(d.frames) == 3 + 4 + 1
    assert len({(f.addr, f.sym, f.dso) for f in d.frames}) == len(d.frames)


def test_same_stack_in_another_thread_is_another_key() -> None:
    text = DEFAULT.replace("prog 10349   774.794279", "prog 10350   774.794279")
    got = samples(read(text), "cpu-clock")
    assert got[(10349, "prog", MAIN_STACK)] == [1, 1001001]
    assert got[(10350, "prog", MAIN_STACK)] == [1, 1001001]


def test_same_stack_other_comm_is_another_key() -> None:
    text = DEFAULT.replace("prog 10349   774.794279", "renamed 10349   774.794279")
    got = samples(read(text), "cpu-clock")
    assert got[(10349, "prog", MAIN_STACK)] == [1, 1001001]
    assert got[(10349, "renamed", MAIN_STACK)] == [1, 1001001]


def test_weights_sum_periods_per_stack() -> None:
    text = DEFAULT.replace("774.794279:    1001001", "774.794279:         17")
    d = read(text)
    assert samples(d, "cpu-clock")[(10349, "prog", MAIN_STACK)] == [2, 1001018]
    assert d.events["cpu-clock"].weight == 3 * 1001001 + 17


def test_weight_is_one_per_sample_without_period() -> None:
    # perf script -i g.data -F comm,tid,time,event,ip,sym,dso --ns
    text = (
        "my worker 1 10351   774.790278220: cpu-clock: \n"
        "\t            12c4 HPHP::f_sort (/tmp/rec/prog)\n"
        "\t            135e worker (/tmp/rec/prog)\n"
        "\t           891f5 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
        "\n"
        "my worker 1 10351   774.791278221: cpu-clock: \n"
        "\t            12c4 HPHP::f_sort (/tmp/rec/prog)\n"
        "\t            135e worker (/tmp/rec/prog)\n"
        "\t           891f5 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
        "\n"
    )
    d = read(text)
    assert samples(d, "cpu-clock") == {(10351, "my worker 1", WORKER_STACK): [2, 2]}
    ev = d.events["cpu-clock"]
    assert (ev.samples, ev.weight, ev.has_period) == (2, 2, False)
    assert (ev.time_first, ev.time_last) == (774.790278220, 774.791278221)


def test_pid_tid_fill_tid_pid() -> None:
    # perf script -i g.data -F comm,pid,tid,time,period,event,ip,sym,dso
    text = (
        "my worker 1 10349/10351   774.790278:    1001001 cpu-clock: \n"
        "\t            12c4 HPHP::f_sort (/tmp/rec/prog)\n"
        "\t            135e worker (/tmp/rec/prog)\n"
        "\t           891f5 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
        "\n"
    )
    d = read(text)
    assert d.tid_pid == {10351: 10349}
    assert samples(d, "cpu-clock") == {(10351, "my worker 1", WORKER_STACK): [1, 1001001]}


def test_tid_only_header_does_not_fill_tid_pid() -> None:
    assert read(DEFAULT).tid_pid == {}


def test_cpu_column() -> None:
    # perf script -i a.data
    text = (
        "prog 10915 [000]   800.688149:    1001001 cpu-clock: \n"
        "\tffffffff822601e7 exc_page_fault+0xd7 ([kernel.kallsyms])\n"
        "\tffffffff81000c82 asm_exc_page_fault+0x22 ([kernel.kallsyms])\n"
        "\t            dda7 _dl_relocate_object+0x187 "
        "(/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
        "\n"
    )
    assert samples(read(text), "cpu-clock") == {
        (10915, "prog", ((0xFFFFFFFF822601E7, "exc_page_fault", K),
                         (0xFFFFFFFF81000C82, "asm_exc_page_fault", K),
                         (0xDDA7, "_dl_relocate_object", LD))): [1, 1001001]}


def test_event_modifier() -> None:
    # perf script -i ppp.data
    text = (
        "prog 10951   808.094903:    1001001 cpu-clock:ppp: \n"
        "\t            90c0 do_lookup_x+0x360 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
        "\n"
    )
    d = read(text)
    assert samples(d, "cpu-clock:ppp") == {
        (10951, "prog", ((0x90C0, "do_lookup_x", LD),)): [1, 1001001]}


# perf script -i ev2.data: two events, names right-aligned to the longest one
TWO_EVENTS = (
    "prog 10958   809.408049:          1               page-faults: \n"
    "\tffffffff81775b9a elf_load+0x28a ([kernel.kallsyms])\n"
    "\t    7f8ca9af2ad7 [unknown] ([unknown])\n"
    "\n"
    "prog 10958   809.408172:          2               page-faults: \n"
    "\tffffffff81775b9a elf_load+0x28a ([kernel.kallsyms])\n"
    "\t    7f8ca9af2ad7 [unknown] ([unknown])\n"
    "\n"
    "prog 10958   809.408988:    1000000 cpu-clock/period=1000000/: \n"
    "\t            90c0 do_lookup_x+0x360 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    "\n"
    "prog 10958   809.411000:    1000000 cpu-clock/period=1000000/: \n"
    "\t            12c8 HPHP::f_sort+0x80 (/tmp/rec/prog)\n"
    "\t            135e worker+0x59 (/tmp/rec/prog)\n"
    "\t            1412 main+0x6e (/tmp/rec/prog)\n"
    "\t           2724a __libc_start_call_main+0x7a (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\n"
)


def test_several_events_kept_apart() -> None:
    d = read(TWO_EVENTS)
    assert list(d.events) == ["page-faults", "cpu-clock/period=1000000/"]
    assert samples(d, "page-faults") == {
        (10958, "prog", ((0xFFFFFFFF81775B9A, "elf_load", K),
                         (0x7F8CA9AF2AD7, "[unknown]", "[unknown]"))): [2, 3]}
    assert samples(d, "cpu-clock/period=1000000/") == {
        (10958, "prog", ((0x90C0, "do_lookup_x", LD),)): [1, 1000000],
        (10958, "prog", ((0x12C8, "HPHP::f_sort", PROG), (0x135E, "worker", PROG),
                         (0x1412, "main", PROG), (0x2724A, "__libc_start_call_main", LIBC))):
            [1, 1000000],
    }
    pf, cc = d.events["page-faults"], d.events["cpu-clock/period=1000000/"]
    assert (pf.samples, pf.weight, pf.time_first, pf.time_last) == (2, 3, 809.408049,
                                                                    809.408172)
    assert (cc.samples, cc.weight, cc.time_first, cc.time_last) == (2, 2000000, 809.408988,
                                                                    809.411)


def test_tracepoint_with_payload_and_callchain() -> None:
    # perf script -i tp.data
    text = (
        "prog 10969 [000]   810.769029: sched:sched_switch: prev_comm=prog prev_pid=10969 "
        "prev_prio=120 prev_state=R ==> next_comm=rcu_preempt next_pid=15 next_prio=120\n"
        "\tffffffff82265ec8 __schedule+0x628 ([kernel.kallsyms])\n"
        "\tffffffff82266833 schedule+0x23 ([kernel.kallsyms])\n"
        "\t    7f1fb627a758 [unknown] ([unknown])\n"
        "\n"
    )
    d = read(text)
    assert samples(d, "sched:sched_switch") == {
        (10969, "prog", ((0xFFFFFFFF82265EC8, "__schedule", K),
                         (0xFFFFFFFF82266833, "schedule", K),
                         (0x7F1FB627A758, "[unknown]", "[unknown]"))): [1, 1]}
    assert d.events["sched:sched_switch"].has_period is False


def test_tracepoint_without_callchain_has_an_empty_stack() -> None:
    text = ("prog 10969 [000]   810.769029: sched:sched_switch: prev_comm=prog prev_pid=10969 "
            "prev_prio=120 prev_state=R ==> next_comm=rcu_preempt next_pid=15 next_prio=120\n")
    d = read(text)
    assert samples(d, "sched:sched_switch") == {(10969, "prog", ()): [1, 1]}
    assert (d.empty_stacks, d.unparsed) == (1, 0)
    assert d.frames == []


# --- samples: other field sets ------------------------------------------------------------


def test_hide_callchain_one_line_samples() -> None:
    d = read(HIDE_CALLCHAIN)
    f_sort = (0x5622227372C4, "HPHP::f_sort", PROG)
    assert samples(d, "cpu-clock") == {
        (10349, "prog", ((0x7F95E6B8F9B4, "_dl_lookup_symbol_x", LD),)): [1, 1001001],
        (10349, "prog", ((0xFFFFFFFF81650990, "kmem_cache_alloc_noprof", K),)): [1, 1001001],
        (10349, "prog", ((0x5622227371F3, "HPHP::(anonymous namespace)::anon_helper",
                          PROG),)): [1, 1001001],
        (10349, "prog", (f_sort,)): [2, 2002002],
        (10351, "my worker 1", (f_sort,)): [1, 1001001],
    }
    assert (d.unparsed, d.empty_stacks, d.truncated) == (0, 0, 0)
    assert len(d.frames) == 4


def test_hide_callchain_with_decimal_ip_and_period() -> None:
    # perf script -i nopie.data
    text = ("     my worker 1 16777  1111.896010:    1001001 cpu-clock:            401283 "
            "HPHP::f_sort+0x3e (/tmp/rec/prog_nopie)\n")
    assert samples(read(text), "cpu-clock") == {
        (16777, "my worker 1", ((0x401283, "HPHP::f_sort", "/tmp/rec/prog_nopie"),)):
            [1, 1001001]}


def test_decimal_ip_is_not_a_period() -> None:
    # perf script -i nopie.data -F comm,tid,time,ip,sym and -F comm,tid,time,ip
    text = ("     my worker 1 16777  1111.896010:            401283 HPHP::f_sort\n"
            "     my worker 1 16777  1111.910036:            401278\n")
    d = read(text)
    assert samples(d, "") == {
        (16777, "my worker 1", ((0x401283, "HPHP::f_sort", ""),)): [1, 1],
        (16777, "my worker 1", ((0x401278, "", ""),)): [1, 1],
    }
    assert d.events[""].has_period is False


def test_period_without_event_or_ip() -> None:
    # perf script -i nopie.data -F comm,tid,time,period: weight, but no frame
    text = ("      prog_nopie 16775  1111.880895:    1001001 \n"
            "      prog_nopie 16775  1111.881895:    1001001 \n")
    d = read(text)
    assert samples(d, "") == {(16775, "prog_nopie", ()): [2, 2002002]}
    assert d.empty_stacks == 2


def test_no_header_fields_empty_header_line() -> None:
    d = read(NO_HEADER_FIELDS)
    assert samples(d, "") == {
        (-1, "", LD_STACK): [1, 1],
        (-1, "", ((0xFFFFFFFF81650990, "kmem_cache_alloc_noprof", K),
                  (0xFFFFFFFF8161B960, "__anon_vma_prepare", K))): [1, 1],
    }
    assert (d.unparsed, d.empty_stacks) == (0, 0)


def test_no_header_fields_one_line_samples() -> None:
    d = read(NO_HEADER_FIELDS_ONE_LINE)
    assert samples(d, "") == {
        (-1, "", ((0x7F95E6B8F9B4, "_dl_lookup_symbol_x", LD),)): [1, 1],
        (-1, "", ((0xFFFFFFFF81650990, "kmem_cache_alloc_noprof", K),)): [1, 1],
        (-1, "", ((0x5622227371F3, "HPHP::(anonymous namespace)::anon_helper", PROG),)):
            [2, 2],
    }
    assert (d.unparsed, d.srclines) == (0, 0)


def test_pid_tid_without_time_or_event() -> None:
    d = read(PID_TID_ONLY)
    assert samples(d, "") == {
        (10349, "", ((0x99B4, "_dl_lookup_symbol_x", ""), (0x7F95E687A758, "[unknown]", ""),
                     (0x211F68, "[unknown]", ""))): [1, 1],
        (10351, "", ((0x12C4, "HPHP::f_sort", ""),)): [1, 1],
    }
    assert d.tid_pid == {10349: 10349, 10351: 10351}


def test_pid_tid_without_time_one_line_samples() -> None:
    d = read(PID_TID_ONLY_ONE_LINE)
    assert samples(d, "") == {
        (10349, "", ((0x7F95E6B8F9B4, "_dl_lookup_symbol_x", ""),)): [1, 1],
        (10349, "", ((0xFFFFFFFF81650990, "kmem_cache_alloc_noprof", ""),)): [1, 1],
    }


def test_event_only_header() -> None:
    # perf script -i g.data -F event,ip,sym
    d = read("cpu-clock: \n\t            99b4 _dl_lookup_symbol_x\n\n")
    assert samples(d, "cpu-clock") == {(-1, "", ((0x99B4, "_dl_lookup_symbol_x", ""),)): [1, 1]}


def test_time_only_header() -> None:
    # perf script -i g.data -F time,ip,sym
    d = read("  774.784255: \n\t            99b4 _dl_lookup_symbol_x\n\n")
    assert samples(d, "") == {(-1, "", ((0x99B4, "_dl_lookup_symbol_x", ""),)): [1, 1]}
    assert d.events[""].time_first == 774.784255


def test_jit_frames_from_node() -> None:
    # perf script -i node.data (one sample, cut after four frames)
    text = (
        "node 12693   875.741869:    1001001 cpu-clock: \n"
        "\t    7fc0bf7c619d JS:*fib /tmp/rec/work.js:1:13+0x1d (/tmp/perf-12693.map)\n"
        "\t    7fc0bf7c6217 JS:*fib /tmp/rec/work.js:1:13+0x97 (/tmp/perf-12693.map)\n"
        "\t    7fc0bf7c6217 JS:*fib /tmp/rec/work.js:1:13+0x97 (/tmp/perf-12693.map)\n"
        "\t          c494db v8::internal::(anonymous namespace)::Invoke+0x12b (/usr/bin/node)\n"
        "\n"
    )
    d = read(text)
    m = "/tmp/perf-12693.map"
    fib = "JS:*fib /tmp/rec/work.js:1:13"
    assert samples(d, "cpu-clock") == {
        (12693, "node", ((0x7FC0BF7C619D, fib, m), (0x7FC0BF7C6217, fib, m),
                         (0x7FC0BF7C6217, fib, m),
                         (0xC494DB, "v8::internal::(anonymous namespace)::Invoke",
                          "/usr/bin/node"))): [1, 1001001]}
    assert len(d.frames) == 3  # the repeated frame line is one raw frame


# --- srclines --------------------------------------------------------------------------


def test_srclines_after_callchain_frames_counted_and_ignored() -> None:
    d = read(SRCLINE)
    assert samples(d, "cpu-clock") == {(10349, "prog", MAIN_STACK): [1, 1001001]}
    assert (d.srclines, d.unparsed) == (4, 0)


def test_srclines_after_one_line_samples_counted_and_ignored() -> None:
    d = read(SRCLINE_ONE_LINE)
    assert samples(d, "cpu-clock") == {
        (10354, "prog", ((0xFFFFFFFF816A4345, "memcg1_commit_charge", K),)): [1, 1001001],
        (10354, "prog", ((0xFFFFFFFF8224A7CC, "number", K),)): [1, 1001001],
    }
    assert (d.srclines, d.unparsed) == (2, 0)


def test_srclines_without_header_fields() -> None:
    d = read(SRCLINE_NO_HEADER_FIELDS)
    assert samples(d, "") == {
        (-1, "", ((0x7F95E6B8F9B4, "_dl_lookup_symbol_x", LD),)): [1, 1],
        (-1, "", ((0xFFFFFFFF81650990, "kmem_cache_alloc_noprof", K),)): [1, 1],
    }
    assert (d.srclines, d.unparsed) == (2, 0)


def test_two_blank_indented_line_without_a_frame_before_is_junk() -> None:
    d = read("  prog.cpp:12\n" + DEFAULT)
    assert (d.srclines, d.unparsed) == (0, 1)
    assert d.diagnostics[0].lineno == 1


# --- side-band records ---------------------------------------------------------------------


def test_mmap_comm_fork_lines() -> None:
    d = read(SIDE_BAND)
    assert d.mmaps == [
        Mmap(-1, 0, 0xFFFFFFFF81000000, 0x1276F48, 0xFFFFFFFF81000000, "x",
             "[kernel.kallsyms]_text", 0.0),
        Mmap(10349, 10349, 0x562222737000, 0x1000, 0x1000, "r-xp", "/tmp/rec/prog",
             774.783307),
        Mmap(10349, 10349, 0x7F95E6B84000, 0x2000, 0, "r-xp", "[vdso]", 774.783359),
        Mmap(10349, 10349, 0x7F95E6644000, 0x156000, 0x26000, "r-xp", LIBC, 774.783723),
    ]
    assert d.tid_pid == {10349: 10349, 10351: 10349}
    assert samples(d, "cpu-clock") == {(10349, "prog", LD_STACK): [1, 1001001]}
    assert (d.unparsed, d.warnings, d.empty_stacks) == (0, 0, 0)


def test_mmap2_anon_jit_region_and_deleted_file() -> None:
    text = (
        # perf script -i node.data --show-mmap-events
        "node 12693   875.691242: PERF_RECORD_MMAP2 12693/12693: [0x7fc0bf7c3000(0x3c000) @ "
        "0x7fc0bf7c3000 00:00 0 0]: rwxp //anon\n"
        # perf script -i del.data --show-mmap-events (synthesized at attach: time 0)
        "prog_del     0     0.000000: PERF_RECORD_MMAP2 10668/10668: [0x55b4c1d05000(0x1000) @ "
        "0x1000 fe:00 2147091 0]: r-xp /tmp/rec/prog_del (deleted)\n"
        + DEFAULT
    )
    d = read(text)
    assert d.mmaps == [
        Mmap(12693, 12693, 0x7FC0BF7C3000, 0x3C000, 0x7FC0BF7C3000, "rwxp", "//anon",
             875.691242),
        Mmap(10668, 10668, 0x55B4C1D05000, 0x1000, 0x1000, "r-xp",
             "/tmp/rec/prog_del (deleted)", 0.0),
    ]
    assert d.tid_pid == {12693: 12693, 10668: 10668}
    assert d.events["cpu-clock"].samples == 4


def test_side_band_lines_between_one_line_samples() -> None:
    text = (HIDE_CALLCHAIN.splitlines(keepends=True)[0]
            + SIDE_BAND.splitlines(keepends=True)[3]
            + HIDE_CALLCHAIN.splitlines(keepends=True)[1])
    d = read(text)
    assert d.events["cpu-clock"].samples == 2
    assert len(d.mmaps) == 1
    assert d.unparsed == 0


def test_other_side_band_records_ignored() -> None:
    d = read("prog 10349   774.785000: PERF_RECORD_LOST_SAMPLES lost 3\n" + DEFAULT)
    assert (d.unparsed, d.warnings, len(d.mmaps), d.tid_pid) == (0, 0, 0, {})
    assert d.events["cpu-clock"].samples == 4


# --- messages, junk, ends of text --------------------------------------------------------


def test_perf_warning_lines_counted() -> None:
    text = ("# ========\n"
            "# captured on    : Fri Nov 27 05:24:37 2026\n"
            "# ========\n"
            "#\n"
            + DEFAULT
            + "Warning:\n")
    d = read(text)
    assert d.warnings == 1  # the --header comment lines are facts (issue 13 item 6)
    assert d.unparsed == 0
    assert list(d.events) == ["cpu-clock"]
    assert [x.lineno for x in d.diagnostics] == [27]
    assert d.diagnostics[0].message == "perf message: Warning:"
    facts = next(iter(d.recordings.values()))
    assert facts.captured_on == "Fri Nov 27 05:24:37 2026" and facts.header_lines == 4


def test_junk_lines_counted_with_line_numbers() -> None:
    text = DEFAULT[:DEFAULT.index("prog 10349   774.787276")] + "garbage here\n" + "\tnot a frame\n"
    d = read(text + "\n" + DEFAULT)
    assert d.unparsed == 2
    assert [(x.path, x.lineno) for x in d.diagnostics] == [("perf.txt", 6), ("perf.txt", 7)]
    assert d.diagnostics[0].message == "not perf script output: 'garbage here'"
    assert d.diagnostics[1].message == "not a callchain line: 'not a frame'"
    assert d.events["cpu-clock"].samples == 5


def test_diagnostics_capped_but_every_junk_line_counted() -> None:
    junk = "".join(f"junk {i}\n" for i in range(MAX_KEPT_DIAGNOSTICS + 5))
    d = read(DEFAULT + DEFAULT + DEFAULT + DEFAULT + junk)
    assert d.unparsed == MAX_KEPT_DIAGNOSTICS + 5
    assert len(d.diagnostics) == MAX_KEPT_DIAGNOSTICS


def test_last_sample_without_trailing_blank_line_kept() -> None:
    d = read(DEFAULT.rstrip("\n") + "\n")
    assert samples(d, "cpu-clock") == DEFAULT_SAMPLES
    assert d.truncated == 0


def test_last_one_line_sample_without_newline_dropped() -> None:
    d = read(HIDE_CALLCHAIN.rstrip("\n"))
    assert d.events["cpu-clock"].samples == 5
    assert d.truncated == 1
    assert d.diagnostics[-1].lineno == 6


def test_truncated_last_line_drops_that_sample() -> None:
    text = DEFAULT.rstrip("\n")[:-20]  # cut inside the last frame line, no newline
    d = read(text)
    got = samples(d, "cpu-clock")
    assert got == {(10349, "prog", LD_STACK): [1, 1001001],
                   (10349, "prog", MAIN_STACK): [1, 1001001],
                   (10351, "my worker 1", WORKER_STACK): [1, 1001001]}
    assert d.truncated == 1
    assert d.events["cpu-clock"].weight == 3003003
    assert (d.diagnostics[-1].lineno, d.diagnostics[-1].message) == (
        21, "truncated last sample (no end of line), dropped")


def test_truncated_header_line_drops_that_sample() -> None:
    d = read(DEFAULT + "prog 10349   774.795279:    1001")
    assert d.events["cpu-clock"].samples == 4
    assert d.truncated == 1


def test_not_perf_output_raises() -> None:
    with pytest.raises(InputError) as info:
        read('{"traceEvents": []}\nhello\nworld\n', path="trace.json")
    assert (info.value.path, info.value.lineno) == ("trace.json", 1)
    assert "not perf script output" in info.value.message


def test_a_few_junk_lines_among_samples_do_not_raise() -> None:
    d = read("junk\n" * 3 + DEFAULT)
    assert (d.unparsed, d.events["cpu-clock"].samples) == (3, 4)


def test_empty_input_raises() -> None:
    with pytest.raises(EmptyInputError) as info:
        read("", path="empty.txt")
    assert info.value.path == "empty.txt"
    assert info.value.exit_code == 3


def test_only_blank_lines_is_no_samples_not_an_error() -> None:
    d = read("\n\n\n")
    assert (d.events, d.lines, d.unparsed) == ({}, 3, 0)


# --- files -----------------------------------------------------------------------------


def test_read_scripts_plain_file(tmp_path: Path) -> None:
    p = tmp_path / "perf.txt"
    p.write_text(DEFAULT)
    d = read_scripts([str(p)])
    assert samples(d, "cpu-clock") == DEFAULT_SAMPLES
    assert d.inputs == [str(p)]
    assert d.lines == 22


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [(".gz", gzip.compress), (".xz", lzma.compress), (".bz2", bz2.compress)],
)
def test_read_scripts_compressed(tmp_path: Path, suffix: str, compress: object) -> None:
    p = tmp_path / ("perf.script" + suffix)
    assert callable(compress)
    p.write_bytes(compress(DEFAULT.encode()))
    d = read_scripts([str(p)])
    assert samples(d, "cpu-clock") == DEFAULT_SAMPLES


def test_read_scripts_several_files_merge(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt.gz"
    a.write_text(SIDE_BAND)
    b.write_bytes(gzip.compress(DEFAULT.encode()))
    d = read_scripts([str(a), str(b)])
    assert d.inputs == [str(a), str(b)]
    got = samples(d, "cpu-clock")
    assert got[(10349, "prog", LD_STACK)] == [2, 2002002]
    assert got[(10349, "prog", MAIN_STACK)] == [2, 2002002]
    assert d.events["cpu-clock"].samples == 5
    assert d.tid_pid == {10349: 10349, 10351: 10349}
    assert d.lines == SIDE_BAND.count("\n") + 22
    assert len(d.frames) == 8  # interned across files


def test_second_input_judged_by_its_own_junk(tmp_path: Path) -> None:
    # the first text's junk lines must not make a later, harmless text "not perf output"
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("junk\n" * 3 + DEFAULT)
    b.write_text("# ========\n# header only\n")
    d = read_scripts([str(a), str(b)])
    assert (d.unparsed, d.warnings) == (3, 0)
    assert d.recordings[str(b)].header_lines == 2


def test_read_scripts_not_perf_output(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("shopping list\neggs\nmilk\n")
    with pytest.raises(InputError) as info:
        read_scripts([str(p)])
    assert info.value.path == str(p)


def test_read_scripts_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.txt"
    p.write_text("")
    with pytest.raises(EmptyInputError):
        read_scripts([str(p)])


def test_read_scripts_empty_gz(tmp_path: Path) -> None:
    p = tmp_path / "empty.txt.gz"
    p.write_bytes(gzip.compress(b""))
    with pytest.raises(EmptyInputError):
        read_scripts([str(p)])


def test_read_scripts_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "missing.txt"
    with pytest.raises(InputError) as info:
        read_scripts([str(p)])
    assert info.value.path == str(p)


def test_read_scripts_corrupt_gz(tmp_path: Path) -> None:
    p = tmp_path / "bad.txt.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(InputError) as info:
        read_scripts([str(p)])
    assert info.value.path == str(p)


def test_invalid_utf8_does_not_stop_reading(tmp_path: Path) -> None:
    p = tmp_path / "perf.txt"
    p.write_bytes(DEFAULT.replace("worker+0x59", "w\xffrker+0x59").encode("latin-1"))
    d = read_scripts([str(p)])
    assert d.events["cpu-clock"].samples == 4
    assert {f.sym for f in d.frames} >= {"w\udcffrker"}


def test_reader_accumulates_into_given_data() -> None:
    data = ScriptData()
    reader = ScriptReader(data)
    read(DEFAULT, "one", reader)
    read(DEFAULT, "two", reader)
    assert reader.data is data
    assert data.inputs == ["one", "two"]
    assert data.events["cpu-clock"].samples == 8
    assert samples(data, "cpu-clock")[(10349, "prog", MAIN_STACK)] == [4, 4004004]
