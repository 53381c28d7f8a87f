#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# pcapng_swap.py IN OUT: rewrite a pcapng file of `mint inject --record`
# (SHB, IDB, EPB blocks; options whose values are bytes or text) in the
# other byte order, as a host of the other endianness would have written
# it.  Used by t_inject.sh to test that --replay reads either order.
import struct
import sys


def swap_words(b, fmt):
    """Re-pack the fixed fields FMT (struct codes without order) of B."""
    return struct.pack(">" + fmt, *struct.unpack("<" + fmt, b)) if ORDER == "<" \
        else struct.pack("<" + fmt, *struct.unpack(">" + fmt, b))


def swap_options(b):
    out, at = bytearray(), 0
    while at + 4 <= len(b):
        code, olen = struct.unpack(ORDER + "HH", b[at:at + 4])
        out += swap_words(b[at:at + 4], "HH")
        padded = (olen + 3) & ~3
        out += b[at + 4:at + 4 + padded]  # our option values are bytes or text
        at += 4 + padded
        if code == 0:
            break
    return bytes(out) + b[at:]


data = open(sys.argv[1], "rb").read()
magic = data[8:12]
ORDER = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
out, at = bytearray(), 0
while at < len(data):
    btype, total = struct.unpack(ORDER + "II", data[at:at + 8])
    body = data[at + 8:at + total - 4]
    if btype == 0x0a0d0d0a:    # SHB: magic, major, minor, section length
        new = swap_words(body[:16], "IHHq") + swap_options(body[16:])
    elif btype == 1:           # IDB: link type, reserved, snap length
        new = swap_words(body[:8], "HHI") + swap_options(body[8:])
    elif btype == 6:           # EPB: interface, time high, low, captured, original
        cap = struct.unpack(ORDER + "I", body[12:16])[0]
        data_end = 20 + ((cap + 3) & ~3)
        new = swap_words(body[:20], "IIIII") + body[20:data_end] + swap_options(body[data_end:])
    else:
        sys.exit("pcapng_swap: block type %#x not handled" % btype)
    head = swap_words(data[at:at + 8], "II")
    out += head + new + head[4:8]
    at += total
open(sys.argv[2], "wb").write(out)
