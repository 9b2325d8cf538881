"""The one header of a profile: what was read and how healthy the maps, symbols and input
were, fact by fact, in the long form ``jitprof report`` prints (and the SVG and HTML flame
graphs quote) and the short pieces the TUI's status bar fits. Every renderer takes these
lines; none words a diagnostic itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jitprof.model import KIND_ORDER, SYNTHETIC_EVENTS, MapHealth, Profile
from jitprof.present.rows import kind_summary

Topic = Literal["inputs", "recorded on", "event", "off-CPU", "other events", "JIT", "map",
                "jitdump", "ELF symbols", "kinds", "input", "message", "warning"]


@dataclass(frozen=True, slots=True)
class HeaderLine:
    """One fact: ``text`` as the report prints it (None: the report has no line for it),
    ``brief`` the pieces a status bar shows of it (none: the bar leaves it out)."""

    topic: Topic
    text: str | None
    brief: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Status:
    """The header in pieces a status bar can fit: ``parts`` in order of importance (event,
    samples, time, JIT naming, inputs), ``maps`` one per map, ``warnings`` as the report
    prints them (a missing or stale map, few JIT samples named, ...)."""

    parts: list[str]
    maps: list[str]
    warnings: list[str]


def time_span(profile: Profile) -> float | None:
    """Seconds from the first to the last sample (6 decimals), None without times."""
    if profile.time_first is None or profile.time_last is None:
        return None
    return round(profile.time_last - profile.time_first, 6)


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _event(profile: Profile) -> HeaderLine:
    d = profile.diagnostics
    unit = "period" if d.has_period else "1 per sample"
    if profile.event in SYNTHETIC_EVENTS:  # made in ns (jitprof/resolve/offcpu.py)
        unit = "ns"
    line = f"event: {profile.event or '(none)'}  samples: {profile.samples:,}  weight: "
    line += f"{profile.weight:,} ({unit})"
    brief = [profile.event or "(no event)", f"{profile.samples:,} samples"]
    first, last, span = profile.time_first, profile.time_last, time_span(profile)
    if span is not None and first is not None and last is not None:
        line += f"  time: {first:.3f}-{last:.3f} s ({span:.3f} s)"
        brief.append(f"{first:.3f}-{last:.3f} s ({last - first:.3f} s)")
    return HeaderLine("event", line, tuple(brief))


def _jit(profile: Profile) -> HeaderLine:
    d = profile.diagnostics
    p = d.jit_samples_resolved_pct
    line = (f"JIT memory: {d.jit_samples:,} samples"
            + (f", {p:.1f}% named" if p is not None else "")
            + f"; JIT frames {d.jit_frames_resolved:,}/{d.jit_frames:,} named")
    brief = ((f"JIT {p:.1f}% named" if p is not None else "JIT",) if d.jit_samples else ())
    return HeaderLine("JIT", line, brief)


def _map(m: MapHealth) -> list[HeaderLine]:
    """The report's numbers; the bar leaves out zero problem counts to save room."""
    line = (f"map {m.path}: {m.lines:,} lines, {m.bad:,} bad, "
            f"{m.overlapping:,} overlapping, {m.zero_size:,} zero-size")
    problems = [f"{n:,} {what}" for n, what in ((m.bad, "bad"), (m.overlapping, "overlapping"),
                                                  (m.zero_size, "zero-size")) if n]
    brief = ", ".join([f"map {_base(m.path)}: {m.lines:,} lines", *problems])
    return [HeaderLine("map", line, (brief,)),
            *(HeaderLine("map", f"  {bl}") for bl in m.bad_lines[:5])]


def _elf(profile: Profile) -> list[HeaderLine]:
    d = profile.diagnostics
    if not (d.elf_frames or d.kernel_frames):  # frames perf left unnamed, named here (issue 3)
        return []
    line = (f"ELF symbols: {d.elf_frames_named:,}/{d.elf_frames:,} file frames named"
            f" ({', '.join(d.address_forms) or '-'} addresses) from {len(d.elf_files)} "
            "file(s)")
    if d.kernel_frames:
        line += f"; kernel frames {d.kernel_frames_named:,}/{d.kernel_frames:,} named"
    return [HeaderLine("ELF symbols", line)]


def _input(profile: Profile) -> list[HeaderLine]:
    """What the parser skipped, in counts, and the first messages."""
    d = profile.diagnostics
    skipped = [
        f"{v:,} {label}"
        for v, label in ((d.unparsed_lines, "unparsed lines"), (d.perf_warnings, "perf messages"),
                         (d.truncated_samples, "truncated samples"))
        if v
    ]
    out = [HeaderLine("input", "input: " + ", ".join(skipped))] if skipped else []
    out.extend(HeaderLine("message", f"  {msg}") for msg in d.messages[:5])
    return out


def header(profile: Profile) -> list[HeaderLine]:
    """Every fact of the header, in the report's order."""
    d = profile.diagnostics
    out = [HeaderLine("inputs", f"inputs: {', '.join(profile.inputs)}",
                      (", ".join(_base(p) for p in profile.inputs) or "(no input)",))]
    out.extend(HeaderLine("recorded on", f"recorded on: {r}")
               for r in dict.fromkeys(d.recorded_on))
    out.append(_event(profile))
    out.extend(HeaderLine("off-CPU", line) for line in d.off_cpu)  # per state and thread
    if len(d.events) > 1:
        out.append(HeaderLine("other events", "other events (use --event): " + ", ".join(
            f"{k} ({v:,})" for k, v in d.events.items() if k != profile.event)))
    out.append(_jit(profile))
    for m in d.maps:
        out.extend(_map(m))
    if not d.maps and d.jit_samples:
        out.append(HeaderLine("map", None, ("no perf map used",)))
    out.extend(HeaderLine("jitdump", line) for line in d.jitdumps)
    out.extend(_elf(profile))
    kinds = kind_summary(profile)
    out.append(HeaderLine("kinds", "kinds (self): " + "  ".join(
        f"{k.value} {kinds[k.value]['self_pct']:.1f}%" for k in KIND_ORDER
        if kinds[k.value]["self"])))
    out.extend(_input(profile))
    out.extend(HeaderLine("warning", f"WARNING: {w}", (w,)) for w in d.warnings)
    return out


def header_lines(profile: Profile) -> list[str]:
    """The report's header, one line per fact (without the report's ``# ``)."""
    return [h.text for h in header(profile) if h.text is not None]


def status(profile: Profile) -> Status:
    """The TUI's status bar: the brief pieces of the header's facts."""
    lines = header(profile)

    def brief(*topics: Topic) -> list[str]:
        return [b for t in topics for h in lines if h.topic == t for b in h.brief]

    return Status(brief("event", "JIT", "inputs"), brief("map"), brief("warning"))


def top_summary(profile: Profile) -> str:
    """What ``jitprof top --stdio`` says of a snapshot before its table: samples, JIT
    naming, each map's lines."""
    d = profile.diagnostics
    maps = "; ".join(f"map {m.path} {m.lines:,} lines" for m in d.maps) or "no map"
    named = (f"{d.jit_samples_resolved_pct:.1f}% of JIT samples named"
             if d.jit_samples_resolved_pct is not None else "no JIT samples")
    return f"{profile.samples:,} samples; {named}; {maps}"

