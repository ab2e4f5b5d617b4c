#!/usr/bin/env python3
"""A bidirectional TCP proxy on zcopy.relay: one thread and one call per connection.

usage: relay.py [--idle SECONDS] LISTEN TARGET      e.g. relay.py 127.0.0.1:9000 127.0.0.1:5201

Each accepted connection gets a connection to TARGET and one thread that
calls zcopy.relay(client, upstream) once: both directions move at the same
time, socket to socket through pooled kernel pipes, never through Python.
When a direction reaches end of stream its destination is half-closed
(shutdown(SHUT_WR)) while the other keeps flowing; a reset or broken pipe
on either side ends both; --idle ends a connection idle that long. Then
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
    """The two sockets of one proxied connection and the thread relaying them."""

    def __init__(self, client, upstream, idle=None):
        self.client = client
        self.upstream = upstream
        self.idle = idle
        self.running = 0

    def run(self):
        try:
            zcopy.relay(self.client, self.upstream, timeout=self.idle)
        except OSError:
            pass  # reset, broken pipe or idle: the relay already ended both directions
        finally:
            self.client.close()
            self.upstream.close()
            self.running = 0

    def start(self):
        self.running = 1
        threading.Thread(target=self.run, daemon=True).start()


def serve(listen, target, idle=None):
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
        Connection(client, upstream, idle).start()


def main(argv):
    args, idle = argv[1:], None
    if args[:1] == ["--idle"] and len(args) > 1:
        idle, args = float(args[1]), args[2:]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        serve(parse(args[0]), parse(args[1]), idle)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
