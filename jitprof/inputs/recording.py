"""Where a recording was made, and whether this machine's kallsyms and files may name it.

The facts come from ``perf script --header`` comment lines (``# hostname : vm``,
``# os release : 6.1.0-18-amd64``, ...; read by ``parse_header_comment``) and from the
build-ids a perf.data holds (``perf buildid-list``: ``[kernel.kallsyms]`` is the recorded
kernel's). The verdicts are pure functions of those facts and this host's (``this_host``):

- kernel frames perf left unnamed are named from the local kallsyms only when the user gave
  one (``--kallsyms``, or ``--symfs`` holding the recording machine's ``proc/kallsyms``) or
  the recording is surely from this kernel: the recorded kernel build-id is the running
  one's, or the recorded kernel map starts at this kallsyms' ``_text`` (the KASLR slide of
  this boot), or the header's hostname and os release are this host's. Anything that says
  "another kernel" (build-id, os release, hostname, ``_text``) forbids it; nothing known
  forbids it too (a text without ``--header`` or mmap events could be from anywhere);
- file frames are named from local ELF files when the user named the files (``--symfs``,
  ``--binary``), or the recorded build-id matches the file's; without a recorded build-id,
  unless the recording is known to be from another host or kernel.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field, fields

# "# os release : 6.1.0" -> RecordingFacts.os_release
_FACT_KEYS = {"hostname": "hostname", "os release": "os_release",
              "perf version": "perf_version", "arch": "arch", "cmdline": "cmdline",
              "captured on": "captured_on"}


@dataclass(slots=True)
class RecordingFacts:
    """What one input says about where it was recorded (None: it does not say)."""

    hostname: str | None = None
    os_release: str | None = None
    perf_version: str | None = None
    arch: str | None = None
    cmdline: str | None = None
    captured_on: str | None = None
    kernel_build_id: str | None = None  # the recorded [kernel.kallsyms] build-id
    header_lines: int = 0  # perf script --header comment lines read
    extra: dict[str, str] = field(default_factory=dict)  # other "# key : value" lines

    def merge(self, other: RecordingFacts) -> None:
        """Fill what this one lacks from ``other`` (a later piece of the same text)."""
        for f in fields(self):
            if f.name in ("header_lines", "extra"):
                continue
            if getattr(self, f.name) is None:
                setattr(self, f.name, getattr(other, f.name))
        self.header_lines += other.header_lines
        for k, v in other.extra.items():
            self.extra.setdefault(k, v)

    def summary(self) -> str | None:
        """``host vm, kernel 6.1.0, perf 6.1.187, x86_64`` (None if nothing is known)."""
        parts = [f"{label} {v}" for label, v in (
            ("host", self.hostname), ("kernel", self.os_release),
            ("perf", self.perf_version), ("arch", self.arch)) if v]
        return ", ".join(parts) if parts else None


def is_header_comment(line: str) -> bool:
    """A ``perf script --header`` line (``# ========``, ``# hostname : vm``, ``#``) or any
    other comment line perf prints (``# CPU_TOPOLOGY info available, use -I to display``):
    ``#`` then the end of the line, a blank or ``=``."""
    return line[:1] == "#" and (len(line) == 1 or line[1] in " \t=\n\r")


def parse_header_comment(line: str) -> tuple[str, str] | None:
    """``# os release : 6.1.0`` -> (``os release``, ``6.1.0``); None for the rules
    (``# ========``), a bare ``#`` and comments without ``key : value``."""
    if not is_header_comment(line):
        return None
    text = line[1:].strip()
    key, sep, value = text.partition(" : ")
    if not sep:
        if text.endswith(" :"):
            key, value = text[:-2], ""
        else:
            return None
    key = key.strip()
    if not key or key.startswith("="):
        return None
    return key, value.strip()


def note_header_comment(facts: RecordingFacts, line: str) -> None:
    """Read one header comment line into ``facts`` (the first value of a key wins)."""
    facts.header_lines += 1
    kv = parse_header_comment(line)
    if kv is None:
        return
    key, value = kv
    attr = _FACT_KEYS.get(key)
    if attr is not None:
        if getattr(facts, attr) is None and value:
            setattr(facts, attr, value)
    elif len(facts.extra) < 64:
        facts.extra.setdefault(key, value)


# -- this host ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HostFacts:
    hostname: str | None
    os_release: str | None
    kernel_build_id: str | None


def kernel_build_id(notes_path: str = "/sys/kernel/notes") -> str | None:
    """The running kernel's build-id: the GNU build-id note (type 3) in ``notes_path``."""
    try:
        with open(notes_path, "rb") as f:
            data = f.read(1 << 16)
    except OSError:
        return None
    i = 0
    while i + 12 <= len(data):
        namesz = int.from_bytes(data[i : i + 4], "little")
        descsz = int.from_bytes(data[i + 4 : i + 8], "little")
        ntype = int.from_bytes(data[i + 8 : i + 12], "little")
        name_end = i + 12 + namesz
        desc = name_end + (-namesz % 4)
        if namesz > 256 or descsz > 1024:
            return None
        if ntype == 3 and data[i + 12 : name_end].rstrip(b"\0") == b"GNU":
            bid = data[desc : desc + descsz]
            return bid.hex() if len(bid) == descsz and bid else None
        i = desc + descsz + (-descsz % 4)
    return None


def this_host() -> HostFacts:
    u = os.uname()
    return HostFacts(u.nodename or None, u.release or None, kernel_build_id())


# -- verdicts -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether local symbols may name a recording's frames; ``reason`` says why (or why
    not), in words for the report header."""

    trusted: bool
    reason: str


def foreign(recordings: Collection[RecordingFacts], here: HostFacts) -> str | None:
    """Why the recording is known to come from another machine or kernel (None if
    nothing says so)."""
    for r in recordings:
        if r.kernel_build_id and here.kernel_build_id and r.kernel_build_id != here.kernel_build_id:
            return (f"the recorded kernel's build-id {r.kernel_build_id[:12]} is not this "
                    f"kernel's ({here.kernel_build_id[:12]})")
        if r.os_release and here.os_release and r.os_release != here.os_release:
            return f"it was recorded on kernel {r.os_release} (this is {here.os_release})"
        if r.hostname and here.hostname and r.hostname != here.hostname:
            return f"it was recorded on host {r.hostname} (this is {here.hostname})"
    return None


def kernel_verdict(recordings: Collection[RecordingFacts], here: HostFacts, *,
                   kallsyms_given: bool, recorded_text: Collection[int] = (),
                   local_text: int | None = None) -> Verdict:
    """May the local kallsyms name this recording's kernel frames? ``recorded_text``: the
    starts of the recorded ``[kernel.kallsyms]`` maps (mmap events); ``local_text``: the
    local kallsyms' ``_text``."""
    if kallsyms_given:
        return Verdict(True, "the kallsyms given")
    why = foreign(recordings, here)
    if why is not None:
        return Verdict(False, why)
    if recorded_text and local_text is not None:
        if local_text in recorded_text:
            return Verdict(True, "the recorded kernel map starts at this kernel's _text")
        return Verdict(False, "the recorded kernel map does not start at this kernel's "
                              f"_text ({local_text:#x}): another boot or machine")
    if any(r.kernel_build_id for r in recordings) and here.kernel_build_id:
        return Verdict(True, "the recorded kernel build-id is this kernel's")
    if any(r.hostname and r.os_release for r in recordings):
        return Verdict(True, "recorded on this host and kernel (its header says)")
    return Verdict(False, "the input does not say which kernel it was recorded on (no "
                          "perf script --header lines, kernel build-id or kernel mmap event)")


def file_verdict(recordings: Collection[RecordingFacts], here: HostFacts, *,
                 explicit: bool, recorded_build_id: str | None = None,
                 local_build_id: str | None = None) -> Verdict:
    """May a local ELF file name this recording's frames of that file? ``explicit``: the
    user named where the files are (``--symfs``, ``--binary``)."""
    if explicit:
        return Verdict(True, "the file given")
    if recorded_build_id and local_build_id:
        if recorded_build_id == local_build_id:
            return Verdict(True, "its build-id is the recorded one")
        return Verdict(False, f"its build-id {local_build_id[:12]} is not the recorded "
                              f"{recorded_build_id[:12]}")
    why = foreign(recordings, here)
    if why is not None:
        return Verdict(False, why)
    return Verdict(True, "no recorded build-id; the recording is not known to be from "
                         "another host")
