#!/usr/bin/env python3
# flood.py -- WireGuard initiations with a valid mac1 for the responder's
# public key, from many IPv6 source addresses, at a set rate: what
# bench_flood.sh throws at vpnd. Run only inside a namespace whose lo
# holds SRC_PREFIX as a local route (AnyIP).
# usage: flood.py PUBKEY_B64 DEST_V6 PORT RATE SECONDS SRC_PREFIX48
import base64, hashlib, os, socket, struct, sys, time

pub = base64.b64decode(sys.argv[1])
dst, port = sys.argv[2], int(sys.argv[3])
rate, secs = int(sys.argv[4]), float(sys.argv[5])
pfx = socket.inet_pton(socket.AF_INET6, sys.argv[6])[:6]

mac1key = hashlib.blake2s(b"mac1----" + pub).digest()
msgs = []
for i in range(4096):
	body = struct.pack("<I", 1) + os.urandom(4 + 32 + 48 + 28)
	mac1 = hashlib.blake2s(body, key=mac1key, digest_size=16).digest()
	msgs.append(body + mac1 + bytes(16))
# sources: 4096 /48s (one /64 each, a random one) of the /32 around SRC_PREFIX
srcs = []
for i in range(4096):
	a = bytearray(pfx + bytes(10))
	a[4] = (i >> 8) & 0xff
	a[5] = i & 0xff
	a[6:8] = os.urandom(2)
	a[15] = 1
	srcs.append(struct.pack("16sI", bytes(a), 0))
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, 78, 1)	# IPV6_FREEBIND
s.setblocking(False)
addr = (dst, port)
sent = 0
t0 = time.monotonic()
end = t0 + secs
n = 0
while True:
	now = time.monotonic()
	if now >= end:
		break
	due = int((now - t0) * rate)
	while sent < due:
		try:
			s.sendmsg([msgs[n & 4095]], [(socket.IPPROTO_IPV6,
			    socket.IPV6_PKTINFO, srcs[(n * 7) & 4095])], 0, addr)
		except (BlockingIOError, OSError):
			pass
		sent += 1
		n += 1
	time.sleep(0.001)
el = time.monotonic() - t0
print("%d %.1f" % (sent, sent / el))
