#!/usr/bin/env python3
"""hscapture.py -- part of `make bench` (scripts/bench_flood.sh): the
handshake of one WireGuard peer as its own interface sees it.

usage: hscapture.py IFACE PORT READYFILE SECONDS

Run in the peer's network namespace. Captures the IPv4 UDP packets to and
from PORT on IFACE (AF_PACKET with a BPF filter, kernel timestamps,
SO_TIMESTAMPNS; the outgoing ones at the time the kernel hands them to
the interface),
touches READYFILE once it listens, and stops at the first handshake
response the peer receives, or after SECONDS. Prints one line of JSON:
  init      initiations the peer sent in all
  init_after_cookie  initiations it sent after the first cookie reply
  cookies   cookie replies it received
  cookie_to_response_us  first cookie reply received -> handshake
            response received, in microseconds (null: no cookie, or
            no response)
  retry_to_response_us   last initiation sent -> response received
  first_init_to_response_us
"""
import ctypes
import json
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003     # outgoing frames reach only ETH_P_ALL taps
ETH_P_IP = 0x0800
SO_ATTACH_FILTER = 26
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35

MSG_INIT, MSG_RESP, MSG_COOKIE = 1, 2, 3


def udp_port_filter(port):
    """A classic BPF program: IPv4 UDP to or from port, nothing else (the
    flood on the same interface never reaches Python)."""
    drop, accept = 9, 10
    prog = [
        (0x28, 0, 0, 12),                  # ldh [12]: ethertype
        (0x15, 0, drop - 2, ETH_P_IP),     # jeq IPv4 or drop
        (0x30, 0, 0, 23),                  # ldb [23]: protocol
        (0x15, 0, drop - 4, 17),           # jeq UDP or drop
        (0xb1, 0, 0, 14),                  # ldxb 4*([14]&0xf): IHL
        (0x48, 0, 0, 14),                  # ldh [x+14]: source port
        (0x15, accept - 7, 0, port),       # jeq port: accept
        (0x48, 0, 0, 16),                  # ldh [x+16]: destination port
        (0x15, accept - 9, 0, port),       # jeq port: accept
        (0x06, 0, 0, 0),                   # drop
        (0x06, 0, 0, 0x40000),             # accept
    ]
    raw = b"".join(struct.pack("HBBI", *i) for i in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))
    return buf, struct.pack("HP", len(prog), ctypes.addressof(buf))


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[3])
    ifname, port, ready, secs = (sys.argv[1], int(sys.argv[2]),
                                 sys.argv[3], float(sys.argv[4]))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    keep, fprog = udp_port_filter(port)
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, ETH_P_ALL))
    open(ready, "w").close()
    end = time.monotonic() + secs
    inits = []          # times the peer sent an initiation
    cookies = []        # times it received a cookie reply
    resp = None         # time it received the first response
    while resp is None:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        data, anc, _, addr = s.recvmsg(2048, 64)
        ts = None
        for lvl, typ, val in anc:
            if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", val[:16])
                ts = sec + nsec / 1e9
        if ts is None:
            ts = time.time()
        out = addr[2] == PACKET_OUTGOING
        # the frame from the IP header on (SOCK_RAW on an Ethernet
        # interface: skip the 14-byte Ethernet header)
        ip = data[14:]
        if (len(data) < 34 or data[12:14] != b"\x08\x00" or
                ip[0] >> 4 != 4 or ip[9] != 17):
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        if len(udp) < 9:
            continue
        sport, dport = struct.unpack("!HH", udp[:4])
        wg = udp[8]
        if out and dport == port and wg == MSG_INIT:
            inits.append(ts)
        elif not out and sport == port and wg == MSG_COOKIE:
            cookies.append(ts)
        elif not out and sport == port and wg == MSG_RESP:
            resp = ts

    def us(a, b):
        if a is None or b is None:
            return None
        return round((b - a) * 1e6)

    first_cookie = cookies[0] if cookies else None
    print(json.dumps({
        "init": len(inits),
        "init_after_cookie": len([t for t in inits
                                  if first_cookie is not None and
                                  t > first_cookie]),
        "cookies": len(cookies),
        "cookie_to_response_us": us(first_cookie, resp),
        "retry_to_response_us": us(inits[-1] if inits else None, resp),
        "first_init_to_response_us": us(inits[0] if inits else None,
                                         resp),
    }))


if __name__ == "__main__":
    main()
