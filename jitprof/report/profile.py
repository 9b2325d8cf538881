"""Plain reports of a Profile: the hot-function table, JSON (a documented contract) and CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from jitprof import __version__
from jitprof.model import KIND_ORDER, Kind, Profile


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    kind: Kind
    dso: str
    self_weight: int
    total_weight: int
    self_samples: int
    total_samples: int
    self_pct: float
    total_pct: float
    full_names: tuple[str, ...] = ()  # C++ names named from ELF: the forms with parameters
    versions: int = 0  # distinct pieces of JIT code named as this (compiled versions), if > 1
    # a wall profile (issue 17): the function's off-CPU self and total weight (ns); its
    # CPU time is the rest. None for other events
    off_self: int | None = None
    off_total: int | None = None
    off_total_pct: float = 0.0  # off_total, % of the profile's weight


def function_rows(
    profile: Profile, sort: str = "self", kinds: Sequence[Kind] = (), top: int | None = None
) -> list[Row]:
    """Per-function rows, percentages of all the profile's weight, sorted by self or total
    (ties by the other column, then name, so the order is stable)."""
    total = profile.weight or 1
    d = profile.diagnostics
    split = bool(d.off_cpu_total) or (profile.event == "wall" and bool(d.off_cpu))
    rows = []
    for st in profile.function_stats():
        f = profile.frames[st.frame_id]
        if kinds and f.kind not in kinds:
            continue
        key = f"{f.kind.value}\t{f.dso}\t{f.name}"  # (jitprof.resolve.offcpu.function_key)
        rows.append(
            Row(
                f.name, f.kind, f.dso, st.self_weight, st.total_weight, st.self_samples,
                st.total_samples, 100.0 * st.self_weight / total, 100.0 * st.total_weight / total,
                profile.full_names.get(st.frame_id, ()),
                profile.versions.get(st.frame_id, 0),
                d.off_cpu_self.get(key, 0) if split else None,
                d.off_cpu_total.get(key, 0) if split else None,
                100.0 * d.off_cpu_total.get(key, 0) / total,
            )
        )
    if sort == "total":
        rows.sort(key=lambda r: (-r.total_weight, -r.self_weight, r.name))
    else:
        rows.sort(key=lambda r: (-r.self_weight, -r.total_weight, r.name))
    return rows[:top] if top else rows


def kind_summary(profile: Profile) -> dict[str, dict[str, float | int]]:
    total = profile.weight or 1
    out: dict[str, dict[str, float | int]] = {}
    for k, (w, s) in profile.kind_stats().items():
        out[k.value] = {"self": w, "self_samples": s, "self_pct": round(100.0 * w / total, 4)}
    return out


def dso_summary(profile: Profile) -> dict[str, dict[str, float | int]]:
    """Self weight per dso (the leaf's), largest first (from the per-function sums)."""
    acc: dict[str, list[int]] = {}
    for st in profile.function_stats():
        if st.self_samples:
            a = acc.setdefault(profile.frames[st.frame_id].dso, [0, 0])
            a[0] += st.self_weight
            a[1] += st.self_samples
    total = profile.weight or 1
    ordered = sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return {dso: {"self": w, "self_samples": s, "self_pct": round(100.0 * w / total, 4)}
            for dso, (w, s) in ordered}


def process_summary(profile: Profile) -> list[dict[str, object]]:
    """Weight and samples per (pid, comm), from the sample groups' thread column."""
    from jitprof.model import sum_by

    n = len(profile.threads)
    ws = sum_by(profile.group_thread, profile.group_weight, n).tolist()
    ss = sum_by(profile.group_thread, profile.group_samples, n).tolist()
    acc: dict[tuple[int, str], list[int]] = {}
    for t, key in enumerate(profile.threads):
        if ss[t]:
            a = acc.setdefault(key, [0, 0])
            a[0] += ws[t]
            a[1] += ss[t]
    total = profile.weight or 1
    rows = [
        {"pid": pid, "comm": comm, "weight": w, "samples": s, "pct": round(100.0 * w / total, 4)}
        for (pid, comm), (w, s) in acc.items()
    ]
    rows.sort(key=lambda r: (-int(str(r["weight"])), int(str(r["pid"]))))
    return rows


def _json_row(r: Row) -> dict[str, object]:
    return {
        "name": r.name,
        "kind": r.kind.value,
        "dso": r.dso,
        "self": r.self_weight,
        "total": r.total_weight,
        "self_samples": r.self_samples,
        "total_samples": r.total_samples,
        "self_pct": round(r.self_pct, 4),
        "total_pct": round(r.total_pct, 4),
        **({"full_names": list(r.full_names)} if r.full_names else {}),
        **({"versions": r.versions} if r.versions else {}),
        **({"cpu_self": r.self_weight - (r.off_self or 0),
            "cpu_total": r.total_weight - r.off_total,
            "off_cpu_self": r.off_self or 0, "off_cpu_total": r.off_total,
            "cpu_total_pct": round(r.total_pct - r.off_total_pct, 4),
            "off_cpu_total_pct": round(r.off_total_pct, 4)}
           if r.off_total is not None else {}),
    }


_ROWS_MARK = "\x00functions\x00"


def to_json(profile: Profile, rows: list[Row]) -> str:
    """The report as JSON (indent 1). The functions are rendered one at a time into the
    document's text (the same text ``json.dumps`` of the whole document gives), so a
    profile of a million functions does not hold a million dicts at once."""
    d = profile.diagnostics
    doc = {
        "jitprof": __version__,
        "inputs": profile.inputs,
        "event": profile.event,
        "samples": profile.samples,
        "weight": profile.weight,
        "weight_unit": "period" if d.has_period else "samples",
        "time": {
            "first": profile.time_first,
            "last": profile.time_last,
            "span": _span(profile),
        },
        "functions": _ROWS_MARK,
        "kinds": kind_summary(profile),
        "dsos": dso_summary(profile),
        "processes": process_summary(profile),
        "diagnostics": dataclasses.asdict(d),
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    mark = json.dumps(_ROWS_MARK)
    if rows:
        body = ",\n".join("  " + json.dumps(_json_row(r), indent=1, ensure_ascii=False)
                          .replace("\n", "\n  ") for r in rows)
        functions = "[\n" + body + "\n ]"
    else:
        functions = "[]"
    return text.replace(mark, functions, 1)


def to_csv(rows: list[Row]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["self_pct", "total_pct", "self", "total", "self_samples", "total_samples",
                "kind", "name", "dso"])
    for r in rows:
        w.writerow([f"{r.self_pct:.4f}", f"{r.total_pct:.4f}", r.self_weight, r.total_weight,
                    r.self_samples, r.total_samples, r.kind.value, r.name, r.dso])
    return buf.getvalue()


def _span(profile: Profile) -> float | None:
    if profile.time_first is None or profile.time_last is None:
        return None
    return round(profile.time_last - profile.time_first, 6)


def header_lines(profile: Profile) -> list[str]:
    """The report header: what was read and how healthy the maps were."""
    d = profile.diagnostics
    unit = "period" if d.has_period else "1 per sample"
    if profile.event in ("off-cpu", "wall"):  # made in ns (jitprof/resolve/offcpu.py)
        unit = "ns"
    out = [f"inputs: {', '.join(profile.inputs)}"]
    out.extend(f"recorded on: {r}" for r in dict.fromkeys(d.recorded_on))
    line = f"event: {profile.event or '(none)'}  samples: {profile.samples:,}  weight: "
    line += f"{profile.weight:,} ({unit})"
    span = _span(profile)
    if span is not None and profile.time_first is not None and profile.time_last is not None:
        line += f"  time: {profile.time_first:.3f}-{profile.time_last:.3f} s ({span:.3f} s)"
    out.append(line)
    out.extend(d.off_cpu)  # issue 17: off-CPU time per state and per thread
    if len(d.events) > 1:
        out.append("other events (use --event): " + ", ".join(
            f"{k} ({v:,})" for k, v in d.events.items() if k != profile.event))
    pct = d.jit_samples_resolved_pct
    out.append(
        f"JIT memory: {d.jit_samples:,} samples"
        + (f", {pct:.1f}% named" if pct is not None else "")
        + f"; JIT frames {d.jit_frames_resolved:,}/{d.jit_frames:,} named"
    )
    for m in d.maps:
        out.append(
            f"map {m.path}: {m.lines:,} lines, {m.bad:,} bad, "
            f"{m.overlapping:,} overlapping, {m.zero_size:,} zero-size"
        )
        out.extend(f"  {bl}" for bl in m.bad_lines[:5])
    out.extend(d.jitdumps)
    if d.elf_frames or d.kernel_frames:  # frames perf left unnamed, named here (issue 3)
        line = (f"ELF symbols: {d.elf_frames_named:,}/{d.elf_frames:,} file frames named"
                f" ({', '.join(d.address_forms) or '-'} addresses) from {len(d.elf_files)} "
                "file(s)")
        if d.kernel_frames:
            line += f"; kernel frames {d.kernel_frames_named:,}/{d.kernel_frames:,} named"
        out.append(line)
    kinds = kind_summary(profile)
    out.append("kinds (self): " + "  ".join(
        f"{k.value} {kinds[k.value]['self_pct']:.1f}%" for k in KIND_ORDER
        if kinds[k.value]["self"]))
    skipped = [
        f"{v:,} {label}"
        for v, label in ((d.unparsed_lines, "unparsed lines"), (d.perf_warnings, "perf messages"),
                         (d.truncated_samples, "truncated samples"))
        if v
    ]
    if skipped:
        out.append("input: " + ", ".join(skipped))
    out.extend(f"  {msg}" for msg in d.messages[:5])
    out.extend(f"WARNING: {w}" for w in d.warnings)
    return out


SELF_N, TOTAL_N = "Self#", "Total#"  # the sample-count columns' headers (docs/report.md)
DSO_WIDTH = 18  # at most; a longer DSO is cut, ending in "~"


def table_lines(rows: list[Row]) -> list[str]:
    """The table's column header and one line per row: self and total % of the weight,
    self and total sample counts (``Self#``, ``Total#``: samples with the function as the
    leaf, and with it anywhere on the stack, counted once per sample), kind, DSO, name.
    The count and DSO columns are as wide as what they show (as perf report sizes its
    columns), so the names start as far left as the rows allow."""
    dsos = [os.path.basename(r.dso) if r.dso.startswith("/") else r.dso for r in rows]
    dsos = [d if len(d) <= DSO_WIDTH else d[: DSO_WIDTH - 1] + "~" for d in dsos]
    w_dso = max([3, *map(len, dsos)])
    w_self = max([len(SELF_N), *(len(str(r.self_samples)) for r in rows)])
    w_total = max([len(TOTAL_N), *(len(str(r.total_samples)) for r in rows)])
    # a wall profile: the total split into running and waiting (shares of all wall time)
    split = any(r.off_total is not None for r in rows)
    lines = [f"# {'Self':>7} {'Total':>7}  "
             + (f"{'CPU':>7} {'Off-CPU':>7}  " if split else "")
             + f"{SELF_N:>{w_self}}  {TOTAL_N:>{w_total}}  {'Kind':<7} {'DSO':<{w_dso}}  Function"]
    for r, dso in zip(rows, dsos, strict=True):
        parts = ""
        if split:
            off = r.off_total_pct
            parts = f"{r.total_pct - off:6.2f}% {off:6.2f}%  "
        lines.append(
            f"  {r.self_pct:6.2f}% {r.total_pct:6.2f}%  {parts}{r.self_samples:{w_self}d}  "
            f"{r.total_samples:{w_total}d}  {r.kind.value:<7} {dso:<{w_dso}}  {r.name}"
        )
    return lines


def to_table(profile: Profile, rows: list[Row], more: int = 0) -> str:
    """The header and the rows; ``more``: functions left out (--top), said at the end."""
    lines = ["# " + h for h in header_lines(profile)]
    lines.append("#")
    lines.extend(table_lines(rows))
    if more:
        lines.append(f"# \u2026 {more:,} more function{'s' if more != 1 else ''} "
                     "(--top 0 for all)")
    return "\n".join(lines) + "\n"


def render(profile: Profile, fmt: str, rows: list[Row], more: int = 0) -> str:
    """``more``: functions left out of ``rows`` (--top): the table says so; json and csv
    hold exactly ``rows``."""
    if fmt == "json":
        return to_json(profile, rows)
    if fmt == "csv":
        return to_csv(rows)
    return to_table(profile, rows, more=more)
