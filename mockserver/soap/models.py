"""The SOAP service definition in spyne: the WSDL's types and operations as models.

spyne stays the service definition (the model that tests/test_soap_contract.py
proves equal in meaning to ``wsdl/WebService.wsdl``, and the serializer that
tests/test_soap_reply_template.py proves the reply template byte-identical
to). The mock's request path no longer goes through spyne: soap/front.py
reads requests the way ASMX does (soap/reader.py) and writes replies from
the template (soap/envelope.py).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal as D
from typing import Any

import spyne.const
from lxml import etree  # noqa: F401
from spyne import Application, ComplexModel, ServiceBase, rpc
from spyne.error import ValidationError
from spyne.model.complex import Array
from spyne.model.enum import Enum
from spyne.model.fault import Fault
from spyne.model.primitive import DateTime, Decimal, Integer32, Long, Unicode
from spyne.protocol.soap import Soap11, Soap12
from spyne.protocol.soap.soap11 import resolve_hrefs
from spyne.protocol.xml import XmlDocument
from spyne.server.wsgi import WsgiApplication  # noqa: F401  (tests build spyne's own WSGI app from here)

from ipyy_client.codes import ResultCode
from ipyy_mock.core.wire import SendOutcome, SendRequest
from ipyy_mock.soap import spyne_compat  # noqa: F401  (must precede every spyne import)
from ipyy_mock.soap.envelope import NS_SOAP11, NS_SOAP12, PARSER_KWARGS, TNS, reply_envelope  # noqa: F401
from ipyy_mock.soap.xsd import parse_xsd_datetime

# spyne's MethodContext.close() runs a full gc.collect() whenever a second has passed since the last one, "to
# have file descriptors returned in a timely manner" (its file-upload contexts). Measured here: 48-119 ms per
# collection with the GIL held. The mock's contexts hold no files, so the forced collection is turned off.
spyne.const.MIN_GC_INTERVAL = float("inf")
# spyne logs ~60 debug lines per request; with its loggers at WARNING every one of them returns at the level check.
logging.getLogger("spyne").setLevel(logging.WARNING)

__all__ = ["WebService", "SmsObject", "SendResultBase", "spyne_application", "PARSED_KEY", "PARSER_KWARGS"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- spyne models
# Occurrence and nillability spelled out on every member: spyne's defaults
# (minOccurs 0, nillable true) differ from the WSDL's.


def _u(min_occurs: int = 0, nillable: bool = False) -> type:
    return Unicode.customize(min_occurs=min_occurs, nillable=nillable)


ResultCodeType = Enum(*[c.name for c in ResultCode], type_name="ResultCode")

ArrayOfString = Array(Unicode.customize(min_occurs=0, nillable=True), type_name="ArrayOfString")


class SmsObject(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Msisdns", _u()),
        ("SMSContent", _u()),
        ("PlanSendTime", DateTime.customize(min_occurs=0, nillable=True)),
        ("ExtNumber", _u()),
    ]


class SendResultBase(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("StatusCode", ResultCodeType.customize(min_occurs=1, nillable=False)),
        ("Description", _u()),
        ("MsgId", Long.customize(min_occurs=1, nillable=False)),
        ("Balance", Decimal.customize(min_occurs=1, nillable=False)),
        ("BillingAmount", Decimal.customize(min_occurs=1, nillable=False)),
        ("BillingCount", Integer32.customize(min_occurs=1, nillable=False)),
        ("Errors", ArrayOfString.customize(min_occurs=0, nillable=False)),
    ]


_Sms = SmsObject.customize(min_occurs=0, nillable=False)
_Result = SendResultBase.customize(min_occurs=1, nillable=False)


class WebService(ServiceBase):
    """The two ASMX operations; the platform and the SOAP version come from ``ctx.app``."""

    @rpc(_u(), _u(), _Sms, _returns=_Result)
    def SendI18NSms(ctx, userName, password, sms):  # noqa: N802,N803 - wire names
        return _send(ctx, userName, password, sms, hybrid=False)

    @rpc(_u(), _u(), _Sms, _returns=_Result)
    def SendHybridSms(ctx, userName, password, sms):  # noqa: N802,N803 - wire names
        return _send(ctx, userName, password, sms, hybrid=True)


def _send(ctx: Any, user: str | None, password: str | None, sms: Any, *, hybrid: bool) -> SendResultBase:
    app = ctx.app
    req = SendRequest(
        account=user,
        password=password,
        msisdns=getattr(sms, "Msisdns", None),
        content=getattr(sms, "SMSContent", None),
        plan_send_time=getattr(sms, "PlanSendTime", None),
        ext_number=getattr(sms, "ExtNumber", None),
        hybrid=hybrid,
        client_ip=ctx.transport.req_env.get("REMOTE_ADDR", "") or "",
        via=app.ipyy_via,
    )
    try:
        outcome = app.ipyy_platform.send(req)
    except Exception:  # a platform bug must not become an HTTP 500: the vendor's own code for it
        log.exception("platform.send failed (%s, account %r)", app.ipyy_via, user)
        outcome = SendOutcome(code=ResultCode.InternalError)
    errors = list(outcome.errors)
    if PARSED_KEY in ctx.transport.req_env:  # served by the front: the reply from the byte template
        body = reply_envelope(
            app.ipyy_via,
            "SendHybridSms" if hybrid else "SendI18NSms",
            outcome.code.name,
            outcome.code.description,
            outcome.task_id,
            outcome.balance,
            outcome.billing_amount,
            outcome.billing_count,
            errors,
        )
        if body is not None:
            # spyne's own hatch: an out_string set by the method is sent as it is (get_out_string_pull), so the
            # returned object is never serialized; none is built (a SendResultBase costs ~80 us of CPU)
            ctx.out_string = [body]
            return None
    return SendResultBase(
        StatusCode=outcome.code.name,
        Description=outcome.code.description,
        MsgId=int(outcome.task_id),
        Balance=D(outcome.balance),
        BillingAmount=D(outcome.billing_amount),
        BillingCount=int(outcome.billing_count),
        Errors=errors or None,  # omitted when empty
    )


# ------------------------------------------------------------ spyne protocols

# The front parses the body (with spyne's own parser settings, below) and validates it; spyne then uses that
# tree instead of parsing the same bytes again.
PARSED_KEY = "ipyy.soap_parsed"


def _from_soap(envelope: Any, xmlids: Any, ns_soap: str) -> tuple[Any, Any]:
    """spyne.protocol.soap.soap11._from_soap without XPath: the Header's children and the Body's first child."""
    if xmlids:
        resolve_hrefs(envelope, xmlids)
    if envelope.tag != "{%s}Envelope" % ns_soap:
        raise Fault("Client.SoapError", "No {%s}Envelope element was found!" % ns_soap)
    header_envelope = envelope.find("{%s}Header" % ns_soap)
    body_envelope = envelope.find("{%s}Body" % ns_soap)
    if header_envelope is None and body_envelope is None:
        raise Fault("Client.SoapError", "Soap envelope is empty!")
    header = None
    if header_envelope is not None:
        header = header_envelope.getchildren()
    body = None
    if body_envelope is not None and len(body_envelope) > 0:
        body = body_envelope[0]
    return header, body


class _ProtocolFixes:
    """Overrides shared by both SOAP versions: exact decimals, empty strings, a correct dateTime parser, and the
    request document parsed once (by the front)."""

    def decompose_incoming_envelope(self, ctx: Any, message: Any = XmlDocument.REQUEST) -> None:
        # spyne's own (Soap11.decompose_incoming_envelope) with _from_soap's two XPath queries, compiled anew
        # for every request (~0.1 ms), done as element lookups; same results, same Faults.
        envelope_xml, xmlids = ctx.in_document
        header_document, body_document = _from_soap(envelope_xml, xmlids, self.ns_soap_env)
        ctx.in_document = envelope_xml
        if body_document.tag == "{%s}Fault" % self.ns_soap_env:
            ctx.in_body_doc = body_document
        else:
            ctx.in_header_doc = header_document
            ctx.in_body_doc = body_document
            ctx.method_request_string = ctx.in_body_doc.tag
            self.validate_body(ctx, message)

    def create_in_document(self, ctx: Any, charset: Any = None) -> None:
        env = getattr(ctx.transport, "req_env", None) or {}
        parsed = env.get(PARSED_KEY)
        if parsed is None:  # spyne used on its own (tests): parse as spyne does
            return super().create_in_document(ctx, charset)
        ctx.in_document = parsed  # (root, xmlids), as spyne's _parse_xml_string returns them

    def decimal_to_unicode(self, cls: Any, value: Any, **_: Any) -> str:
        return format(D(value), "f")  # str() would give '1E+2' or '1E-7', invalid xs:decimal

    def unicode_from_element(self, ctx: Any, cls: Any, element: Any) -> str:
        # <userName/> is the empty string, as in xs:string. spyne's soft validation
        # would refuse it unless the member were nillable, which the WSDL says it is not.
        if element.text is None and not len(element):
            return ""
        return super().unicode_from_element(ctx, cls, element)

    def datetime_from_unicode_iso(self, cls: Any, string: str) -> datetime:
        try:
            return parse_xsd_datetime(string)
        except ValueError as exc:  # the front checks first: only reached by direct spyne use
            raise ValidationError(string, "%s" % str(exc).replace("%", "%%")) from None


class _Soap11(_ProtocolFixes, Soap11):
    pass


class _Soap12(_ProtocolFixes, Soap12):
    pass


def spyne_application(protocol: str = "soap11", platform: Any = None) -> Application:
    """The spyne Application for one SOAP version ("soap11" / "soap12"); tests use its interface document."""
    proto = {"soap11": _Soap11, "soap12": _Soap12}[protocol]
    app = Application(
        [WebService],
        tns=TNS,
        name="WebService",
        in_protocol=proto(validator="soft", xml_declaration=False),
        out_protocol=proto(xml_declaration=False),
    )  # the front writes the ASMX declaration
    app.ipyy_platform = platform  # read by _send through ctx.app
    app.ipyy_via = protocol
    return app
