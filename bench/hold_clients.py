"""Holds misbehaving clients open against a server on loopback, for the slow-clients scenario:
IDLE connections that finished one request and stay kept-alive, and TRICKLE connections that send
one header line per second and never finish their head (reconnected when the server closes them).
Writes READY_FILE once every connection is open, then runs SECONDS and exits. Loopback only.
    python3 hold_clients.py PORT IDLE TRICKLE SECONDS READY_FILE"""
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    return s


def main(port, idle_n, trickle_n, seconds, ready_file):
    port, idle_n, trickle_n, seconds = int(port), int(idle_n), int(trickle_n), float(seconds)
    idle = []
    for _ in range(idle_n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got or not got.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        idle.append(s)
    trickle = [connect(port) for _ in range(trickle_n)]
    for s in trickle:
        s.send(b"GET /healthz HTTP/1.1\r\n")
    with open(ready_file, "w") as f:
        f.write(f"{len(idle)} {len(trickle)}\n")
    end = time.time() + seconds
    line = 0
    reconnects = 0
    while time.time() < end:
        time.sleep(1)
        line += 1
        for i, s in enumerate(trickle):
            try:
                s.send(f"X-Trickle-{line}: {line}\r\n".encode())
            except OSError:
                s.close()
                trickle[i] = connect(port)
                trickle[i].send(b"GET /healthz HTTP/1.1\r\n")
                reconnects += 1
    print(f"idle={len(idle)} trickle={len(trickle)} reconnects={reconnects}")


if __name__ == "__main__":
    main(*sys.argv[1:])
