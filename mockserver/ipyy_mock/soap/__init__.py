"""The SOAP surface (/WebService.asmx): the ASMX-style front, spyne models and the reply template.

- front.py: the WSGI app (WSDL, version by content type, the safety checks, Faults)
- reader.py: the two operations read as ASMX (XmlSerializer) reads them
- envelope.py: namespaces, Faults and the reply template (wire knowledge, once)
- xsd.py: the served WSDL and xs:dateTime
- models.py: the spyne service definition, which tests prove equal to the WSDL
"""

from ipyy_mock.soap.front import make_soap_app

__all__ = ["make_soap_app"]
