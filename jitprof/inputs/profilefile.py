"""The jitprof JSON profile: a Profile written to a file and read back exactly.

Schema (``"format": "jitprof-profile"``, ``"version": 1``; docs/json-contract.md):

  event        the perf event the weights are of
  weight_unit  "period" (weights are perf periods) or "samples" (1 per sample)
  time         {"first", "last"}: perf timestamps in seconds, or null
  inputs       what the profile was made from
  threads      [[pid, comm], ...]
  frames       [[name, kind, dso], ...]  kind is one of jitprof's kinds (Kind values)
  full_names   optional {"frame index": [full demangled C++ forms]} (ELF-named frames)
  versions     optional {"frame index": n}: pieces of JIT code named as that frame (> 1)
  stacks       [[thread, weight, samples, [frame, ...]], ...]  frames leaf first,
               indexes into ``frames``; thread indexes ``threads``
  diagnostics  how the input was read (the ``diagnostics`` object of ``report --format json``)

Reading checks every field; a bad file is an InputError naming the file and the line of
the offending value. Unknown top-level keys are ignored (later minor additions); another
``version`` is refused.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar

from jitprof import __version__
from jitprof.errors import InputError
from jitprof.inputs.classify import is_profile_json
from jitprof.model import (
    ElfFileHealth,
    Frame,
    Kind,
    MapHealth,
    Profile,
    ProfileDiagnostics,
    StackTreeBuilder,
)

FORMAT = "jitprof-profile"
VERSION = 1
_KINDS = {k.value: k for k in Kind}

_MAP_INTS = ("lines", "entries", "bad", "overlapping", "zero_size")


def json_text(x: object) -> str:
    """Compact JSON, UTF-8 as is; a string holding undecodable input bytes (lone surrogates
    from perf text read with surrogateescape) is \\u-escaped instead, so the file stays
    valid UTF-8 and reads back to the same string."""
    text = json.dumps(x, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(x, ensure_ascii=True, separators=(",", ":"))
    return text


# -- writing --------------------------------------------------------------------------------
def _diag_doc(d: ProfileDiagnostics) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(ProfileDiagnostics):
        v = getattr(d, f.name)
        out[f.name] = ([dataclasses.asdict(m) for m in v]
                       if f.type in ("list[MapHealth]", "list[ElfFileHealth]") else v)
    return out


def write_profile_json(profile: Profile, out: IO[str]) -> None:
    """Write ``profile``: one frame, thread or stack per line, so a diff reads well."""
    dump = json_text

    def block(key: str, items: list[str], last: bool = False) -> None:
        out.write(f' "{key}": [')
        if items:
            out.write("\n  " + ",\n  ".join(items) + "\n ")
        out.write("]" + ("\n" if last else ",\n"))

    head = {
        "format": FORMAT,
        "version": VERSION,
        "jitprof": __version__,
        "event": profile.event,
        "weight_unit": "period" if profile.diagnostics.has_period else "samples",
        "samples": profile.samples,
        "weight": profile.weight,
        "time": {"first": profile.time_first, "last": profile.time_last},
        "inputs": list(profile.inputs),
        "diagnostics": _diag_doc(profile.diagnostics),
    }
    if profile.full_names:  # frame index -> full C++ forms (optional)
        head["full_names"] = {str(k): list(v) for k, v in sorted(profile.full_names.items())}
    if profile.versions:  # frame index -> compiled versions (optional)
        head["versions"] = {str(k): v for k, v in sorted(profile.versions.items())}
    out.write("{\n")
    for k, v in head.items():
        out.write(f" {dump(k)}: {dump(v)},\n")
    block("threads", [dump([pid, comm]) for pid, comm in profile.threads])
    block("frames", [dump([f.name, f.kind.value, f.dso]) for f in profile.frames])
    block("stacks", [dump([t, w, s, list(st)]) for st, w, s, t in profile.iter_stacks()],
          last=True)
    out.write("}\n")


def profile_json(profile: Profile) -> str:
    import io

    buf = io.StringIO()
    write_profile_json(profile, buf)
    return buf.getvalue()


# -- reading --------------------------------------------------------------------------------
class _Bad(Exception):
    def __init__(self, where: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def _path_text(where: tuple[str | int, ...]) -> str:
    out = ""
    for p in where:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _locate(text: str, where: tuple[str | int, ...]) -> int:
    """Character offset of the value at ``where`` (keys and indexes), found by skipping
    sibling values with the C decoder; the offset of the deepest part found."""
    dec = json.JSONDecoder()
    ws = " \t\n\r"
    pos = 0
    n = len(text)

    def skip_ws(i: int) -> int:
        while i < n and text[i] in ws:
            i += 1
        return i

    pos = skip_ws(pos)
    for part in where:
        if pos >= n:
            break
        try:
            if isinstance(part, str) and text[pos] == "{":
                i = skip_ws(pos + 1)
                found = False
                while i < n and text[i] != "}":
                    key, i = dec.raw_decode(text, i)
                    i = skip_ws(i)
                    i = skip_ws(i + 1)  # the colon
                    if key == part:
                        pos, found = i, True
                        break
                    _, i = dec.raw_decode(text, i)
                    i = skip_ws(i)
                    if i < n and text[i] == ",":
                        i = skip_ws(i + 1)
                if not found:
                    break
            elif isinstance(part, int) and text[pos] == "[":
                i = skip_ws(pos + 1)
                for _ in range(part):
                    _, i = dec.raw_decode(text, i)
                    i = skip_ws(i)
                    i = skip_ws(i + 1)  # the comma
                pos = i
            else:
                break
        except (ValueError, IndexError):
            break
    return pos


def _int(v: Any, where: tuple[str | int, ...], minimum: int | None = 0) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise _Bad(where, f"expected an integer, got {json.dumps(v)[:40]}")
    if minimum is not None and v < minimum:
        raise _Bad(where, f"expected an integer >= {minimum}, got {v}")
    return v


def _str(v: Any, where: tuple[str | int, ...]) -> str:
    if not isinstance(v, str):
        raise _Bad(where, f"expected a string, got {json.dumps(v)[:40]}")
    return v


def _num(v: Any, where: tuple[str | int, ...]) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _Bad(where, f"expected a number or null, got {json.dumps(v)[:40]}")
    return v  # ints stay ints: equality with the written profile is exact


def _list(v: Any, where: tuple[str | int, ...], size: int | None = None) -> list[Any]:
    if not isinstance(v, list):
        raise _Bad(where, f"expected an array, got {json.dumps(v)[:40]}")
    if size is not None and len(v) != size:
        raise _Bad(where, f"expected an array of {size} items, got {len(v)}")
    return v


def _obj(v: Any, where: tuple[str | int, ...]) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _Bad(where, f"expected an object, got {json.dumps(v)[:40]}")
    return v


def _diagnostics(doc: dict[str, Any]) -> ProfileDiagnostics:
    """Every field of ProfileDiagnostics, checked by its declared type; missing ones keep
    their defaults (older files), unknown ones are ignored."""
    d = ProfileDiagnostics()
    for f in dataclasses.fields(ProfileDiagnostics):
        if f.name not in doc:
            continue
        w: tuple[str | int, ...] = ("diagnostics", f.name)
        v = doc[f.name]
        if f.type == "int":
            setattr(d, f.name, _int(v, w))
        elif f.type == "bool":
            if not isinstance(v, bool):
                raise _Bad(w, "expected true or false")
            setattr(d, f.name, v)
        elif f.type == "float | None":
            num = _num(v, w)
            setattr(d, f.name, None if num is None else float(num))
        elif f.type == "dict[str, int]":
            setattr(d, f.name, {k: _int(n, (*w, k)) for k, n in _obj(v, w).items()})
        elif f.type == "list[int]":
            setattr(d, f.name, [_int(x, (*w, j), None) for j, x in enumerate(_list(v, w))])
        elif f.type == "list[str]":
            setattr(d, f.name, [_str(x, (*w, j)) for j, x in enumerate(_list(v, w))])
        elif f.type == "list[MapHealth]":
            setattr(d, f.name, [_map_health(m, (*w, j)) for j, m in enumerate(_list(v, w))])
        elif f.type == "list[ElfFileHealth]":
            setattr(d, f.name, [_elf_health(m, (*w, j)) for j, m in enumerate(_list(v, w))])
        else:  # a field type this reader does not know: tests/test_profilefile.py catches it
            raise TypeError(f"ProfileDiagnostics.{f.name}: type {f.type} not handled")
    return d


def _elf_health(m: Any, mw: tuple[str | int, ...]) -> ElfFileHealth:
    """An ``elf_files`` entry: every field by its declared type."""
    m = _obj(m, mw)
    vals: dict[str, Any] = {}
    for f in dataclasses.fields(ElfFileHealth):
        if f.name not in m:
            raise _Bad(mw, f"ELF file entry without {f.name!r}")
        v = m[f.name]
        fw = (*mw, f.name)
        if f.type == "int":
            vals[f.name] = _int(v, fw)
        elif f.type == "bool":
            if not isinstance(v, bool):
                raise _Bad(fw, "expected true or false")
            vals[f.name] = v
        elif f.type == "str":
            vals[f.name] = _str(v, fw)
        else:  # "str | None"
            vals[f.name] = None if v is None else _str(v, fw)
    return ElfFileHealth(**vals)


def _map_health(m: Any, mw: tuple[str | int, ...]) -> MapHealth:
    m = _obj(m, mw)
    try:
        lines, entries, bad, overlapping, zero_size = (_int(m[k], (*mw, k)) for k in _MAP_INTS)
        pid = None if m["pid"] is None else _int(m["pid"], (*mw, "pid"))
        mtime = _num(m["mtime"], (*mw, "mtime"))
        bad_lines = [_str(x, (*mw, "bad_lines", j))
                     for j, x in enumerate(_list(m["bad_lines"], (*mw, "bad_lines")))]
        path = _str(m["path"], (*mw, "path"))
    except KeyError as e:
        raise _Bad(mw, f"map without {e.args[0]!r}") from None
    return MapHealth(path, pid, lines, entries, bad, overlapping, zero_size,
                     None if mtime is None else float(mtime), bad_lines)


_T = TypeVar("_T")


def _profile(doc: Any) -> Profile:
    doc = _obj(doc, ())
    _check_format(doc)
    p = Profile(event=_str(doc["event"], ("event",)))
    p.diagnostics = _diagnostics(_obj(doc.get("diagnostics", {}), ("diagnostics",)))
    unit = doc.get("weight_unit", "period" if p.diagnostics.has_period else "samples")
    if unit not in ("period", "samples") or (unit == "period") != p.diagnostics.has_period:
        raise _Bad(("weight_unit",), f"weight_unit {unit!r} disagrees with "
                                     f"diagnostics.has_period {p.diagnostics.has_period}")
    t = _obj(doc.get("time", {}), ("time",))
    first = _num(t.get("first"), ("time", "first"))
    last = _num(t.get("last"), ("time", "last"))
    p.time_first = None if first is None else float(first)
    p.time_last = None if last is None else float(last)
    p.inputs = [_str(x, ("inputs", i)) for i, x in enumerate(_list(doc.get("inputs", []),
                                                                     ("inputs",)))]
    for i, th in enumerate(_list(doc["threads"], ("threads",))):
        th = _list(th, ("threads", i), 2)
        p.threads.append((_int(th[0], ("threads", i, 0), None), _str(th[1], ("threads", i, 1))))
    p.frames.extend(_frames(doc["frames"]))
    nframes, nthreads = len(p.frames), len(p.threads)
    p.full_names.update(_per_frame(doc, "full_names", nframes, lambda v, w: tuple(
        _str(x, (*w, j)) for j, x in enumerate(_list(v, w)))))
    p.versions.update(_per_frame(doc, "versions", nframes, lambda v, w: _int(v, w, 2)))
    p.set_tables(*_stack_tables(doc["stacks"], nframes, nthreads))
    for key, value in (("samples", p.samples), ("weight", p.weight)):
        if key in doc and doc[key] != value:
            raise _Bad((key,), f"{key} {doc[key]!r} is not the sum over stacks ({value})")
    return p


def _check_format(doc: dict[str, Any]) -> None:
    """A jitprof profile of the version this jitprof reads, with its four tables."""
    if doc.get("format") != FORMAT:
        hint = ""
        if "speedscope" in str(doc.get("$schema", "")):
            hint = ": a speedscope file (jitprof reads its own JSON profiles)"
        raise _Bad(("format",) if "format" in doc else (),
                   f'not a jitprof profile (no "format": "{FORMAT}"){hint}')
    if doc.get("version") != VERSION:
        raise _Bad(("version",), f"profile version {doc.get('version')!r} is not supported "
                                 f"(this jitprof reads version {VERSION})")
    for key in ("event", "threads", "frames", "stacks"):
        if key not in doc:
            raise _Bad((), f"no {key!r}")


def _frames(doc_frames: Any) -> list[Frame]:
    """The frame table: [name, kind, dso] each, no frame twice."""
    out: list[Frame] = []
    seen_frames: set[Frame] = set()
    for i, fr in enumerate(_list(doc_frames, ("frames",))):
        fr = _list(fr, ("frames", i), 3)
        kind = _KINDS.get(fr[1]) if isinstance(fr[1], str) else None
        if kind is None:
            raise _Bad(("frames", i, 1), f"unknown kind {json.dumps(fr[1])[:40]} (one of "
                                         + ", ".join(_KINDS) + ")")
        frame = Frame(_str(fr[0], ("frames", i, 0)), kind, _str(fr[2], ("frames", i, 2)))
        if frame in seen_frames:
            raise _Bad(("frames", i), "the same frame twice")
        seen_frames.add(frame)
        out.append(frame)
    return out


def _per_frame(doc: dict[str, Any], key: str, nframes: int,
               value: Callable[[Any, tuple[str | int, ...]], _T]) -> dict[int, _T]:
    """An object keyed by frame id (``full_names``, ``versions``), each value read by
    ``value(json value, where)``."""
    out: dict[int, _T] = {}
    for k, v in _obj(doc.get(key, {}), (key,)).items():
        fid = int(k) if k.isdigit() else -1
        if not 0 <= fid < nframes:
            raise _Bad((key, k), f"frame {k!r} out of range (there are {nframes})")
        out[fid] = value(v, (key, k))
    return out


def _stack_tables(doc_stacks: Any, nframes: int, nthreads: int
                  ) -> tuple[list[int], list[int], list[int], list[int], list[int], list[int]]:
    """The stacks ([thread, weight, samples, frame ids leaf first] each, no (thread,
    stack) twice) as ``Profile.set_tables``' columns: node prefix and frame, and per
    group its node, thread, weight and samples."""
    seen_stacks: set[tuple[int, tuple[int, ...]]] = set()
    builder = StackTreeBuilder()
    nodes: list[int] = []
    g_thread: list[int] = []
    g_weight: list[int] = []
    g_samples: list[int] = []
    for i, st in enumerate(_list(doc_stacks, ("stacks",))):
        w = ("stacks", i)
        st = _list(st, w, 4)
        thread = _int(st[0], (*w, 0))
        if thread >= nthreads:
            raise _Bad((*w, 0), f"thread {thread} out of range (there are {nthreads})")
        weight = _int(st[1], (*w, 1))
        samples = _int(st[2], (*w, 2), 1)
        ids = _list(st[3], (*w, 3))
        for j, fid in enumerate(ids):
            if _int(fid, (*w, 3, j)) >= nframes:
                raise _Bad((*w, 3, j), f"frame {fid} out of range (there are {nframes})")
        skey = (thread, tuple(ids))
        if skey in seen_stacks:
            raise _Bad(w, "the same stack and thread twice")
        seen_stacks.add(skey)
        nodes.append(builder.node(skey[1]))
        g_thread.append(thread)
        g_weight.append(weight)
        g_samples.append(samples)
    return builder.node_prefix, builder.node_frame, nodes, g_thread, g_weight, g_samples


def parse_profile_json(text: str, path: str) -> Profile:
    """Parse the text of a jitprof JSON profile; InputError at ``path:line`` if bad."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(path, f"not valid JSON: {e.msg} (column {e.colno})", e.lineno) from None
    try:
        return _profile(doc)
    except _Bad as e:
        pos = _locate(text, e.where)
        lineno = text.count("\n", 0, pos) + 1
        what = _path_text(e.where)
        raise InputError(path, (f"{what}: " if what else "") + e.message, lineno) from None


