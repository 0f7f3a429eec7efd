"""The ASMX oracle of the vendor's SOAP contract (tests/oracle/), and the two helpers that compare it with the mock.

Why an oracle: the vendor's endpoint is Microsoft ASMX, and what ASMX does with a
request (how it routes, reads, refuses and shapes a reply) is decided by
System.Web.Services, not by anything written in the WSDL. Mono ships a real
System.Web.Services, so the same service declared in C# answers the same bytes
the way ASMX does; tests/test_asmx_oracle.py sends every request of
tests/data/asmx/ to it and to the mock and compares the two replies.

- ``build()`` compiles tests/oracle/*.cs with mcs, once: the result is cached
  under ``$XDG_CACHE_HOME/ipyy-sms/`` (or ``~/.cache/ipyy-sms/``) in a folder
  named by a hash of every file in tests/oracle/, so an edit rebuilds and an
  unchanged checkout starts at once.
  Echo.asmx (Echo.cs, in the same assembly) is a second service that returns
  the result it is given: tests/test_asmx_writer.py compares XmlSerializer's
  bytes for arbitrary values with the mock's writer.
- ``AsmxOracle`` runs it on a free 127.0.0.1 port and waits until ``?WSDL``
  answers.
- ``exchange()`` sends raw request bytes over a socket and changes only what a
  different target needs (Host, Content-Length): the point is to send both
  servers exactly the same odd request, which no HTTP library will do.
- ``canonical()`` reduces a reply to its shape (elements, prefixes, namespace
  declarations, attributes, order) with every text masked, because the two
  servers rightly differ in values (message ids, balances, fault texts).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from support.net import free_port

ORACLE_SOURCES = Path(__file__).resolve().parent.parent / "oracle"
TOOLS = ("mono", "mcs")
HOST_EXE = "OracleHost.exe"
SERVICE_DLL = "YysmsOracle.dll"
TNS = "http://www.yysms.com/"
MASK = "…"

__all__ = ["AsmxOracle", "OracleError", "build", "canonical", "exchange", "missing_tools", "source_key"]


class OracleError(RuntimeError):
    """The oracle could not be built or did not come up; the message says why (and carries the log's tail)."""


def missing_tools() -> list[str]:
    """The Mono programs the oracle needs and the machine lacks (Debian's mono-complete has them all)."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def source_key() -> str:
    """A hash of every file in tests/oracle/ (names and bytes): the cache folder's name, so any edit rebuilds."""
    digest = hashlib.sha256()
    for path in sorted(p for p in ORACLE_SOURCES.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ipyy-sms"


def build() -> Path:
    """Compile the oracle (once per source hash) and return its application folder.

    The folder is what ASP.NET serves: web.config, the .asmx under both of the
    names clients use (IIS matches paths without regard to case, Linux does
    not), and bin/ with the service assembly and the host (ASP.NET loads the
    host's type from bin/). It is built in a temporary folder and renamed into
    place, so a build that fails or races another leaves no half-built cache.
    """
    app = cache_root() / f"asmx-oracle-{source_key()}"
    if (app / "bin" / HOST_EXE).is_file():
        return app
    missing = missing_tools()
    if missing:
        raise OracleError(f"{', '.join(missing)} not found (Debian: apt-get install mono-complete)")
    app.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="asmx-oracle-build-", dir=app.parent))
    try:
        (work / "bin").mkdir()
        for name in ("web.config", "WebService.asmx", "Echo.asmx"):
            shutil.copyfile(ORACLE_SOURCES / name, work / name)
        shutil.copyfile(ORACLE_SOURCES / "WebService.asmx", work / "webservice.asmx")
        compile_steps = [
            ["-target:library", f"-out:{work / 'bin' / SERVICE_DLL}", "-r:System.Web.dll", "-r:System.Web.Services.dll"]
            + ["-r:System.Xml.dll", str(ORACLE_SOURCES / "Contract.cs"), str(ORACLE_SOURCES / "Echo.cs")],
            ["-target:exe", f"-out:{work / 'bin' / HOST_EXE}", "-r:System.Web.dll", str(ORACLE_SOURCES / "Host.cs")],
        ]
        for args in compile_steps:
            done = subprocess.run(["mcs", "-nologo", "-codepage:utf8", *args], capture_output=True, text=True)
            if done.returncode != 0:
                raise OracleError(f"mcs failed: {(done.stdout + done.stderr).strip()}")
        try:
            work.rename(app)
        except OSError:  # another process finished the same build first: use its result
            if not (app / "bin" / HOST_EXE).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return app


