"""Clients generated from the WSDL the mock serves, by Mono's ``wsdl`` and Apache Axis 1.4's ``WSDL2Java``.

Why generated clients: most integrations of the vendor's service are proxies a
tool generated from ``?WSDL`` (Visual Studio, wsdl.exe, wsimport, Axis), so the
WSDL the mock serves has to produce a proxy that compiles and that reads the
mock's replies; only a real generator and a real runtime show that.

Each build runs the generator on ``<base>/WebService.asmx?WSDL`` (the served
document, not the file in the checkout), compiles the proxy together with a
small driver of ours (Driver.cs, AxisDriver.java) and caches the result under
``$XDG_CACHE_HOME/ipyy-sms/`` (or ``~/.cache/ipyy-sms/``) in a folder named by
a hash of the served WSDL (its port addresses masked, since every mock has its
own), the driver's source and the tool's version: an unchanged contract starts
at once, any change rebuilds. A build is made in a temporary folder and renamed
into place, so a failed or concurrent build leaves no half-built cache. The
drivers take the mock's address as an argument, so a cached proxy serves any
port.

A driver takes ``URL (OP USER PASSWORD MSISDNS CONTENT PLAN)...`` and prints one
JSON array of ``{"op", "result"}``; ``Built.run()`` returns the results.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from clients.scenario import Call

CLIENTS = Path(__file__).resolve().parent
JAVA_LIB = Path("/usr/share/java")
AXIS_JARS = (
    "axis.jar",
    "jaxrpc.jar",
    "saaj.jar",
    "wsdl4j.jar",
    "commons-discovery.jar",
    "commons-logging.jar",
    "javax.activation.jar",
    "javax.mail.jar",
)
MONO_TOOLS = ("mono", "mcs", "wsdl")
JAVA_TOOLS = ("java", "javac")
# Java decodes its arguments and Mono its console in the locale's charset: the messages are Chinese.
UTF8_ENV = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


class BuildError(RuntimeError):
    """A generator or compiler failed; the message carries its command and output."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ipyy-sms"


def served_wsdl(base_url: str) -> bytes:
    reply = requests.get(base_url + "/WebService.asmx?WSDL", timeout=30)
    reply.raise_for_status()
    return reply.content


def _key(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:16]


def _contract(wsdl: bytes) -> bytes:
    """The served WSDL without its port addresses: what a cached proxy depends on."""
    return re.sub(rb'location="[^"]*"', b'location=""', wsdl)


def _version(argv: list[str]) -> bytes:
    done = subprocess.run(argv, capture_output=True, env=UTF8_ENV)
    return (done.stdout + done.stderr).splitlines()[0] if done.stdout or done.stderr else b"?"


def _run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=UTF8_ENV, timeout=300)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise BuildError(f"{' '.join(argv)} exited with {done.returncode}:\n{output}")


def _cached(name: str, key: str, make: Callable[[Path], None]) -> Path:
    target = cache_root() / f"{name}-{key}"
    done = target / "built"
    if done.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}-build-", dir=target.parent))
    try:
        make(work)
        (work / "built").write_text("")
        try:
            work.rename(target)
        except OSError:  # another run finished the same build first: use its result
            if not done.is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


@dataclass(frozen=True)
class Built:
    """A compiled driver: ``command`` followed by the mock's SOAP address and the calls."""

    command: tuple[str, ...]
    folder: Path

    def run(self, url: str, calls: Sequence[Call], timeout: float = 120) -> list[dict[str, Any]]:
        argv = [*self.command, url, *(arg for call in calls for arg in call.argv())]
        done = subprocess.run(argv, capture_output=True, env=UTF8_ENV, timeout=timeout)
        stdout, stderr = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
        if done.returncode != 0:
            raise AssertionError(f"{self.command[-1]} exited with {done.returncode}:\n{stdout}\n{stderr}")
        try:
            replies = json.loads(stdout)
        except ValueError as exc:
            raise AssertionError(f"{self.command[-1]} printed no JSON ({exc}):\n{stdout}\n{stderr}") from None
        assert [r["op"] for r in replies] == [c.op for c in calls], replies
        return [r["result"] if r["result"] is not None else {"error": "null result"} for r in replies]


# -- Mono ------------------------------------------------------------------------------------------------------------
def mono_missing() -> list[str]:
    return [tool for tool in MONO_TOOLS if shutil.which(tool) is None]


def build_mono(base_url: str, protocol: str) -> Built:
    """``wsdl -protocol:SOAP`` (SOAP 1.1, the tool's default) or ``SOAP12``, then mcs with Driver.cs."""
    wsdl_url = base_url + "/WebService.asmx?WSDL"
    driver = CLIENTS / "Driver.cs"
    key = _key(
        _contract(served_wsdl(base_url)), driver.read_bytes(), protocol.encode(), _version(["mono", "--version"])
    )

    def make(work: Path) -> None:
        _run(["wsdl", "-nologo", f"-protocol:{protocol}", "-out:Proxy.cs", wsdl_url], work)
        references = ["-r:System.Web.Services.dll", "-r:System.Xml.dll"]
        _run(["mcs", "-nologo", "-codepage:utf8", "-out:driver.exe", *references, "Proxy.cs", str(driver)], work)

    folder = _cached(f"mono-wsdl-{protocol.lower()}", key, make)
    return Built(("mono", str(folder / "driver.exe")), folder)


# -- Axis ------------------------------------------------------------------------------------------------------------
def axis_missing() -> list[str]:
    missing = [tool for tool in JAVA_TOOLS if shutil.which(tool) is None]
    return missing + [str(JAVA_LIB / jar) for jar in AXIS_JARS if not (JAVA_LIB / jar).is_file()]


def axis_classpath() -> str:
    return os.pathsep.join(str(JAVA_LIB / jar) for jar in AXIS_JARS)


def build_axis(base_url: str) -> Built:
    """``WSDL2Java`` (package ``com.yysms.www``, from the namespace), then javac with AxisDriver.java."""
    wsdl_url = base_url + "/WebService.asmx?WSDL"
    driver = CLIENTS / "AxisDriver.java"
    axis = (JAVA_LIB / "axis.jar").resolve().name.encode()
    key = _key(_contract(served_wsdl(base_url)), driver.read_bytes(), axis, _version(["javac", "-version"]))
    classpath = axis_classpath()

    def make(work: Path) -> None:
        _run(["java", "-cp", classpath, "org.apache.axis.wsdl.WSDL2Java", "-o", "src", wsdl_url], work)
        sources = sorted(str(p) for p in (work / "src").rglob("*.java"))
        if not sources:
            raise BuildError(f"WSDL2Java generated no sources from {wsdl_url}")
        javac = ["javac", "-nowarn", "-encoding", "UTF-8", "-cp", classpath, "-d", "classes"]
        _run([*javac, *sources, str(driver)], work)

    folder = _cached("axis-wsdl2java", key, make)
    return Built(("java", "-cp", os.pathsep.join([str(folder / "classes"), classpath]), "AxisDriver"), folder)
