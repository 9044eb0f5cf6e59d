#!/usr/bin/env python3
"""hscapture.py -- part of `make bench` (scripts/bench_flood.sh): the
handshake of one WireGuard peer as its own interface sees it.

usage: hscapture.py IFACE PORT READYFILE SECONDS

Run in the peer's network namespace. Captures the IPv4 UDP packets to and
from PORT on IFACE (AF_PACKET, kernel receive timestamps, SO_TIMESTAMPNS;
the outgoing ones at the time the kernel hands them to the interface),
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
import json
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35

MSG_INIT, MSG_RESP, MSG_COOKIE = 1, 2, 3


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[3])
    ifname, port, ready, secs = (sys.argv[1], int(sys.argv[2]),
                                 sys.argv[3], float(sys.argv[4]))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_IP))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, ETH_P_IP))
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
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
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
