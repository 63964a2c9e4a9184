#!/usr/bin/env python3
"""Hostile clients against a running `relmoe serve` on loopback (standard library only).

Each attack runs while a normal client sends GET /health every 50 ms; the line printed per attack
gives what the attacker got back, how long it took, and the normal client's slowest answer and
failures during it. Measure the server's memory around it, e.g.
    /usr/bin/time -v relmoe serve --student S --index I --port 18191 &
    python3 scripts/serve_attacks.py --port 18191
    kill -TERM %1      # "Maximum resident set size" is the peak over every attack

Usage: serve_attacks.py [--port 18191] [--host 127.0.0.1]
"""
import argparse
import socket
import threading
import time


def connect(host, port, timeout=30):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def status_line(s):
    """The first line the server sends back, or how the connection ended."""
    try:
        data = s.recv(4096)
        return data.split(b"\r\n", 1)[0].decode(errors="replace") if data else "closed"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except socket.timeout:
        return "no answer (timeout)"


class Watcher:
    """A normal client: GET /health every 50 ms on a new connection; the slowest answer and failures."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.worst_ms, self.failures, self.done = 0.0, 0, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done:
            start = time.monotonic()
            try:
                with connect(self.host, self.port, timeout=10) as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if not status_line(s).startswith("HTTP/1.1 200"):
                        self.failures += 1
            except OSError:
                self.failures += 1
            self.worst_ms = max(self.worst_ms, (time.monotonic() - start) * 1000)
            time.sleep(0.05)

    def stop(self):
        self.done = True
        self.thread.join()
        return f"normal client: slowest {self.worst_ms:.0f} ms, {self.failures} failed"


def send_until_closed(s, head, chunk, limit):
    """Sends `head`, then `chunk` until `limit` bytes or the server closes; returns bytes sent."""
    sent = 0
    try:
        s.sendall(head)
        while sent < limit:
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    return sent


def flood(host, port, head, chunk, limit):
    s = connect(host, port)
    answer = {}
    reader = threading.Thread(target=lambda: answer.setdefault("line", status_line(s)), daemon=True)
    reader.start()
    sent = send_until_closed(s, head, chunk, limit)
    reader.join(10)
    s.close()
    return f"answer {answer.get('line', 'none')!r}, {sent / 2**20:.1f} MB sent before the server closed"


def chunked_flood(host, port):
    head = b"POST /rerank HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
    return flood(host, port, head, chunk, 200 << 20)


def header_flood(host, port):
    line = b"X-Flood: 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\r\n"
    return flood(host, port, b"POST /rerank HTTP/1.1\r\nHost: x\r\n", line * 10000, 533 << 20)


def many_fields(host, port):
    s = connect(host, port)
    s.sendall(b"POST /rerank HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(1000)) + b"\r\n")
    line = status_line(s)
    s.close()
    return f"answer {line!r}"


def slow_sockets(host, port, n=100, seconds=20):
    socks = [connect(host, port) for _ in range(n)]
    head = b"POST /rerank HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 1000
    closed, start = set(), time.monotonic()
    for i in range(len(head)):
        if time.monotonic() - start > seconds or len(closed) == n:
            break
        for k, s in enumerate(socks):
            if k in closed:
                continue
            try:
                s.sendall(head[i:i + 1])
            except OSError:
                closed.add(k)
        time.sleep(1)
    for s in socks:
        s.close()
    return f"{n} sockets sending 1 byte/s: {len(closed)} closed by the server after {time.monotonic() - start:.0f} s"


def idle_sockets(host, port, n=500, seconds=8):
    socks = []
    for _ in range(n):
        try:
            socks.append(connect(host, port))
        except OSError:
            break
    time.sleep(seconds)
    closed = 0
    for s in socks:
        s.settimeout(0.01)
        try:
            closed += s.recv(1) == b""
        except socket.timeout:
            pass
        except OSError:
            closed += 1
        s.close()
    return f"{len(socks)} idle sockets: {closed} closed by the server within {seconds} s"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18191)
    a = p.parse_args()
    for name, attack in [("chunked body, 200 MB", chunked_flood), ("header lines, 533 MB", header_flood),
                         ("1,000 header fields", many_fields), ("slow sockets", slow_sockets),
                         ("idle sockets", idle_sockets)]:
        watcher = Watcher(a.host, a.port)
        start = time.monotonic()
        result = attack(a.host, a.port)
        print(f"{name}: {result}; {time.monotonic() - start:.1f} s; {watcher.stop()}", flush=True)


if __name__ == "__main__":
    main()
