#!/usr/bin/env python3
# client.py -- a scripted client for vpnd's control socket (docs/protocol.md).
#
# It speaks exactly what it is told: newline-terminated JSON, no "id" unless
# the test puts one in. Used by the end-to-end tests.
#
#   client.py [-t secs] SOCK ACTION...
#
# Actions run in order on one connection:
#   send:JSON        send JSON followed by '\n' (sent as given, not parsed)
#   sendraw:TEXT     send TEXT as given ('\\n', '\\0' become newline, NUL)
#   sendbig:N        send one line of N bytes of 'a', then '\n'
#   sendfile:PATH    send the file's bytes (a '\n' is added if missing)
#   expect:T1|T2     read messages until one whose "type" is T1 or T2; print
#                    it (one compact line) on stdout; fail on timeout or EOF
#   expecteof        wait for the daemon to close the connection
#   touch:PATH       create PATH (tells a shell script we are connected)
#   monitor          print every message as it arrives until EOF or killed
#   sleepms:N        wait N ms (only to pace a sender, never to synchronise)
# With -a, every message read (also the ones skipped by expect) is printed.
#
#   client.py jget FIELD [FIELD...] < json-lines
# prints each line's FIELD (dotted path, list indexes allowed: peers.0.rxBytes)
# one per line; absent fields print as "<none>"; strings print bare, other
# values as JSON.
#
# Exit status: 0 ok, 1 timeout / EOF / bad reply, 2 usage,
# 3 cannot connect (the errno name is printed on stderr: "connect: EACCES").
import errno
import json
import os
import select
import socket
import sys
import time


def jget(fields):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            o = json.loads(line)
        except ValueError:
            for _ in fields:
                print("<bad-json>")
            continue
        for f in fields:
            v = o
            for part in f.split("."):
                if isinstance(v, dict) and part in v:
                    v = v[part]
                elif isinstance(v, list) and part.isdigit() and \
                        int(part) < len(v):
                    v = v[int(part)]
                else:
                    v = None
                    print("<none>")
                    break
            else:
                if isinstance(v, str):
                    print(v)
                else:
                    print(json.dumps(v, separators=(",", ":")))
    return 0


class Conn:
    def __init__(self, path, timeout, printall):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.timeout = timeout
        self.printall = printall
        self.eof = False

    def send(self, data):
        # The daemon may have closed already (a refused client): what it
        # said before closing can still be read, so go on to read it.
        try:
            self.s.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            sys.stderr.write("client: send: %s\n" % e)

    def readline(self, deadline):
        """One line (bytes, without '\n'), or None on timeout/EOF."""
        while b"\n" not in self.buf:
            if self.eof:
                return None
            left = deadline - time.monotonic() if deadline else None
            if left is not None and left <= 0:
                return None
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return None
            try:
                d = self.s.recv(65536)
            except ConnectionResetError:
                d = b""
            if not d:
                self.eof = True
                continue
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line


def out(line):
    sys.stdout.write(line.decode("utf-8", "replace") + "\n")
    sys.stdout.flush()


def run(argv):
    timeout = 10.0
    printall = False
    while argv and argv[0].startswith("-"):
        if argv[0] == "-t" and len(argv) > 1:
            timeout = float(argv[1])
            argv = argv[2:]
        elif argv[0] == "-a":
            printall = True
            argv = argv[1:]
        else:
            return usage()
    if len(argv) < 1:
        return usage()
    try:
        c = Conn(argv[0], timeout, printall)
    except OSError as e:
        sys.stderr.write("connect: %s\n" %
                         errno.errorcode.get(e.errno, str(e.errno)))
        return 3
    for act in argv[1:]:
        verb, _, arg = act.partition(":")
        try:
            if verb == "send":
                c.send(arg.encode() + b"\n")
            elif verb == "sendraw":
                c.send(arg.replace("\\n", "\n").replace("\\0", "\0")
                       .encode())
            elif verb == "sendbig":
                n = int(arg)
                chunk = b"a" * 65536
                while n > 0:
                    c.send(chunk[:min(n, len(chunk))])
                    n -= len(chunk)
                c.send(b"\n")
            elif verb == "sendfile":
                with open(arg, "rb") as f:
                    d = f.read()
                if not d.endswith(b"\n"):
                    d += b"\n"
                c.send(d)
            elif verb == "expect":
                want = arg.split("|")
                deadline = time.monotonic() + c.timeout
                while True:
                    line = c.readline(deadline)
                    if line is None:
                        sys.stderr.write("client: %s waiting for %s\n" % (
                            "EOF" if c.eof else "timeout", arg))
                        return 1
                    try:
                        o = json.loads(line)
                    except ValueError:
                        sys.stderr.write("client: not JSON: %r\n" % line)
                        return 1
                    if o.get("type") in want:
                        out(line)
                        break
                    if c.printall:
                        out(line)
            elif verb == "expecteof":
                deadline = time.monotonic() + c.timeout
                while True:
                    line = c.readline(deadline)
                    if line is None:
                        break
                    if c.printall:
                        out(line)
                if not c.eof:
                    sys.stderr.write("client: no EOF\n")
                    return 1
            elif verb == "touch":
                open(arg, "a").close()
            elif verb == "monitor":
                while True:
                    line = c.readline(None)
                    if line is None:
                        break
                    out(line)
            elif verb == "sleepms":
                time.sleep(int(arg) / 1000.0)
            else:
                return usage()
        except (BrokenPipeError, ConnectionResetError) as e:
            sys.stderr.write("client: %s: %s\n" % (verb, e))
            return 1
    return 0


def usage():
    sys.stderr.write("usage: client.py [-a] [-t secs] SOCK ACTION...\n"
                     "       client.py jget FIELD... < json-lines\n")
    return 2


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "jget":
        return jget(argv[1:])
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
