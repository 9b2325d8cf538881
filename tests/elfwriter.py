"""A minimal ELF writer for tests: ELF32/ELF64, either byte order, chosen symbols and
segments, so each symbol-table rule can be tested on a file whose contents are known."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

ET_EXEC, ET_DYN = 2, 3
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_GNU_IFUNC = 0, 1, 2, 10
STV_DEFAULT, STV_HIDDEN = 0, 2
PF_X, PF_W, PF_R = 1, 2, 4

TEXT = 1  # section indexes in the file written
DATA = 2
SHN_UNDEF = 0
SHN_ABS = 0xFFF1


@dataclass
class Sym:
    name: str
    value: int
    size: int = 0
    bind: int = STB_GLOBAL
    type: int = STT_FUNC
    shndx: int = TEXT
    other: int = STV_DEFAULT


@dataclass
class Elf:
    cls: int = 64
    little: bool = True
    etype: int = ET_DYN
    machine: int = 62  # EM_X86_64
    text_vaddr: int = 0x1000
    text_offset: int = 0x1000
    text_size: int = 0x1000
    symbols: list[Sym] = field(default_factory=list)
    segments: list[tuple[int, int, int, int]] | None = None  # (offset, vaddr, filesz, flags)
    build_id: bytes | None = None
    debuglink: tuple[str, int] | None = None
    dynsym: bool = False  # symbols in .dynsym instead of .symtab
    no_symbols: bool = False  # neither table

    def write(self, path: Path) -> Path:
        e = "<" if self.little else ">"
        is64 = self.cls == 64
        ehsize, phentsize, shentsize = (64, 56, 64) if is64 else (52, 32, 40)
        segs = self.segments
        if segs is None:
            segs = [(0, self.text_vaddr - self.text_offset, self.text_offset, PF_R),
                    (self.text_offset, self.text_vaddr, self.text_size, PF_R | PF_X)]
        body = bytearray(b"\0" * (self.text_offset + self.text_size))
        sections: list[tuple[str, int, int, int, int, int, int, int, int]] = []
        # (name, type, flags, addr, offset, size, link, info, entsize)
        sections.append(("", 0, 0, 0, 0, 0, 0, 0, 0))
        sections.append((".text", 1, 0x6, self.text_vaddr, self.text_offset, self.text_size,
                         0, 0, 0))
        data_off = len(body)
        body += b"\0" * 0x100
        sections.append((".data", 1, 0x3, self.text_vaddr + 0x100000, data_off, 0x100, 0, 0, 0))

        def add(name: str, stype: int, flags: int, data: bytes, link: int = 0,
                info: int = 0, entsize: int = 0) -> None:
            while len(body) % 8:
                body.append(0)
            off = len(body)
            body.extend(data)
            sections.append((name, stype, flags, 0, off, len(data), link, info, entsize))

        if self.build_id is not None:
            note = struct.pack(e + "III", 4, len(self.build_id), 3) + b"GNU\0" + self.build_id
            add(".note.gnu.build-id", 7, 0x2, note)
        if self.debuglink is not None:
            name, crc = self.debuglink
            raw = name.encode() + b"\0"
            raw += b"\0" * (-len(raw) % 4)
            add(".gnu_debuglink", 1, 0, raw + struct.pack(e + "I", crc))
        if not self.no_symbols:
            strtab = bytearray(b"\0")
            entries = [b"\0" * (24 if is64 else 16)]
            for s in self.symbols:
                off = len(strtab)
                strtab += s.name.encode() + b"\0"
                info = (s.bind << 4) | s.type
                if is64:
                    entries.append(struct.pack(e + "IBBHQQ", off, info, s.other, s.shndx,
                                               s.value, s.size))
                else:
                    entries.append(struct.pack(e + "IIIBBH", off, s.value, s.size, info,
                                               s.other, s.shndx))
            symidx = len(sections)
            add(".dynsym" if self.dynsym else ".symtab", 11 if self.dynsym else 2,
                0x2 if self.dynsym else 0, b"".join(entries), link=symidx + 1, info=1,
                entsize=24 if is64 else 16)
            add(".dynstr" if self.dynsym else ".strtab", 3, 0, bytes(strtab))
        shstr = bytearray(b"\0")
        name_offs = []
        for s in sections:
            if s[0]:
                name_offs.append(len(shstr))
                shstr += s[0].encode() + b"\0"
            else:
                name_offs.append(0)
        name_offs.append(len(shstr))
        shstr += b".shstrtab\0"
        add(".shstrtab", 3, 0, bytes(shstr))
        while len(body) % 8:
            body.append(0)
        shoff = len(body)
        for i, (_n, stype, flags, addr, off, size, link, info, entsize) in enumerate(sections):
            if is64:
                body += struct.pack(e + "IIQQQQIIQQ", name_offs[i], stype, flags, addr, off,
                                    size, link, info, 8, entsize)
            else:
                body += struct.pack(e + "IIIIIIIIII", name_offs[i], stype, flags, addr, off,
                                    size, link, info, 4, entsize)
        phoff = ehsize
        ident = b"\x7fELF" + bytes([2 if is64 else 1, 1 if self.little else 2, 1, 0]) + b"\0" * 8
        if is64:
            hdr = ident + struct.pack(e + "HHIQQQIHHHHHH", self.etype, self.machine, 1, 0,
                                      phoff, shoff, 0, ehsize, phentsize, len(segs),
                                      shentsize, len(sections), len(sections) - 1)
        else:
            hdr = ident + struct.pack(e + "HHIIIIIHHHHHH", self.etype, self.machine, 1, 0,
                                      phoff, shoff, 0, ehsize, phentsize, len(segs),
                                      shentsize, len(sections), len(sections) - 1)
        ph = b""
        for off, vaddr, filesz, flags in segs:
            if is64:
                ph += struct.pack(e + "IIQQQQQQ", 1, flags, off, vaddr, vaddr, filesz, filesz,
                                  0x1000)
            else:
                ph += struct.pack(e + "IIIIIIII", 1, off, vaddr, vaddr, filesz, filesz, flags,
                                  0x1000)
        head = hdr + ph
        assert len(head) <= self.text_offset
        body[: len(head)] = head
        path.write_bytes(bytes(body))
        return path
