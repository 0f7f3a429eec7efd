"""The packaged contract, read in one place: the WSDL bytes, its namespace and its ``wsdl:types`` schema.

Both the client (to check replies) and the mock (to serve the WSDL, to write
replies and to prove its models) read ``WebService.wsdl`` from the ipyy_client
package, so there is one copy of the contract and one way to read it. The
contract is the vendor's own (docs/contract.md §2): namespace
``http://www.yysms.com/``, five operations.
"""

from __future__ import annotations

import copy
import threading
from importlib import resources

from lxml import etree

NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
#: The service's namespace (targetNamespace, the operations' elements, SOAPAction prefix).
TNS = "http://www.yysms.com/"
#: The namespace of this project's WSDL before 0.2 (reconstructed from the document; the vendor never used it).
OLD_TNS = "http://tempuri.org/"
#: The operations, in the WSDL's portType order.
OPERATIONS = ("SendSms", "SendMms", "SendI18NSms", "SendHybridSms", "HybridSend")
_local = threading.local()  # an XMLSchema keeps its error log per object: one per thread


def packaged_wsdl() -> bytes:
    """The packaged contract, byte for byte."""
    return resources.files("ipyy_client").joinpath("WebService.wsdl").read_bytes()


def compile_schema(wsdl: bytes, *, open_codes: bool = False) -> etree.XMLSchema:
    """The ``wsdl:types`` schema of ``wsdl`` as a standalone XMLSchema (its QName values need the WSDL's prefixes,
    so the schema element is rebuilt with the namespace map it inherits).

    ``open_codes`` drops the enumeration of ``ResultCode``: a reply with a code added after this WSDL is still
    valid (the vendor adds codes), while every other rule of the schema holds.
    """
    root = etree.fromstring(wsdl, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    inner = root.find(f"{{{NS_WSDL}}}types/{{{NS_XSD}}}schema")
    if inner is None:
        raise ValueError("the WSDL has no wsdl:types/xs:schema")
    element = etree.Element(inner.tag, dict(inner.attrib), nsmap=inner.nsmap)
    element.extend(copy.deepcopy(child) for child in inner)
    if open_codes:
        for simple in element.iterfind(f"{{{NS_XSD}}}simpleType[@name='ResultCode']"):
            for restriction in simple.iterfind(f"{{{NS_XSD}}}restriction"):
                for facet in list(restriction):
                    restriction.remove(facet)
    return etree.XMLSchema(element)


def schema() -> etree.XMLSchema:
    """The packaged WSDL's schema with open result codes (``compile_schema``), compiled once per thread: what
    the client checks a reply against."""
    compiled = getattr(_local, "schema", None)
    if compiled is None:
        compiled = _local.schema = compile_schema(packaged_wsdl(), open_codes=True)
    return compiled
