"""The SOAP service definition in spyne: the vendor's five operations and their types as models.

spyne is the service definition, nothing more: tests/test_soap_contract.py
proves the interface document spyne generates from these models equal in
meaning to ``wsdl/WebService.wsdl`` (the file the mock serves and the client
loads). The request path does not go through spyne: soap/front.py reads
requests as ASMX does (soap/reader.py) and writes replies as ASMX does
(soap/envelope.py), and tests/test_asmx_oracle.py proves those against an ASMX
service of this contract.

What spyne cannot say is written here as data the contract test reads:
``abstract="true"`` on SendResultBase (spyne has no such flag) and the
operations' documentation strings (spyne takes them from docstrings).
"""

from __future__ import annotations

import logging
from typing import Any

# isort: off
from ipyy_mock.soap import spyne_compat  # noqa: F401  (must precede every spyne import)
import spyne.const
from spyne import Application, ComplexModel, ServiceBase, rpc
from spyne.model.complex import Array, SelfReference
from spyne.model.enum import Enum
from spyne.model.primitive import DateTime, Decimal, Integer32, Long, Unicode
from spyne.protocol.soap import Soap11, Soap12

# isort: on
from ipyy_client.codes import ResultCode
from ipyy_mock.soap.envelope import TNS
from ipyy_mock.soap.reader import MMS_ELEMENT_TYPES

# spyne's MethodContext.close() runs a full gc.collect() at most once a second (for its file uploads); the mock's
# models never serve requests, but tests build spyne applications: the forced collection stays off.
spyne.const.MIN_GC_INTERVAL = float("inf")
logging.getLogger("spyne").setLevel(logging.WARNING)

__all__ = ["WebService", "spyne_application", "ABSTRACT_TYPES", "DOCUMENTATION"]

#: Types the WSDL declares abstract="true" (spyne cannot declare it).
ABSTRACT_TYPES = frozenset({"SendResultBase"})


# Occurrence and nillability spelled out on every member: spyne's defaults (minOccurs 0, nillable true) differ
# from ASMX's (minOccurs 0 and not nillable for reference types, minOccurs 1 for value types).


def _u(min_occurs: int = 0, nillable: bool = False) -> type:
    return Unicode.customize(min_occurs=min_occurs, nillable=nillable)


def _value(kind: Any) -> type:
    return kind.customize(min_occurs=1, nillable=False)


def _when() -> type:
    return DateTime.customize(min_occurs=1, nillable=True)  # a DateTime?: present, xsi:nil = not set


ResultCodeType = Enum(*[c.name for c in ResultCode], type_name="ResultCode")
MmsElementTypeType = Enum(*MMS_ELEMENT_TYPES, type_name="MmsElementType")
ArrayOfString = Array(Unicode.customize(min_occurs=0, nillable=True), type_name="ArrayOfString")


class SmsObject(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Msisdns", _u()),
        ("SMSContent", _u()),
        ("ExtNumber", _u()),
        ("PlanSendTime", _when()),
    ]


class MmsElement(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Name", _u()),
        ("ElementType", _value(MmsElementTypeType)),
        ("Base64Text", _u()),
    ]


ArrayOfMmsElement = Array(MmsElement.customize(min_occurs=0, nillable=True), type_name="ArrayOfMmsElement")


class MmsObject(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Msisdns", _u()),
        ("Subject", _u()),
        ("ExtNumber", _u()),
        ("PlanSendTime", _when()),
        ("Elements", ArrayOfMmsElement.customize(min_occurs=0, nillable=False)),
    ]


class SendResultBase(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("PayType", _value(Integer32)),
        ("StatusCode", _value(ResultCodeType)),
        ("Description", _u()),
        ("MsgId", _u()),
        ("SuccessCounts", _value(Integer32)),
        ("BillingCount", _value(Integer32)),
        ("Amount", _value(Long)),
        ("Balance", _value(Decimal)),
        ("BillingAmount", _value(Decimal)),
        ("Errors", ArrayOfString.customize(min_occurs=0, nillable=False)),
        ("AlterSendResult", SelfReference.customize(min_occurs=0, nillable=False)),
        ("CustomId", _u()),
    ]


class SendResult(SendResultBase):
    __namespace__ = TNS
    _type_info: list[tuple[str, Any]] = []


class I18NSendResult(SendResultBase):
    __namespace__ = TNS
    _type_info = [("Mark", _u())]


class HybridSms(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Account", _u()),
        ("Password", _u()),
        ("Sn", _u()),
        ("SMSContent", _u()),
        ("ExtNumber", _u()),
        ("PlanSendTime", _when()),
    ]


class HybridSendResult(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("StatusCode", _value(ResultCodeType)),
        ("Description", _u()),
        ("MsgId", _u()),
        ("Amount", _value(Long)),
        ("SuccessCounts", _value(Integer32)),
        ("BillingAmount", _value(Decimal)),
        ("ErrorsCode", ArrayOfString.customize(min_occurs=0, nillable=False)),
        ("JobType", _value(Integer32)),
    ]


def _optional(model: Any) -> type:
    return model.customize(min_occurs=0, nillable=False)


#: The operations' wsdl:documentation, as the vendor's WSDL carries it (spyne writes a method's docstring).
DOCUMENTATION = {"SendSms": "发送短信接口", "SendMms": "发送彩信接口", "SendI18NSms": "国际短信发送"}


class WebService(ServiceBase):
    """The five operations; never called (the mock's request path is soap/front.py)."""

    @rpc(_u(), _u(), _optional(SmsObject), _returns=_optional(SendResult))
    def SendSms(ctx, userName, password, sms):  # noqa: N802,N803 - wire names
        """发送短信接口"""

    @rpc(_u(), _u(), _optional(MmsObject), _returns=_optional(SendResult))
    def SendMms(ctx, userName, password, mms):  # noqa: N802,N803
        """发送彩信接口"""

    @rpc(_u(), _u(), _optional(SmsObject), _returns=_optional(SendResultBase))
    def SendI18NSms(ctx, userName, password, sms):  # noqa: N802,N803
        """国际短信发送"""

    @rpc(_u(), _u(), _optional(SmsObject), _returns=_optional(SendResultBase))
    def SendHybridSms(ctx, userName, password, sms):  # noqa: N802,N803
        pass

    @rpc(_optional(HybridSms), _returns=_optional(HybridSendResult))
    def HybridSend(ctx, body):  # noqa: N802
        pass


def spyne_application(protocol: str = "soap11") -> Application:
    """The spyne Application for one SOAP version ("soap11" / "soap12"): its interface document is the model."""
    proto = {"soap11": Soap11, "soap12": Soap12}[protocol]
    # I18NSendResult is named by no operation: listed so the interface document declares it, as the WSDL does
    return Application(
        [WebService],
        tns=TNS,
        name="WebService",
        in_protocol=proto(validator="soft"),
        out_protocol=proto(),
        classes=[I18NSendResult],
    )
