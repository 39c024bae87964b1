"""The limit: a raw TCP server echoing length-prefixed frames, one thread per connection.

    python -m bench.echo_server    # prints its port, serves until killed
"""

import socket
import socketserver
import struct

HEADER = struct.Struct("!I")


def recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return bytes(data)


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                (size,) = HEADER.unpack(recv_exact(self.request, HEADER.size))
                self.request.sendall(HEADER.pack(size) + recv_exact(self.request, size))
        except ConnectionError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    with Server(("127.0.0.1", 0), Echo) as server:
        print(server.server_address[1], flush=True)
        server.serve_forever()
