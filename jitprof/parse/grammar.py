"""The perf script text grammar as pure functions: headers, frame lines, inlined runs, what
is no perf script text (perf 4.x-6.x; docs/report.md).

Grammar handled (perf 4.x-6.x; docs/report.md):
  header   [comm] [pid/tid | tid] [[cpu]] [time:] [period] event: [ip sym+off (dso)]
           (or, when callchain lines follow, any of comm / tid / period alone; without a
           time, one number before the event is the tid or the period by its printed
           width: "%5d"/"%7d" vs "%10lu", see ``parse_header``)
  frame    <TAB> hexaddr sym[+0xoff] (dso)      (dso parsed as the last balanced "(...)");
           after a header any leading blanks, or none, as other consumers read it
           (``is_frame_line``)
  srcline  "  file:line" after a frame          (counted, ignored)
  blank    ends a sample (samples without -g are one line each, no blank lines)
  comment  "# key : value" (perf script --header): the recording's facts (jitprof.inputs.recording)
  PERF_RECORD_MMAP/MMAP2/COMM/FORK/EXIT lines from --show-mmap-events / --show-task-events
Weight is the period when the text has one (as perf report does), else 1 per sample."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from jitprof.model import Diagnostic
from jitprof.model.names import last_group_start
from jitprof.parse.tables import RawFrame

_TIME_RX = re.compile(r"(?:^|\s)(\d+\.\d+):(?=\s|$)")


_IDS_RX = re.compile(r"(-?\d+)(?:/(-?\d+))?")


_CPU_RX = re.compile(r"\[(\d+)\]")


_INT_RX = re.compile(r"-?\d+")


_MMAP_RX = re.compile(
    r"PERF_RECORD_MMAP2? (-?\d+)/(-?\d+): \[(0x[0-9a-f]+|0)\((0x[0-9a-f]+|0)\) @ (0x[0-9a-f]+|0)"
    r"(?: <([0-9a-f]+)>)?[^\]]*\]: (\S+) (.*)$"  # <build-id>: perf record --buildid-mmap
)


_COMM_RX = re.compile(r"PERF_RECORD_COMM(?: exec)?: (.*):(-?\d+)/(-?\d+)\s*$")


_FORK_RX = re.compile(r"PERF_RECORD_(?:FORK|EXIT)\((-?\d+):(-?\d+)\):\((-?\d+):(-?\d+)\)")


# perf script --show-switch-events (issue 17): "comm tid [cpu] time: PERF_RECORD_SWITCH IN",
# "... PERF_RECORD_SWITCH OUT preempt", "... PERF_RECORD_SWITCH_CPU_WIDE OUT  next pid/tid: ..."
_SWITCH_RX = re.compile(r"PERF_RECORD_SWITCH(?:_CPU_WIDE)? (IN|OUT)( preempt)?")


# the sched:sched_switch tracepoint's fields (perf script's trace field); a comm may hold
# blanks, so the numbers are found after it
_SCHED_SWITCH_RX = re.compile(
    r"prev_comm=.* prev_pid=(-?\d+) prev_prio=-?\d+ prev_state=(\S+) ==> next_comm=.* "
    r"next_pid=(-?\d+) next_prio=-?\d+")


def parse_sched_switch(rest: str) -> tuple[int, int, int] | None:
    """(prev tid, next tid, first letter of prev_state as its code) of a sched:sched_switch
    sample's trace text (``prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==>
    next_comm=b next_pid=0 next_prio=120``); None when the text has no such fields."""
    m = _SCHED_SWITCH_RX.search(rest)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(3)), ord(m.group(2)[0]) & 0x7F


# "-F pid,tid[,ip,sym]": no time, no event, but the unmistakable pid/tid pair
_IDS_ONLY_RX = re.compile(
    r"^(?P<comm>.*?)\s*(?<!\S)(?P<pid>-?\d+)/(?P<tid>-?\d+)(?:\s+|$)(?P<rest>.*)$"
)


_NOTIME_HEADER_RX = re.compile(
    r"^(?P<left>.*?)(?:(?<=\s)|^)(?P<period>\d+\s+)?(?P<event>[\w.=,@+/-][\w.:=,@+/-]*?)"
    r":(?=\s|$)\s*(?P<rest>.*)$"
)


def _dso_split(rest: str) -> tuple[str, str | None]:
    """Split 'sym+0xoff (dso)' into (sym+0xoff, dso) by the last balanced '(...)' group."""
    if not rest.endswith(")"):
        return rest, None
    i = rest.rfind(" (")
    if i >= 0 and "(" not in rest[i + 2 : -1] and ")" not in rest[i + 2 : -1]:
        return rest[:i], rest[i + 2 : -1]  # the common case: no parentheses in the dso
    i = last_group_start(rest)
    if i == 0:
        return "", rest[1:-1]
    if i > 0 and rest[i - 1] == " ":
        return rest[: i - 1], rest[i + 1 : -1]
    return rest, None  # "f(int)" with no dso group, or unbalanced


_HEX_DIGITS = "0123456789abcdefABCDEF"


def _parse_frame(text: str) -> tuple[int, str, str] | None:
    """(address, symbol without +0xoff, dso) of 'hexaddr sym[+0xoff] (dso)', or None:
    ``parse_frame_text``'s rule, with no objects made (the reader's per-line path)."""
    text = text.strip()
    sp = text.find(" ")
    if sp < 0:
        addr_s, rest = text, ""
    else:
        addr_s, rest = text[:sp], text[sp + 1 :].strip()
    digits = addr_s[2:] if addr_s[:2] in ("0x", "0X") else addr_s
    if not digits or digits.strip(_HEX_DIGITS):
        return None
    sym, dso = _dso_split(rest)
    i = sym.rfind("+0x")
    if i >= 0 and len(sym) > i + 3 and not sym[i + 3 :].strip(_HEX_DIGITS):
        sym = sym[:i]
    return int(addr_s, 16), sym, dso if dso is not None else ""


def parse_frame_text(text: str) -> RawFrame | None:
    """Parse 'hexaddr sym[+0xoff] (dso)' (leading blanks allowed); None if not a frame."""
    got = _parse_frame(text)
    return None if got is None else RawFrame(*got)


@dataclass(slots=True)
class _Header:
    comm: str
    pid: int | None
    tid: int | None
    time: float | None
    period: int | None
    event: str
    rest: str


def _is_hex_token(tok: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in tok)


def parse_header(line: str) -> _Header | None:
    """Parse a sample header line; None if it is not one."""
    m = _TIME_RX.search(line)
    if m is not None:
        left = line[: m.start()]
        right = line[m.end() :].lstrip()
        time: float | None = float(m.group(1))
        period_s, sep, after = right.partition(" ")
        period: int | None = None
        if period_s.isdigit():
            # a decimal token here is the period ("%10lu ": always a blank after it) only if
            # an event, an ip (" %16lx": two or more blanks before it) or nothing follows;
            # otherwise it is an ip that happens to have no hex letters (-F without period),
            # which perf follows by one blank and the symbol, or by the end of the line
            nxt = after.lstrip().partition(" ")[0]
            if (
                (not nxt and sep == " ")
                or nxt.endswith(":")
                or (nxt and after[:1] == " " and _is_hex_token(nxt))
            ):
                period = int(period_s)
                right = after.lstrip()
        ev, _, rest = right.partition(" ")
        if ev.endswith(":") and len(ev) > 1:
            event = ev[:-1]
        elif not ev:
            event = ""
        else:
            # -F without event: what follows the time is the ip (or nothing)
            event = ""
            rest = right
    else:
        m2 = _NOTIME_HEADER_RX.match(line)
        if m2 is None:
            m3 = _IDS_ONLY_RX.match(line)
            if m3 is None:
                return None
            return _Header(m3.group("comm").strip(), int(m3.group("pid")),
                           int(m3.group("tid")), None, None, "",
                           m3.group("rest").strip())
        left = m2.group("left")
        time = None
        p = m2.group("period")
        period = int(p) if p else None
        if p and _number_is_tid(line, m2.start("period"), len(p.rstrip()), left):
            left, period = line[: m2.start("period") + len(p.rstrip())], None
        event = m2.group("event")
        rest = m2.group("rest")
        if _IDS_RX.fullmatch(event):  # "comm 123: ..." is not a header we know
            return None
        if not left.strip() and event.lower() in ("warning", "error"):
            return None  # perf's own "Warning:" / "Error:" message, not an event
    toks = left.split()
    pid: int | None = None
    tid: int | None = None
    if toks and _CPU_RX.fullmatch(toks[-1]):
        toks.pop()
        left = left[: left.rstrip().rfind("[")]
    if toks:
        mi = _IDS_RX.fullmatch(toks[-1])
        if mi is not None:
            if mi.group(2) is not None:
                pid, tid = int(mi.group(1)), int(mi.group(2))
            else:
                tid = int(mi.group(1))
            left = left.rstrip()
            left = left[: len(left) - len(toks[-1])]
        elif time is None and period is None:  # "comm period event:" (-F comm,period,event)
            return None
    return _Header(left.strip(), pid, tid, time, period, event, rest.strip())


def _number_is_tid(line: str, start: int, digits: int, left: str) -> bool:
    """Without a time, the one number before the event is the tid ("%5d "; "%7d " in perf
    >= 6.5) or the period ("%10lu "): ``func_ab 15294 cpu-clock:`` is a tid,
    ``w    1001001 cpu-clock:`` a period. Told by the printed width (the number's padding
    plus its digits): a period is at least 10 wide, a tid at most 7 (pid_max is 2^22);
    a number before it is then the tid (``comm tid period event:``) or ends the comm
    (``my worker 1 4194303 cpu-clock:``). A cpu (``[001]``) before it makes it the period."""
    toks = left.split()
    if toks and (_CPU_RX.fullmatch(toks[-1]) or (
            "/" in toks[-1] and _IDS_RX.fullmatch(toks[-1]))):
        return False  # [cpu] or pid/tid come before the period only
    j = start
    while j > 0 and line[j - 1] == " ":
        j -= 1
    pad = start - j - (1 if j > 0 else 0)  # one blank separates it from the comm
    return pad + digits < 8


_HEX_RX = re.compile(r"[0-9a-fA-F]+")


def is_frame_line(line: str) -> bool:
    """Whether a line inside a sample (after its header) is a callchain frame. perf
    indents frames with a tab; texts re-indented with blanks, or not at all, are read as
    every other consumer reads them: a hex address first, then the symbol and dso (an
    unindented line must not also read as a sample header). Srclines (``  prog.c:12``,
    ``  [kernel.kallsyms][ffffffff816a4345]``) never start with a hex address and a blank."""
    s = line.rstrip("\n")
    text = s.lstrip()
    if not text:
        return False
    addr, _, _rest = text.partition(" ")
    if _HEX_RX.fullmatch(addr) is None:
        return False
    if s.rstrip().endswith(":"):  # a header ("%16s" right-aligns a comm such as "cc1")
        return False
    if s[0] in " \t":
        return True
    return parse_header(s) is None and parse_bare_header_numbers(s) is None


def parse_bare_header_numbers(line: str) -> tuple[int, int | None] | None:
    """A line of numbers only (``-F tid``: `` 4605``, or tid and period): (first, second)."""
    toks = line.split()
    if not toks or len(toks) > 2 or not all(_INT_RX.fullmatch(t) for t in toks):
        return None
    return int(toks[0]), (int(toks[1]) if len(toks) > 1 else None)


def collapse_inlined(stack: tuple[int, ...], frames: Any,
                     inlined: Collection[int]) -> tuple[int, ...]:
    """A stack without perf's ``(inlined)`` lines (``perf script --inline``), as perf
    report counts it. perf prints, for an address with inline information, the inlined
    functions innermost first, then the function holding them - or, when its inline
    reader names that function differently from the symbol table, only ``(inlined)``
    lines. So: within a run of frames at one address, the inlined lines are dropped when
    a real frame ends the run; when none does, the run's last (outermost) inlined line
    stays, standing for the containing function (its self time stays at that address)."""
    out: list[int] = []
    n = len(stack)
    for i, fid in enumerate(stack):
        if fid not in inlined:
            out.append(fid)
            continue
        addr = frames[fid].addr
        j = i + 1
        while j < n and stack[j] in inlined and frames[stack[j]].addr == addr:
            j += 1
        if j == i + 1 and not (j < n and frames[stack[j]].addr == addr):
            out.append(fid)  # the outermost inlined line of its address, no real frame after
    return tuple(out)


_ELF_MAGIC = "\x7fELF"


def not_text(head: str) -> str | None:
    """Why the first characters of an input show it is no text at all (an ELF program,
    other binary data); None if they may be perf script text."""
    if head.startswith(_ELF_MAGIC):
        return ("is an ELF file (a program or library), not perf script text: record it "
                "with 'perf record -g -- PROGRAM', then 'jitprof report perf.data'")
    if "\x00" in head[:4096]:
        return "is a binary file, not perf script text"
    return None


def parse_bare_header(line: str) -> tuple[str, int | None, int | None] | None:
    """A header without time or event (``-F tid``, ``-F comm``, ``-F comm,tid,period``...):
    (comm, tid, period); None if the line cannot be one (it has a colon, or is empty)."""
    text = line.strip()
    if not text or ":" in text or text[0] in "#[{<":
        return None
    toks = text.split()
    popped = 0
    if _CPU_RX.fullmatch(toks[-1]):
        toks.pop()
        popped += 1
    nums: list[int] = []
    while toks and len(nums) < 2 and _INT_RX.fullmatch(toks[-1]):
        nums.insert(0, int(toks.pop()))
        popped += 1
    comm = text.rsplit(None, popped)[0] if toks else ""  # inner blanks of the comm kept
    if len(nums) == 2:
        return comm, nums[0], nums[1]
    return comm, (nums[0] if nums else None), None


def unreadable_text(samples: int, unparsed: int, lines: int, truncated: int, comments: int,
                    first_junk: Diagnostic | None, empty: int = 0) -> tuple[str, int] | None:
    """Why a whole text read as this is refused, and the line to name (None: it is perf
    script text): nothing but unparsed lines, half of its lines or more unparsed, or
    every sample without a stack while as many lines were unparsed (another tool's
    format), or a lone sample cut off before its end of line. ``lines`` counts every
    line; ``comments`` the header comment lines among them; ``empty`` the samples
    without a stack."""
    if samples == 0 and truncated:
        return ("looks truncated: it ends in the middle of its only sample (no end of "
                "line after the last line); was it cut off while copying?", lines)
    content = lines - comments
    if unparsed and (unparsed * 2 >= max(content, 1) or (
            samples and empty == samples and unparsed >= samples)):
        where = f" (first: {first_junk.message.partition(': ')[2]})" if first_junk else ""
        at = first_junk.lineno if first_junk is not None else 0
        if samples == 0:
            return ("not perf script output: no sample header found (samples without a "
                    f"callchain need the time or event field){where}", at)
        return (f"not perf script output: {unparsed:,} of {content:,} lines are no perf "
                f"script sample or frame{where}", at)
    return None


def _first_junk(diagnostics: list[Diagnostic], path: str) -> Diagnostic | None:
    return next((x for x in diagnostics if x.path == path and x.lineno and (
        x.message.startswith(("not perf script output", "not a callchain line")))), None)

