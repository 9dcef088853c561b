"""DLLs the engine writes itself: forwarding DLLs, such as the Go runtime shim for Wine."""

from __future__ import annotations

import struct


def go_runtime_shim() -> bytes:
    """bcryptprimitives.dll for Wine 8: one export, ProcessPrng, forwarded to RtlGenRandom.

    Go >= 1.22 programs load bcryptprimitives.dll!ProcessPrng when they start and die with
    "bcryptprimitives.dll not found" without it. Wine gained the DLL in 9.0; Debian 12 has 8.0.
    advapi32!SystemFunction036 (RtlGenRandom) takes the same two arguments (buffer, length) and
    returns TRUE, so a forwarder is enough: the DLL holds no code. Real Windows 10 has the DLL;
    this exists only in test prefixes.
    """
    return forwarding_dll("bcryptprimitives.dll", {"ProcessPrng": "advapi32.SystemFunction036"})


def forwarding_dll(dll_name: str, forwards: dict[str, str]) -> bytes:
    """A minimal PE32+ (x64) DLL whose exports are forwarders ("module.Function"), no code."""
    names = sorted(forwards)
    count = len(names)
    section_rva, file_alignment, section_alignment = 0x1000, 0x200, 0x1000
    functions = section_rva + 40
    name_pointers = functions + 4 * count
    ordinals = name_pointers + 4 * count
    strings = bytearray()
    strings_rva = ordinals + 2 * count

    def string(text: str) -> int:
        rva = strings_rva + len(strings)
        strings.extend(text.encode("ascii") + b"\0")
        return rva

    dll_name_rva = string(dll_name)
    name_rvas = [string(name) for name in names]
    # An export whose address points inside the export directory is a forwarder string.
    forward_rvas = [string(forwards[name]) for name in names]
    # IMAGE_EXPORT_DIRECTORY: flags, time stamp, version, name, ordinal base, counts, tables.
    directory = (0, 0, 0, 0, dll_name_rva, 1, count, count, functions, name_pointers, ordinals)
    edata = struct.pack("<IIHHIIIIIII", *directory)
    edata += b"".join(struct.pack("<I", rva) for rva in forward_rvas)
    edata += b"".join(struct.pack("<I", rva) for rva in name_rvas)
    edata += b"".join(struct.pack("<H", index) for index in range(count))
    edata += bytes(strings)
    raw_size = -(-len(edata) // file_alignment) * file_alignment
    image_size = section_rva + -(-len(edata) // section_alignment) * section_alignment

    dos_header = b"MZ" + bytes(58) + struct.pack("<I", 0x40)
    # AMD64, one section, optional header of 240 bytes; executable image | large address | DLL.
    coff_header = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x2022)
    optional = struct.pack("<HBBIIIII", 0x20B, 1, 0, 0, raw_size, 0, 0, section_rva)
    optional += struct.pack(
        "<QIIHHHHHHIIIIHHQQQQII",
        0x180000000,  # image base
        section_alignment,
        file_alignment,
        6, 0, 0, 0, 6, 0,  # OS, image and subsystem versions
        0,
        image_size,
        file_alignment,  # size of headers
        0,  # checksum
        3,  # console subsystem
        0x100,  # NX compatible; no relocations needed: nothing holds an absolute address
        0x100000, 0x1000, 0x100000, 0x1000,  # stack and heap reserve/commit
        0,
        16,
    )  # fmt: skip
    optional += struct.pack("<II", section_rva, len(edata)) + bytes(8 * 15)
    section = struct.pack(
        "<8sIIIIIIHHI",
        b".edata",
        len(edata),
        section_rva,
        raw_size,
        file_alignment,
        0,
        0,
        0,
        0,
        0x40000040,  # initialised data, readable
    )
    headers = dos_header + b"PE\0\0" + coff_header + optional + section
    headers += bytes(file_alignment - len(headers))
    return headers + edata + bytes(raw_size - len(edata))
