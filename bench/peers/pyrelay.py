"""A two-way TCP proxy in plain Python threads: the peer zcopy's Python
relay is measured against. Each direction is a thread doing recv_into and
sendall with a 256 KiB buffer; end of stream half-closes the other side.

    python3 pyrelay.py LISTEN_PORT TARGET_PORT      (both on 127.0.0.1)
"""

import socket
import sys
import threading

BUF = 256 * 1024


def pump(src, dst):
    buf = bytearray(BUF)
    view = memoryview(buf)
    try:
        while True:
            n = src.recv_into(buf)
            if n == 0:
                break
            dst.sendall(view[:n])
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(client, target_port):
    with client, socket.create_connection(("127.0.0.1", target_port)) as upstream:
        t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        t.start()
        pump(client, upstream)
        t.join()


def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    srv = socket.create_server(("127.0.0.1", listen_port), backlog=128)
    while True:
        client, _ = srv.accept()
        threading.Thread(target=serve, args=(client, target_port), daemon=True).start()


if __name__ == "__main__":
    main()
