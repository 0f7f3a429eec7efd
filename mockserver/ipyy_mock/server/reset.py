"""Abort a TCP connection with an RST: the one socket trick behind the ``reset`` fault, shared by the edge
(granian, which finds the connection's descriptor itself) and the fault middleware (gunicorn, whose socket is in
the environ), so both abort a connection the same way."""

from __future__ import annotations

import os
import socket
import struct


def send_rst(sock: socket.socket, fd: int) -> None:
    """Make the connection of ``sock`` go away at once with an RST; raises OSError when it cannot.

    ``SO_LINGER`` (on, 0 s) makes the last close send RST instead of FIN. An unconnected socket is put on the
    server's descriptor ``fd`` (``dup2``): the connection is closed at once, while the server, still holding
    that descriptor number, gets a quiet error when it tries to write the reply.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    family = sock.family if sock.family in (socket.AF_INET, socket.AF_INET6) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as dummy:
        os.dup2(dummy.fileno(), fd)