@dataclass
class AsmxOracle:
    """The oracle as a child process on 127.0.0.1; ``base_url`` is what ``exchange()`` and clients are given."""

    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"asmx-oracle-{self.port}.log"

    def start(self, timeout: float = 60.0) -> AsmxOracle:
        """Build if needed, start, and return once ``GET /WebService.asmx?WSDL`` answers with the contract."""
        app = build()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                ["mono", str(app / "bin" / HOST_EXE), str(self.port), str(app)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        probe = b"GET /WebService.asmx?WSDL HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OracleError(f"the oracle exited with {self.process.returncode}: {self._log_tail()}")
            try:
                status, _, body = exchange(self.base_url, probe, timeout=10)
            except OSError as exc:
                last = repr(exc)
            else:
                if status == 200 and f'targetNamespace="{TNS}"'.encode() in body:
                    return self
                last = f"HTTP {status}"
            time.sleep(0.1)
        self.stop()
        raise OracleError(f"no WSDL from {self.base_url} within {timeout:.0f} s ({last}): {self._log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-8:]) or "(empty log)"

    def __enter__(self) -> AsmxOracle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _target(base_url_or_host_port: str) -> tuple[str, int]:
    text = base_url_or_host_port if "://" in base_url_or_host_port else f"http://{base_url_or_host_port}"
    parts = urlsplit(text)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"not a base URL or host:port with a port: {base_url_or_host_port!r}")
    return parts.hostname, parts.port


def retarget(raw: bytes, host: str, port: int) -> bytes:
    """``raw`` with its Host header naming ``host:port`` and its Content-Length the body's real length.

    Nothing else changes: the request line, every other header (spelling,
    order, repeats, odd values) and the body stay byte for byte. A request file
    with a body and neither Content-Length nor Transfer-Encoding gets a
    Content-Length, since without one no server could find the body's end.
    """
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ValueError("a raw request needs the blank line (CRLF CRLF) that ends its headers")
    request_line, *headers = head.split(b"\r\n")
    out = [request_line]
    has_length = has_encoding = False
    for line in headers:
        name, colon, _ = line.partition(b":")
        key = name.strip().lower()
        if colon and key == b"host":
            line = name + b": " + f"{host}:{port}".encode()
        elif colon and key == b"content-length":
            line = name + b": " + str(len(body)).encode()
            has_length = True
        elif colon and key == b"transfer-encoding":
            has_encoding = True
        out.append(line)
    if body and not has_length and not has_encoding:
        out.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(out) + b"\r\n\r\n" + body


def exchange(base_url_or_host_port: str, raw: bytes, timeout: float = 30.0) -> tuple[int, str, bytes]:
    """Send one raw HTTP request (``retarget``-ed) and return the reply's status, Content-Type and body bytes.

    The reply is read by http.client (Content-Length, chunked, or to the close),
    so a request that keeps the connection alive does not hang the test.
    """
    host, port = _target(base_url_or_host_port)
    method = raw.split(b" ", 1)[0].decode("ascii", "replace")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(retarget(raw, host, port))
        reply = http.client.HTTPResponse(sock, method=method)
        try:
            reply.begin()
            body = reply.read()
        finally:
            reply.close()
    return reply.status, reply.getheader("Content-Type", ""), body


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_DECLARATION = re.compile(r"<\?xml\s[^>]*\?>")


def _prolog(body: bytes) -> str:
    """The XML declaration as written (after a BOM, shown as U+FEFF), or "" when the document has none."""
    bom, text = "", ""
    for mark, codec in _BOMS:
        if body.startswith(mark):
            bom, text = "\ufeff", body[len(mark) : len(mark) + 400].decode(codec, "replace")
            break
    else:
        text = body[:400].decode("latin-1")
    found = _DECLARATION.match(text)
    return bom + (found.group(0) if found else "")


def canonical(body: bytes) -> str:
    """The shape of an XML reply as one string: what must be equal between the oracle and the mock.

    Kept as written: the XML declaration (and a BOM), element names with their
    prefixes, namespace declarations (prefix and URI, where declared), every
    attribute with its value (``xsi:type``, ``xsi:nil``, ``xml:lang`` matter),
    the order of elements. Masked: every non-empty text, whitespace between
    elements included, becomes ``…``; an empty element stays empty. The rest is
    inclusive C14N 1.0 (attributes and declarations sorted, ``<a/>`` written
    ``<a></a>``), so two serializations of one infoset compare equal. An empty
    body gives ""; a body that is not XML is returned as text after a marker,
    so it is compared as a whole.
    """
    if not body:
        return ""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return "(not XML) " + body.decode("utf-8", "replace")
    for node in root.iter():
        if node.text:
            node.text = MASK
        if node is not root and node.tail:
            node.tail = MASK
    c14n: bytes = etree.tostring(root, method="c14n")
    return _prolog(body) + c14n.decode("utf-8")
