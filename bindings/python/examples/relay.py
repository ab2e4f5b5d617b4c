#!/usr/bin/env python3
"""A bidirectional TCP proxy on zcopy.splice: one thread per direction.

usage: relay.py LISTEN TARGET      e.g. relay.py 127.0.0.1:9000 127.0.0.1:5201

Each accepted connection gets a connection to TARGET and two threads, one
per direction, each calling zcopy.splice(dst, src) once: the bytes go from
socket to socket through a pooled kernel pipe, never through Python. When
a direction reaches end of stream it half-closes its destination
(shutdown(SHUT_WR)) so the other side sees EOF while the opposite direction
keeps flowing. If a direction fails (reset, broken pipe), both sockets are
shut down so the other direction ends too. When both directions are done
both sockets are closed.
"""

import socket
import sys
import threading

import zcopy


def parse(addr):
    host, _, port = addr.rpartition(":")
    return (host or "127.0.0.1", int(port))


class Connection:
    """The two sockets of one proxied connection and their two pumps."""

    def __init__(self, client, upstream):
        self.client = client
        self.upstream = upstream
        self.lock = threading.Lock()
        self.running = 2

    def pump(self, dst, src):
        try:
            zcopy.splice(dst, src)
        except OSError:
            # reset or broken pipe: end the other direction as well
            for s in (self.client, self.upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        else:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        with self.lock:
            self.running -= 1
            last = self.running == 0
        if last:
            self.client.close()
            self.upstream.close()

    def start(self):
        for dst, src in ((self.upstream, self.client), (self.client, self.upstream)):
            threading.Thread(target=self.pump, args=(dst, src), daemon=True).start()


def serve(listen, target):
    ln = socket.create_server(listen, reuse_port=False)
    while True:
        client, _ = ln.accept()
        try:
            upstream = socket.create_connection(target, timeout=10)
            upstream.settimeout(None)
        except OSError as e:
            print(f"relay: cannot reach {target}: {e}", file=sys.stderr)
            client.close()
            continue
        Connection(client, upstream).start()


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        serve(parse(argv[1]), parse(argv[2]))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