def read_profile_json(path: str) -> Profile:
    """Read one jitprof JSON profile file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text (byte {e.start})") from None
    return parse_profile_json(text, path)


def load_profile_inputs(inputs: Sequence[str], perf_inputs_loader: Any,
                        event: str | None = None, pids: Sequence[int] = (),
                        comms: Sequence[str] = ()) -> Profile:
    """Inputs that mix JSON profiles and perf input: the perf inputs are loaded by
    ``perf_inputs_loader(paths)`` (the usual pipeline, unfiltered), the JSON ones read,
    all merged. ``event`` must match each JSON profile's event; ``pids``/``comms`` then
    select processes (pid, comm) of the merged profile."""
    from jitprof.errors import EmptyInputError
    from jitprof.model.merge import merge_profiles, select_threads

    profiles: list[Profile] = []
    perf = [p for p in inputs if not is_profile_json(p)]
    if perf:  # filtered after the merge, like the JSON profiles
        profiles.append(perf_inputs_loader(perf))
    for path in inputs:
        if not is_profile_json(path):
            continue
        prof = read_profile_json(path)
        if event is not None and event not in (prof.event, prof.event.split(":")[0],
                                               prof.event.split("/")[0]):
            raise EmptyInputError(path, f"no samples of event {event!r} (the profile is of "
                                        f"{prof.event!r})")
        profiles.append(prof)
    where = ", ".join(inputs)
    return select_threads(merge_profiles(profiles, where=where), pids, comms, where=where)
