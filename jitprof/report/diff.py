"""Views of a DiffResult: the one-screen table, JSON (a documented contract), CSV, and
FlameGraph's differential folded text."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Literal, get_args

from jitprof import __version__
from jitprof.analysis.diff import Comparison, DiffResult, Estimate, FunctionDiff, SideInfo
from jitprof.model import OFF_CPU, SYNTHETIC_EVENTS, WALL, Kind
from jitprof.present.diffviews import fmt_q

TextFormat = Literal["table", "json", "csv", "difffolded"]
FORMATS: tuple[TextFormat, ...] = get_args(TextFormat)
NAME_WIDTH = 44  # the table cuts longer names in the middle (JSON/CSV keep them whole)


def select(result: DiffResult, kinds: Sequence[Kind] = (), top: int | None = None
           ) -> list[FunctionDiff]:
    """The rows to show: functions of ``kinds`` (all if empty), largest change first, the
    first ``top``. The statistics stay those of the whole family compared."""
    rows = [f for f in result.functions if not kinds or f.kind in kinds]
    return rows[:top] if top else rows


# -- table --------------------------------------------------------------------------------
def _short(name: str, width: int = NAME_WIDTH) -> str:
    if len(name) <= width:
        return name
    keep = width - 3
    return name[: keep - keep // 3] + "..." + name[len(name) - keep // 3 :]


def _width(result: DiffResult) -> int:
    return 7 if result.normalization.mode == "share" else 9


def _val(v: float, result: DiffResult) -> str:
    if result.normalization.mode == "share":
        return f"{v:6.2f}%"
    return f"{v:9.4g}"


def _delta(v: float, result: DiffResult) -> str:
    if result.normalization.mode == "share":
        return f"{v:+7.2f}"
    return f"{v:+9.3g}"


def _side_line(label: str, s: SideInfo) -> str:
    inputs = ", ".join(s.inputs) if len(s.inputs) <= 3 else (
        f"{', '.join(s.inputs[:2])}, ... ({len(s.inputs)} recordings)")
    line = f"{label} {inputs}: {s.samples:,} {_unit_word(s.event)}"
    if s.span is not None:
        line += f", {s.span:.3f} s"
    if s.cpu_ms is not None:
        line += f", {s.cpu_ms:,.1f} ms {_time_word(s.event)}"
    return line


def _unit_word(event: str) -> str:
    """What a count is: a sample, or for off-cpu and wall a millisecond (jitprof.analysis.diff)."""
    return "ms of samples" if event in SYNTHETIC_EVENTS else "samples"


def _time_word(event: str) -> str:
    return "off-CPU" if event == OFF_CPU else "wall" if event == WALL else "CPU"


def to_table(result: DiffResult, rows: list[FunctionDiff]) -> str:
    n = result.normalization
    what = {"share": "share of each side's samples, delta in points",
            "rate": "samples per second of recording",
            "per": "samples per unit of work"}[n.mode]
    if n.mode == "per" and n.units is not None:
        what += f" ({n.units[0]:g} before, {n.units[1]:g} after)"
    conf = f"{100 * result.confidence:g}%"
    w = _width(result)
    out = [
        "# " + _side_line("before:", result.before),
        "# " + _side_line("after: ", result.after),
        f"# compared: {result.by} time, {what}; event {result.before.event or '(none)'}",
        f"# method: {result.method_note}",
        f"# {conf} intervals; verdicts: Benjamini-Hochberg FDR {100 * result.alpha:g}% over "
        f"{result.compared} functions with {result.by} samples",
        "#",
        f"# {'Kind (self)':<12} {'Before':>{w}} {'After':>{w}} {'Delta':>{w}}  {'Verdict':<16}"
        + (f"{_time_word(result.before.event) + ' ms before->after':>22}  "
           if result.before.cpu_ms is not None else "  ")
        + "of which (biggest change)",
    ]
    for k in result.kinds:
        c = k.cmp
        line = (f"  {k.kind.value:<12} {_val(c.before.value, result)} "
                f"{_val(c.after.value, result)} {_delta(c.delta, result)}  {c.verdict:<16}")
        if result.before.cpu_ms is not None:
            b, a = k.self_ms
            line += f"{(b or 0):>10,.1f} ->{(a or 0):>9,.1f}  "
        else:
            line += "  "
        if k.top is not None:
            line += f"{_short(k.top.name, 40)} {_delta(k.top.self_delta, result).strip()}"
        out.append(line.rstrip())
    out.append("#")
    unit = n.delta_unit
    out.append(f"# {'Before':>{w}} {'After':>{w}} {'Delta':>{w}}  "
               f"{conf + ' CI (' + unit + ')':<18} "
               f"{'q':>6}  {'Verdict':<15} {'Kind':<7} Function")
    for f in rows:
        c = f.cmp
        ci = f"[{_delta(c.delta_lo, result).strip()}, {_delta(c.delta_hi, result).strip()}]"
        out.append(
            f"  {_val(c.before.value, result)} {_val(c.after.value, result)} "
            f"{_delta(c.delta, result)}  {ci:<18} {fmt_q(c.q):>6}  {c.verdict:<15} "
            f"{f.kind.value:<7} {'' if f.status == 'both' else '[' + f.status + '] '}"
            f"{_short(f.name)}")
    hidden = len(result.functions) - len(rows)
    if hidden > 0:
        changed = sum(1 for f in result.functions if f.cmp.verdict != "no clear change")
        shown = sum(1 for f in rows if f.cmp.verdict != "no clear change")
        out.append(f"# ... {hidden} more functions ({changed - shown} of them with a clear "
                   "change); --top 0 shows all")
    return "\n".join(out) + "\n"


# -- JSON / CSV ---------------------------------------------------------------------------
def _num(x: float | None) -> float | None:
    """JSON has no NaN or infinity: null for those (and for values that do not apply)."""
    if x is None or math.isnan(x) or math.isinf(x):
        return None
    return x


def _est(e: Estimate) -> dict[str, object]:
    return {"count": e.count, "value": _num(e.value), "lo": _num(e.lo), "hi": _num(e.hi),
            "design_effect": _num(e.design_effect)}


def _cmp(c: Comparison) -> dict[str, object]:
    return {"before": _est(c.before), "after": _est(c.after), "delta": _num(c.delta),
            "delta_lo": _num(c.delta_lo), "delta_hi": _num(c.delta_hi), "ratio": _num(c.ratio),
            "p": c.p, "q": c.q, "verdict": c.verdict}


def _side(s: SideInfo) -> dict[str, object]:
    return {"inputs": s.inputs, "runs": s.runs, "event": s.event, "samples": s.samples,
            "weight": s.weight, "span": _num(s.span), "cpu_ms": _num(s.cpu_ms),
            "exposure": _num(s.exposure)}


def _pair(t: tuple[float | None, float | None]) -> list[float | None]:
    return [_num(t[0]), _num(t[1])]


def to_json(result: DiffResult, rows: list[FunctionDiff]) -> str:
    n = result.normalization
    doc = {
        "jitprof": __version__,
        "before": _side(result.before),
        "after": _side(result.after),
        "by": result.by,
        "normalize": {"mode": n.mode, "unit": n.unit, "delta_unit": n.delta_unit,
                      "units": list(n.units) if n.units else None},
        "method": result.method,
        "method_note": result.method_note,
        "alpha": result.alpha,
        "confidence": result.confidence,
        "df": result.df,
        "functions_compared": result.compared,
        "kinds": [{"kind": k.kind.value, "self_samples": list(k.self_samples),
                   "self_ms": _pair(k.self_ms), **_cmp(k.cmp),
                   "top": k.top.name if k.top else None,
                   "top_self_delta": _num(k.top.self_delta) if k.top else None}
                  for k in result.kinds],
        "functions": [{"name": f.name, "kind": f.kind.value, "dso": f.dso, "status": f.status,
                       "self_samples": list(f.self_samples),
                       "total_samples": list(f.total_samples),
                       "self_ms": _pair(f.self_ms), "total_ms": _pair(f.total_ms),
                       "self_pct": _pair(f.self_pct), "total_pct": _pair(f.total_pct),
                       "self_delta": _num(f.self_delta), **_cmp(f.cmp)} for f in rows],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


CSV_COLUMNS = (
    "name", "kind", "dso", "status", "self_before", "self_after", "total_before", "total_after",
    "self_pct_before", "self_pct_after", "total_pct_before", "total_pct_after",
    "self_ms_before", "self_ms_after", "value_before", "lo_before", "hi_before", "value_after",
    "lo_after", "hi_after", "delta", "delta_lo", "delta_hi", "ratio", "p", "q", "verdict",
)


def to_csv(result: DiffResult, rows: list[FunctionDiff]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)

    def g(x: float | None) -> str:
        return "" if x is None or math.isnan(x) or math.isinf(x) else f"{x:.6g}"

    for f in rows:
        c = f.cmp
        w.writerow([f.name, f.kind.value, f.dso, f.status, *f.self_samples, *f.total_samples,
                    g(f.self_pct[0]), g(f.self_pct[1]), g(f.total_pct[0]), g(f.total_pct[1]),
                    g(f.self_ms[0]), g(f.self_ms[1]), g(c.before.value), g(c.before.lo),
                    g(c.before.hi), g(c.after.value), g(c.after.lo), g(c.after.hi),
                    g(c.delta), g(c.delta_lo), g(c.delta_hi), g(c.ratio), f"{c.p:.6g}",
                    f"{c.q:.6g}", c.verdict])
    return buf.getvalue()


def to_difffolded(stacks: list[tuple[str, int, int]]) -> str:
    """``stack count_before count_after`` lines (difffolded.pl's output)."""
    return "".join(f"{s} {b} {a}\n" for s, b, a in stacks)


def guess_format(output: str | None) -> TextFormat | None:
    """The format an output file's extension asks for (None: no guess)."""
    if not output:
        return None
    low = output.lower()
    guesses: tuple[tuple[str, TextFormat], ...] = (
        (".json", "json"), (".csv", "csv"), (".folded", "difffolded"), (".txt", "table"))
    for ext, fmt in guesses:
        if low.endswith(ext):
            return fmt
    return None
