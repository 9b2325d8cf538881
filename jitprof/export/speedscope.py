"""speedscope's file format (https://www.speedscope.app/file-format-schema.json).

One "sampled" profile per thread (pid, comm) by default, or one for all (``per_thread``
False); frames are shared (``shared.frames``, name and dso as ``file``); each stack is
written once with its summed weight (speedscope adds the weights of equal stacks, so the
flame graph and the sandwich view are the same as one entry per sample). Stacks are
root first, as the schema wants. Weights are periods (unit "nanoseconds" for cpu-clock and
task-clock, "none" for other events) or samples ("none").
"""

from __future__ import annotations

from typing import Any, BinaryIO

from jitprof import __version__
from jitprof.export.base import Exporter, weight_unit
from jitprof.inputs.profilefile import json_text
from jitprof.model import Profile

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


class SpeedscopeExporter(Exporter):
    name = "speedscope"
    extensions = (".speedscope.json",)
    description = "speedscope (https://www.speedscope.app) JSON"

    def document(self, profile: Profile) -> dict[str, Any]:
        by_period = self.options.by_period(profile)
        unit = "nanoseconds" if weight_unit(profile, by_period) == "nanoseconds" else "none"
        frames: list[dict[str, str]] = [{"name": f.name or "[unknown]", "file": f.dso}
                                        for f in profile.frames]
        no_stack = -1
        per_thread = self.options.per_thread is not False
        groups: dict[int, list[tuple[list[int], int]]] = {}
        for stack, w, s, t in profile.iter_stacks():
            if not stack and no_stack < 0:
                no_stack = len(frames)
                frames.append({"name": "[no stack]", "file": "[unknown]"})
            ids = [*reversed(stack)] if stack else [no_stack]
            groups.setdefault(t if per_thread else 0, []).append((ids, w if by_period else s))
        profiles = []
        totals = {k: sum(w for _, w in v) for k, v in groups.items()}
        for key in sorted(groups, key=lambda k: (-totals[k], k)):  # heaviest opens first
            entries = groups[key]
            total = totals[key]
            if per_thread:
                pid, comm = profile.threads[key]
                name = f"{comm} (pid {pid})"
            else:
                name = profile.event or "profile"
            profiles.append({
                "type": "sampled",
                "name": name,
                "unit": unit,
                "startValue": 0,
                "endValue": total,
                "samples": [ids for ids, _ in entries],
                "weights": [w for _, w in entries],
            })
        title = f"{profile.event} of " + ", ".join(profile.inputs) if profile.inputs else (
            profile.event or "jitprof profile")
        return {
            "$schema": SCHEMA,
            "shared": {"frames": frames},
            "profiles": profiles,
            "name": title,
            "activeProfileIndex": 0,
            "exporter": f"jitprof {__version__}",
        }

    def write(self, profile: Profile, out: BinaryIO) -> None:
        out.write(json_text(self.document(profile)).encode("utf-8") + b"\n")
