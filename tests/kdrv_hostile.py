#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile VNI producer for t_kdrv: garbage into a ring whose producer
is stopped, as a corrupt or malicious node would write it.

usage: kdrv_hostile.py FABRIC_FILE RING_OFFSET records|bad-tail|restore
       kdrv_hostile.py FABRIC_FILE NIC_OFFSET nic

  records   publishes, at the ring's tail, five records a consumer must
            drop, each counted once in its port's rx_errors: a frame too
            short for an Ethernet header, a frame whose virtio-net header
            has an unknown GSO type, one whose checksum start lies beyond
            the frame, a record of an unknown type, and last a header
            whose length exceeds the ring's max_record (the consumer then
            drops what was published with it)
  bad-tail  publishes a tail that is not 8-aligned (counted once)
  restore   puts back the tail `records` left (kept in
            FABRIC_FILE.kdrv_hostile.RING_OFFSET until then), so the real
            producer can open the ring again

  nic       plays a hostile NIC device on ring nic.ID: completes the 16
            descriptors from RDH with garbage (a foreign buffer offset, a
            length beyond the buffer, a short buffer without EOP, error
            bits, then seeded random status words with DD set), moves RDH
            past them and sets RXT0 in ICR; raise MINT_VEC_NIC after it.
            Of the first four the driver drops each (2 bad, 2 errors)

Prints the number of rx_errors the consumer should count for the step
(for nic: the drops the driver must count at least).
"""
import mmap
import os
import random
import struct
import sys

RING_HDR = 256
TAIL, HEAD, MAX_RECORD, SIZE = 64, 128, 16, 8
FRAME, PAD = 1, 0xFFFFFF00
# Beside the fabric file, named by it: runs on other fabrics at once (other
# engineers, the same layout, the same offset) keep their own.
STATE = "%s.kdrv_hostile.%d"


def frame(vnet, eth_len):
    eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x05" + b"\x08\x00"
    return vnet + (eth + bytes(max(0, eth_len - len(eth))))[:eth_len]


def vnet(flags=0, gso=0, hdr_len=0, gso_size=0, csum_start=0, csum_off=0):
    return struct.pack("<BBHHHH", flags, gso, hdr_len, gso_size, csum_start, csum_off)


def nic(m, off):
    u32 = lambda at: struct.unpack_from("<I", m, off + at)[0]
    ndesc, bs, desc = u32(16), u32(20), off + struct.unpack_from("<Q", m, off + 24)[0]
    rdh, rdt = u32(64), u32(128)
    if (rdt - rdh) % ndesc < 16:
        sys.exit("no 16 free descriptors")
    dd, eop = 1 << 32, 2 << 32
    rnd = random.Random(14)
    words = [(1, dd | eop | 60), (0, dd | eop | (bs + 1) & 0xFFFF), (0, dd | 100),
             (0, dd | eop | 0xFF << 40 | 60)]
    words += [(0, rnd.getrandbits(64) | dd) for _ in range(12)]
    for j, (foreign, w) in enumerate(words):
        i = (rdh + j) % ndesc
        if foreign:
            struct.pack_into("<Q", m, desc + 16 * i, ((i + 1) % ndesc) * bs)
        struct.pack_into("<Q", m, desc + 16 * i + 8, w)
    struct.pack_into("<I", m, off + 64, (rdh + 16) % ndesc)
    struct.pack_into("<I", m, off + 192, u32(192) | 0x80)
    print(4)


def main():
    path, off, step = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fd = os.open(path, os.O_RDWR)
    m = mmap.mmap(fd, 0)
    if step == "nic":
        nic(m, off)
        return
    u64 = lambda at: struct.unpack_from("<Q", m, off + at)[0]
    size, max_rec = u64(SIZE), struct.unpack_from("<I", m, off + MAX_RECORD)[0]
    tail = u64(TAIL)
    state = STATE % (path, off)
    if step == "records":
        recs = [
            (FRAME, frame(vnet(), 6)),                              # too short
            (FRAME, frame(vnet(gso=0x55, gso_size=100), 60)),       # unknown GSO
            (FRAME, frame(vnet(flags=1, csum_start=4000, csum_off=6), 60)),  # csum outside
            (7, frame(vnet(), 60)),                                 # unknown record type
        ]
        pos = tail & (size - 1)
        need = sum(8 + (len(p) + 7) // 8 * 8 for _, p in recs) + 8
        if size - pos < need:
            sys.exit("ring too close to its end for this test")
        at = pos
        for typ, payload in recs:
            struct.pack_into("<II", m, off + RING_HDR + at, len(payload), typ)
            m[off + RING_HDR + at + 8: off + RING_HDR + at + 8 + len(payload)] = payload
            at += 8 + (len(payload) + 7) // 8 * 8
        struct.pack_into("<II", m, off + RING_HDR + at, max_rec + 8, FRAME)  # too long
        at += 8
        new_tail = tail + (at - pos)
        with open(state, "w") as f:
            f.write(str(new_tail))
        struct.pack_into("<Q", m, off + TAIL, new_tail)
        print(len(recs) + 1)
    elif step == "bad-tail":
        struct.pack_into("<Q", m, off + TAIL, int(open(state).read()) + 4)
        print(1)
    elif step == "restore":
        struct.pack_into("<Q", m, off + TAIL, int(open(state).read()))
        os.unlink(state)
        print(0)
    else:
        sys.exit("unknown step " + step)


main()
