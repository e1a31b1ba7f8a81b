#!/usr/bin/env python3
"""Load generators, sinks and the summary table of benchmarks/peers (python3 standard library only; 127.0.0.1 only).

  load.py sink PORT                       accept connections and discard what they send
  load.py hold PORT                       accept connections and keep them open, reading nothing
  load.py blast PORT STREAMS SECONDS      send as fast as possible on STREAMS connections; prints bytes and seconds
  load.py tls PORT SNI SECONDS            full TLS handshakes, one after the other; prints handshakes and seconds
  load.py idle PORT COUNT                 open COUNT connections, print "open COUNT", hold them until stopped
  load.py table FILE                      medians and paired ratios of the measurements in FILE
"""
import selectors
import socket
import ssl
import statistics
import sys
import threading
import time

HOST = "127.0.0.1"
CHUNK = 1 << 20


def listen(port):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((HOST, port))
    server.listen(4096)
    print("ready", flush=True)
    return server


def sink(port):
    def drain(conn):
        buffer = bytearray(CHUNK)
        with conn:
            while conn.recv_into(buffer):
                pass

    server = listen(port)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


def hold(port):
    # Never reads data: a connection is readable only when its client has gone, and is then closed so that file
    # descriptors do not pile up over rounds (the machine allows 20,000 a process).
    server = listen(port)
    watch = selectors.DefaultSelector()
    watch.register(server, selectors.EVENT_READ)
    while True:
        for key, _ in watch.select():
            if key.fileobj is server:
                conn, _ = server.accept()
                watch.register(conn, selectors.EVENT_READ)
            else:
                watch.unregister(key.fileobj)
                key.fileobj.close()


def blast(port, streams, seconds):
    payload = b"\0" * CHUNK
    sent = [0] * streams
    start = time.monotonic()
    deadline = start + seconds

    def send(i):
        with socket.create_connection((HOST, port)) as conn:
            while time.monotonic() < deadline:
                conn.sendall(payload)
                sent[i] += len(payload)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(sent), time.monotonic() - start)


def tls(port, sni, seconds):
    # The routers only read the ClientHello: the client does not check the backend's certificate.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    done = 0
    start = time.monotonic()
    deadline = start + seconds
    while time.monotonic() < deadline:
        with socket.create_connection((HOST, port)) as raw:
            with context.wrap_socket(raw, server_hostname=sni):
                done += 1
    print(done, time.monotonic() - start)


def idle(port, count):
    conns = []
    for _ in range(count):
        conns.append(socket.create_connection((HOST, port)))
    print("open", len(conns), flush=True)
    while True:
        time.sleep(3600)


def table(path):
    """Lines: AREA CASE ROUND SIDE METRIC VALUE, SIDE being 'mesh' or the peer's name. One row per case, peer and metric."""
    values = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 6:
            area, case, rnd, side, metric, value = parts
            values.setdefault((case, metric), {}).setdefault(side, {})[rnd] = float(value)
    print(f"{'case':<14} {'metric':<16} {'peer':<16} {'peer median':>12} {'mesh median':>12}  mesh/peer median [min-max]")
    for (case, metric), sides in values.items():
        mesh = sides.get("mesh", {})
        for peer, by_round in sides.items():
            if peer == "mesh":
                continue
            ratios = [mesh[r] / v for r, v in by_round.items() if r in mesh and v > 0]
            if not ratios:
                continue
            print(f"{case:<14} {metric:<16} {peer:<16} {statistics.median(by_round.values()):>12.4g} "
                  f"{statistics.median(mesh.values()):>12.4g}  {statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]")


def main(argv):
    commands = {
        "sink": lambda a: sink(int(a[0])),
        "hold": lambda a: hold(int(a[0])),
        "blast": lambda a: blast(int(a[0]), int(a[1]), float(a[2])),
        "tls": lambda a: tls(int(a[0]), a[1], float(a[2])),
        "idle": lambda a: idle(int(a[0]), int(a[1])),
        "table": lambda a: table(a[0]),
    }
    if len(argv) < 2 or argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[argv[1]](argv[2:])
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv)
