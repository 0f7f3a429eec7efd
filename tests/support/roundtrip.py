"""A SOAP 1.1 + 1.2 round trip with whatever interpreter runs this file (see test_interpreters.py).

Starts that interpreter's own ``ipyy-mock serve`` on a free port and sends
through that interpreter's ``SoapClient``, so spyne, zeep and the packaged
WSDL are all exercised on that Python version. Prints one JSON line.
"""

import json
import platform
import sys
import tempfile
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for the support package

from ipyy_client import SoapClient  # noqa: E402
from support.mockproc import MockProcess  # noqa: E402

wsdl = resources.files("ipyy_client") / "WebService.wsdl"
assert wsdl.is_file() and b"WebServiceSoap12" in wsdl.read_bytes(), "the wheel must ship the WSDL"
with tempfile.TemporaryDirectory() as tmp:
    server = MockProcess(Path(tmp) / "rt.db", workers=1).start()
    try:
        results = {}
        for version in (11, 12):
            with SoapClient("demo", "demo123", base_url=server.base_url, soap_version=version) as client:
                result = client.send_i18n_sms(["8613800138000"], "round trip【华信】")
            results[version] = (result.status.name, str(result.balance), result.msg_id)
    finally:
        server.stop()
print(json.dumps({"python": platform.python_version(), "results": results, "wsdl": str(wsdl)}))
