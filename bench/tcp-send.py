#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tcp-send.py ADDR [PORT [MIB]]: MIB MiB (default 20) of zeros by TCP to
# ADDR:PORT (default 5001) once it listens (up to 15 s), exactly that many
# (never a byte past it), then waits for the receiver to close; prints the
# Mbit/s from connect to close.  The sender of tests/t_kdrv.sh and
# bench/guest-bench.sh into a guest whose receiver is busybox nc.
import socket
import sys
import time

addr = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 5001
n = (int(sys.argv[3]) if len(sys.argv) > 3 else 20) << 20
for _ in range(30):  # until the receiver listens
    try:
        s = socket.create_connection((addr, port), timeout=30)
        break
    except ConnectionRefusedError:
        time.sleep(0.5)
else:
    sys.exit("tcp-send.py: %s:%d never listened" % (addr, port))
buf, sent, t = b"\0" * 65536, 0, time.monotonic()
while sent < n:  # never past N: a short send would overshoot it
    sent += s.send(buf[:n - sent])
s.shutdown(socket.SHUT_WR)
s.recv(1)  # the receiver closes when it has read everything
print(int(sent * 8 / (time.monotonic() - t) / 1e6))
