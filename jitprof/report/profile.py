"""Plain reports of a Profile: the hot-function table, JSON (a documented contract) and CSV,
all of ``jitprof.present.rows``' rows under ``jitprof.present.header``'s header."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Sequence
from typing import Literal, get_args

from jitprof import __version__
from jitprof.model import Kind, Profile
from jitprof.present.header import header_lines, time_span, top_summary
from jitprof.present.rows import FunctionRow, SortKey, function_rows, kind_summary


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


def _json_row(r: FunctionRow) -> dict[str, object]:
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
        **({"cpu_self": r.cpu_self, "cpu_total": r.cpu_total,
            "off_cpu_self": r.off_self or 0, "off_cpu_total": r.off_total,
            "cpu_total_pct": round(r.cpu_total_pct, 4),
            "off_cpu_total_pct": round(r.off_total_pct, 4)}
           if r.split else {}),
    }


_ROWS_MARK = "\x00functions\x00"


def to_json(profile: Profile, rows: list[FunctionRow]) -> str:
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
            "span": time_span(profile),
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


def to_csv(rows: list[FunctionRow]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["self_pct", "total_pct", "self", "total", "self_samples", "total_samples",
                "kind", "name", "dso"])
    for r in rows:
        w.writerow([f"{r.self_pct:.4f}", f"{r.total_pct:.4f}", r.self_weight, r.total_weight,
                    r.self_samples, r.total_samples, r.kind.value, r.name, r.dso])
    return buf.getvalue()


SELF_N, TOTAL_N = "Self#", "Total#"  # the sample-count columns' headers (docs/report.md)
DSO_WIDTH = 18  # at most; a longer DSO is cut, ending in "~"


def table_lines(rows: list[FunctionRow]) -> list[str]:
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
    split = any(r.split for r in rows)
    lines = [f"# {'Self':>7} {'Total':>7}  "
             + (f"{'CPU':>7} {'Off-CPU':>7}  " if split else "")
             + f"{SELF_N:>{w_self}}  {TOTAL_N:>{w_total}}  {'Kind':<7} {'DSO':<{w_dso}}  Function"]
    for r, dso in zip(rows, dsos, strict=True):
        parts = ""
        if split:
            parts = f"{r.cpu_total_pct:6.2f}% {r.off_total_pct:6.2f}%  "
        lines.append(
            f"  {r.self_pct:6.2f}% {r.total_pct:6.2f}%  {parts}{r.self_samples:{w_self}d}  "
            f"{r.total_samples:{w_total}d}  {r.kind.value:<7} {dso:<{w_dso}}  {r.name}"
        )
    return lines


def to_table(profile: Profile, rows: list[FunctionRow], more: int = 0) -> str:
    """The header and the rows; ``more``: functions left out (--top), said at the end."""
    lines = ["# " + h for h in header_lines(profile)]
    lines.append("#")
    lines.extend(table_lines(rows))
    if more:
        lines.append(f"# \u2026 {more:,} more function{'s' if more != 1 else ''} "
                     "(--top 0 for all)")
    return "\n".join(lines) + "\n"


ReportFormat = Literal["table", "json", "csv"]
REPORT_FORMATS: tuple[ReportFormat, ...] = get_args(ReportFormat)


def render(profile: Profile, fmt: ReportFormat, rows: list[FunctionRow], more: int = 0
           ) -> str:
    """``more``: functions left out of ``rows`` (--top): the table says so; json and csv
    hold exactly ``rows``."""
    if fmt == "json":
        return to_json(profile, rows)
    if fmt == "csv":
        return to_csv(rows)
    return to_table(profile, rows, more=more)


def top_lines(profile: Profile | None, head: str, sort: SortKey = "self",
              kinds: Sequence[Kind] = (), top: int = 20) -> list[str]:
    """One refresh of ``jitprof top --stdio``: ``head`` (what is watched, over what time)
    with the snapshot's numbers, then the table of its first ``top`` rows."""
    if profile is None:
        return [head + "; no samples yet"]
    rows = function_rows(profile, sort=sort, kinds=kinds, top=top)
    return [f"{head}; {top_summary(profile)}", *table_lines(rows)]

