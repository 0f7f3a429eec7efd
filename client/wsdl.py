"""The packaged contract, read in one place: the WSDL bytes and its ``wsdl:types`` schema.

Both the client (to check replies) and the mock (to serve the WSDL and to
prove its models) read ``WebService.wsdl`` from the ipyy_client package, so
there is one copy of the contract and one way to read it.
"""

from __future__ import annotations

import copy
import threading
from importlib import resources

from lxml import etree

NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
_local = threading.local()  # an XMLSchema keeps its error log per object: one per thread


def packaged_wsdl() -> bytes:
    """The packaged contract, byte for byte."""
    return resources.files("ipyy_client").joinpath("WebService.wsdl").read_bytes()


def compile_schema(wsdl: bytes) -> etree.XMLSchema:
    """The ``wsdl:types`` schema of ``wsdl`` as a standalone XMLSchema (its QName values need the WSDL's prefixes,
    so the schema element is rebuilt with the namespace map it inherits)."""
    root = etree.fromstring(wsdl, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    inner = root.find(f"{{{NS_WSDL}}}types/{{{NS_XSD}}}schema")
    if inner is None:
        raise ValueError("the WSDL has no wsdl:types/xs:schema")
    element = etree.Element(inner.tag, dict(inner.attrib), nsmap=inner.nsmap)
    element.extend(copy.deepcopy(child) for child in inner)
    return etree.XMLSchema(element)


def schema() -> etree.XMLSchema:
    """The packaged WSDL's schema, compiled once per thread."""
    compiled = getattr(_local, "schema", None)
    if compiled is None:
        compiled = _local.schema = compile_schema(packaged_wsdl())
    return compiled
