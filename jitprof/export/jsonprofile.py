"""The jitprof JSON profile as an exporter (the format jitprof reads back as input)."""

from __future__ import annotations

import io
from typing import BinaryIO

from jitprof.export.base import Exporter
from jitprof.inputs.profilefile import write_profile_json
from jitprof.model import Profile


class JsonProfileExporter(Exporter):
    name = "json"
    extensions = (".json",)
    description = "jitprof's own profile, read back by every jitprof command"

    def write(self, profile: Profile, out: BinaryIO) -> None:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=True)
        write_profile_json(profile, text)
        text.flush()
        text.detach()
