#!/usr/bin/python3
"""uapi_peers.py -- count the peers a WireGuard UAPI socket lists.

usage: uapi_peers.py SOCKET [WANT TIMEOUT]

With SOCKET alone: one "get=1" request; prints the number of peers and the
number of allowed IPs ("peers aips"). With WANT and TIMEOUT (seconds): asks
again every 10 ms until the socket lists WANT peers or TIMEOUT passes; prints
"peers aips when" (when: the wall-clock time, seconds since the epoch, at
which the answer listing WANT peers arrived) and exits 0, or 1 on timeout.
"""
import socket
import sys
import time


def get(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(b"get=1\n\n")
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    peers = aips = 0
    for line in data.decode("ascii", "replace").splitlines():
        if line.startswith("public_key="):
            peers += 1
        elif line.startswith("allowed_ip="):
            aips += 1
    return peers, aips


def main():
    path = sys.argv[1]
    if len(sys.argv) == 2:
        print("%d %d" % get(path))
        return 0
    want = int(sys.argv[2])
    end = time.time() + float(sys.argv[3])
    peers = aips = 0
    while time.time() < end:
        try:
            peers, aips = get(path)
        except OSError:
            peers = aips = 0
        if peers >= want:
            print("%d %d %.6f" % (peers, aips, time.time()))
            return 0
        time.sleep(0.01)
    print("%d %d -" % (peers, aips))
    return 1


if __name__ == "__main__":
    sys.exit(main())
