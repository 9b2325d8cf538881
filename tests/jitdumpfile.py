"""Write jitdump files for tests, field by field from the specification (an independent
writer: it shares no code with jitprof.symbols.jitdump)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = 0x4A695444


@dataclass
class Load:
    time_ns: int
    addr: int
    size: int
    name: str
    index: int = 0
    code: bytes | None = None  # default: size bytes of int3


@dataclass
class Move:
    time_ns: int
    old: int
    new: int
    size: int
    index: int


@dataclass
class DebugInfo:
    time_ns: int
    code_addr: int
    entries: list[tuple[int, int, int, str | bytes]]  # (addr, line, discrim, file or "\xff")


@dataclass
class Raw:
    """Any record: id and payload as given (unknown records, broken sizes)."""

    rid: int
    payload: bytes
    time_ns: int = 0
    size: int | None = None  # the total_size field, default the true size


@dataclass
class Dump:
    pid: int
    records: list[object] = field(default_factory=list)
    byte_order: str = "<"
    flags: int = 0
    elf_mach: int = 62
    closed: bool = True
    pad1: int = 0  # V8 writes 0xDEADBEEF (and biases DEBUG_INFO addresses by 0x40)

    def encode(self) -> bytes:
        bo = self.byte_order
        out = bytearray(struct.pack(bo + "IIIIIIQQ", MAGIC, 1, 40, self.elf_mach, self.pad1,
                                    self.pid, 1234567, self.flags))
        recs = list(self.records)
        if self.closed:
            recs.append(Raw(3, b"", recs[-1].time_ns if recs else 0))  # type: ignore[attr-defined]
        for r in recs:
            if isinstance(r, Load):
                code = r.code if r.code is not None else b"\xcc" * r.size
                name = r.name.encode() + b"\0"
                pad = b"\0" * (-(16 + 40 + len(name)) % 8)  # HHVM pads the name to 8 bytes
                payload = struct.pack(bo + "IIQQQQ", self.pid, self.pid, r.addr, r.addr,
                                      r.size, r.index) + name + pad + code
                out += struct.pack(bo + "IIQ", 0, 16 + len(payload), r.time_ns) + payload
            elif isinstance(r, Move):
                payload = struct.pack(bo + "IIQQQQQ", self.pid, self.pid, r.new, r.old, r.new,
                                      r.size, r.index)
                out += struct.pack(bo + "IIQ", 1, 16 + len(payload), r.time_ns) + payload
            elif isinstance(r, DebugInfo):
                payload = struct.pack(bo + "QQ", r.code_addr, len(r.entries))
                for addr, line, discrim, fname in r.entries:
                    raw = (fname if isinstance(fname, bytes) else
                           b"\xff" if fname == "\xff" else fname.encode())
                    payload += struct.pack(bo + "Qii", addr, line, discrim) + raw + b"\0"
                payload += b"\0" * (-(16 + len(payload)) % 8)
                out += struct.pack(bo + "IIQ", 2, 16 + len(payload), r.time_ns) + payload
            elif isinstance(r, Raw):
                size = 16 + len(r.payload) if r.size is None else r.size
                out += struct.pack(bo + "IIQ", r.rid, size, r.time_ns) + r.payload
            else:
                raise TypeError(r)
        return bytes(out)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.encode())
        return path
