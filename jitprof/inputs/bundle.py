"""Recording bundles: the directory layout, the manifest, and reading a bundle as input.

A bundle (written by ``jitprof record``, jitprof/acquire/record.py) is a directory::

    manifest.json            format, versions, command, host, times, processes, file hashes
    perf.data                perf record -g output (read natively: jitprof.parse.perfdata)
    perf.script.gz           perf script --show-mmap-events --show-task-events (gzip):
                             only with ``record --with-script``, and in older bundles
    buildids.txt             what perf buildid-list -i perf.data prints
    perf-record.log          perf record's messages
    maps/perf-<pid>.map      each recorded process's perf map (host pid)
    jitdump/jit-<pid>.dump   jitdump files, when the process had one
    proc/<pid>/{maps,cmdline,status}   as /proc showed them while recording

Reading one as input uses its perf.data and its own maps only (never /tmp: the process
is gone and its pid may have been reused) and checks every file against the manifest's
sha256 (a mismatch is a warning: the numbers may not be what was recorded). A bundle that
has perf script's text too (older bundles; ``--with-script``) is read through the text:
perf named its file and kernel frames where it was recorded, so it reads the same on a
machine without those binaries; ``--perf-data-reader native`` reads its perf.data instead
(the same numbers on the recording host, read several times faster).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jitprof.errors import InputError

FORMAT = "jitprof-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PERF_DATA = "perf.data"
SCRIPT = "perf.script.gz"
BUILDIDS = "buildids.txt"
PERF_LOG = "perf-record.log"
MAPS_DIR = "maps"
JITDUMP_DIR = "jitdump"
PROC_DIR = "proc"


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def file_list(root: str) -> list[dict[str, Any]]:
    """Every file under ``root`` but the manifest: relative path, bytes, sha256 (sorted)."""
    out: list[dict[str, Any]] = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(d, name)
            rel = os.path.relpath(full, root)
            if rel == MANIFEST:
                continue
            out.append({"path": rel, "bytes": os.path.getsize(full), "sha256": sha256_file(full)})
    return out


def is_bundle(path: str) -> bool:
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, MANIFEST))


def read_manifest(root: str) -> dict[str, Any]:
    path = os.path.join(root, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from None
    except ValueError as e:
        raise InputError(path, f"not a jitprof bundle manifest (bad JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(path, f"not a jitprof bundle manifest (no \"format\": \"{FORMAT}\")")
    if not isinstance(doc.get("version"), int) or doc["version"] > FORMAT_VERSION:
        raise InputError(path, f"bundle format version {doc.get('version')!r} is newer than "
                         f"this jitprof reads ({FORMAT_VERSION}): upgrade jitprof")
    if not isinstance(doc.get("files"), list):
        raise InputError(path, "manifest has no file list")
    return doc


def verify(root: str, manifest: dict[str, Any]) -> list[str]:
    """Problems with the files against the manifest (missing, changed, unlisted)."""
    problems: list[str] = []
    listed: set[str] = set()
    for entry in manifest["files"]:
        rel = str(entry.get("path", ""))
        listed.add(rel)
        full = os.path.join(root, rel)
        if not os.path.isfile(full):
            problems.append(f"{full}: listed in the manifest but missing")
        elif sha256_file(full) != entry.get("sha256"):
            problems.append(f"{full}: sha256 does not match the manifest (changed since it "
                            "was recorded)")
    for entry in file_list_names(root):
        if entry not in listed:
            problems.append(f"{os.path.join(root, entry)}: not in the manifest")
    return problems


def file_list_names(root: str) -> list[str]:
    out: list[str] = []
    for d, _dirs, files in os.walk(root):
        for name in files:
            rel = os.path.relpath(os.path.join(d, name), root)
            if rel != MANIFEST:
                out.append(rel)
    return sorted(out)


@dataclass(slots=True)
class BundleInputs:
    """Inputs with bundles replaced by their script text; their map dirs; warnings."""

    inputs: list[str] = field(default_factory=list)
    map_dirs: list[str] = field(default_factory=list)
    bundles: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def expand_inputs(inputs: Sequence[str], prefer_data: bool = False) -> BundleInputs:
    """Replace each bundle directory in ``inputs`` by its perf script text if it has one
    (and ``prefer_data`` is false), else its perf.data, and collect its ``maps/`` and
    ``jitdump/`` directories; check its hashes."""
    out = BundleInputs()
    for p in inputs:
        if p == "-" or not os.path.isdir(p):
            out.inputs.append(p)
            continue
        if not is_bundle(p):
            raise InputError(p, "is a directory but not a jitprof bundle (no manifest.json; "
                             "give the perf script text or perf.data inside it)")
        manifest = read_manifest(p)
        out.bundles.append(p)
        out.warnings.extend(verify(p, manifest))
        script = os.path.join(p, SCRIPT)
        data = os.path.join(p, PERF_DATA)
        if os.path.isfile(script) and not (prefer_data and os.path.isfile(data)):
            out.inputs.append(script)
        elif os.path.isfile(data):
            out.inputs.append(data)
        else:
            raise InputError(p, f"bundle has neither {SCRIPT} nor {PERF_DATA}")
        for sub in (MAPS_DIR, JITDUMP_DIR):  # perf-<pid>.map, jit-<pid>.dump
            d = os.path.join(p, sub)
            if os.path.isdir(d):
                out.map_dirs.append(d)
    return out
