"""``ipyy check``: a read-only, zero-cost contract check of a gateway endpoint (the mock or the vendor).

Why this shape: every check is a request whose outcome costs nothing and
hands nothing out, so the check can run against the real vendor with a real
account as often as wanted:

* the WSDL is fetched and compared, in meaning, with the packaged one;
* sends go out with an EMPTY recipient list (SOAP 1.1 and 1.2, both
  operations, the HTTP send and the domestic ``sms.aspx`` / ``smsJson.aspx``
  send): the platform refuses them with ``MsisdnEmpty`` before anything is
  stored or charged;
* the balance is queried on the HTTP interface (money) and on the domestic
  one in both formats (points);
* delivery reports are queried for task id 1, which no account of the mock
  has (ids start at 1000001) and which a vendor account will not have either,
  so nothing is handed out (``statusNum=1`` caps it even if a server ignored
  the filter; whatever came back is shown);
* the uplink queries have no task filter, so a pull would consume uplinks a
  real user needs: by default only their error shape is checked (a wrong
  password), and a real pull (one item per format, shown) needs
  ``include_uplinks=True`` (``--include-uplinks``);
* wrong-password replies of the status and uplink queries are checked
  against the vendor document's exact bodies.

Parsing reuses the client's own code (``http.parse_xml``, ``xml_fields``,
``boxes_from_xml``, ``parse_json_boxes``, ``xml_error``, ``SoapClient``,
``HttpClient``, ``DomesticClient``); what is added here is the structural validation the client
is deliberately lenient about (exact element names and keys, the XML
declaration, string-typed JSON values) and the WSDL normaliser.

Each check yields a ``CheckResult``; ``CheckReport.exit_code`` is 0 when all
pass, 1 when one fails, 3 when the endpoint could not be reached (the run
stops at the first request that got no reply).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import requests
from lxml import etree

from ipyy_client import wsdl
from ipyy_client._common import DEFAULT_BASE_URL, check_base_url, root_cause
from ipyy_client._masking import Secrets
from ipyy_client.codes import ResultCode
from ipyy_client.domestic import PATHS as DOMESTIC_PATHS
from ipyy_client.domestic import DomesticClient
from ipyy_client.encoding import md5_password
from ipyy_client.errors import IpyyError, PasswordError, ReportsNotAllowed, TransportError
from ipyy_client.http import (
    HttpClient,
    boxes_from_xml,
    message_error,
    parse_json_boxes,
    parse_xml,
    xml_error,
    xml_fields,
)
from ipyy_client.results import MSG_REPORTS_NOT_ALLOWED, PAY_TYPES
from ipyy_client.soap import SoapClient

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_TRANSPORT = 3

#: The result type (xsi:type) each SOAP send's reply carries (docs/contract.md §2).
SOAP_RESULT_TYPES = {"SendSms": "SendResult", "SendI18NSms": "I18NSendResult", "SendHybridSms": "SendResult"}
#: The task id the report queries filter on: no account has it, so nothing is handed out.
ABSENT_TASK_ID = 1
#: A valid, signed text for the empty-recipient sends (the recipient check refuses them first).
CHECK_CONTENT = "ipyy check【ipyy】"
REPORT_FIELDS = ("mobile", "taskid", "status", "receivetime", "errorcode", "extno")
UPLINK_FIELDS = ("mobile", "taskid", "content", "receivetime", "extno")
BOX_FIELDS = {"statusbox": REPORT_FIELDS, "callbox": UPLINK_FIELDS}
OVERAGE_FIELDS = ("returnstatus", "message", "payinfo", "balance")
#: The domestic replies' element names / JSON keys, exact case (the vendor's recorded replies).
DOMESTIC_SEND_FIELDS = ("returnstatus", "message", "remainpoint", "taskID", "successCounts")
DOMESTIC_OVERAGE_FIELDS = ("returnstatus", "message", "payinfo", "overage", "sendTotal")
_WHOLE = re.compile(r"-?[0-9]+")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The vendor document's wrong-password replies, to the byte.
BAD_PASSWORD_JSON = '{{"error":"1005","remark":"密码错了","{box}":[]}}'
BAD_PASSWORD_XML = ("2", "用户名或密码错误")
_XML_DECLARATION = re.compile(
    rb'^<\?xml\s+version\s*=\s*["\']1\.0["\']\s+encoding\s*=\s*["\']utf-8["\']\s*\?>', re.IGNORECASE
)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_MAX_DIFFS_SHOWN = 4


class CheckFailed(Exception):
    """A reply arrived but breaks the contract; the message is the detail line."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False

    @property
    def result(self) -> str:
        return "SKIP" if self.skipped else ("PASS" if self.ok else "FAIL")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "skipped": self.skipped}


@dataclass
class CheckReport:
    base_url: str
    results: list[CheckResult] = field(default_factory=list)
    #: Set when a request got no reply (refused, DNS, timeout): the run stopped there.
    transport_error: TransportError | None = None

    @property
    def exit_code(self) -> int:
        if self.transport_error is not None:
            return EXIT_TRANSPORT
        return EXIT_OK if all(r.ok for r in self.results) else EXIT_FAILED


# --- WSDL normaliser ------------------------------------------------------------------

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
SOAP11_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
HTTP_NS = "http://schemas.xmlsoap.org/wsdl/http/"
#: Display prefixes: the served document's own prefixes are irrelevant.
PREFIXES = {
    WSDL_NS: "wsdl",
    XSD_NS: "xs",
    SOAP11_NS: "soap",
    SOAP12_NS: "soap12",
    HTTP_NS: "http",
    "http://schemas.xmlsoap.org/wsdl/mime/": "mime",
    "http://microsoft.com/wsdl/mime/textMatching/": "tm",
}
_QNAME_ATTRS = {"type", "element", "message", "binding", "base", "ref", "itemType", "substitutionGroup"}
_QNAME_LIST_ATTRS = {"memberTypes"}
_ADDRESSES = {f"{{{ns}}}address" for ns in (SOAP11_NS, SOAP12_NS, HTTP_NS)}
_IGNORED = {f"{{{WSDL_NS}}}documentation", f"{{{XSD_NS}}}annotation"}
_KEY_ATTR = {f"{{{XSD_NS}}}enumeration": "value", f"{{{XSD_NS}}}schema": "targetNamespace"}
_PARTICLE_PARENTS = {f"{{{XSD_NS}}}{t}" for t in ("sequence", "choice", "all")}
_ORDERED = {f"{{{XSD_NS}}}sequence", f"{{{XSD_NS}}}choice"}
_BOOLEANS = {"nillable", "abstract", "mixed"}
_DEFAULTS = {  # XSD's own defaults: leaving one out says the same as writing it
    f"{{{XSD_NS}}}schema": {"elementFormDefault": "unqualified", "attributeFormDefault": "unqualified"},
    f"{{{XSD_NS}}}complexType": {"abstract": "false", "mixed": "false"},
    f"{{{XSD_NS}}}complexContent": {"mixed": "false"},
    f"{{{XSD_NS}}}element": {"abstract": "false"},
}

Path = tuple[str, ...]
NormalWsdl = dict[Path, dict[str, str]]


packaged_wsdl = wsdl.packaged_wsdl  # the WSDL shipped in the package (the contract the client is built on)


def parse_wsdl(data: bytes) -> etree._Element:
    """Parse a WSDL safely: DOCTYPEs refused, entities never resolved, nothing fetched. CheckFailed otherwise."""
    if not data or not data.strip():
        raise CheckFailed("empty WSDL")
    if _DOCTYPE.search(data):
        raise CheckFailed("WSDL has a DOCTYPE (refused: DTDs and entities are never processed)")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise CheckFailed(f"WSDL is not well-formed XML ({exc}); starts: {_snippet(data)}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CheckFailed("WSDL has a DOCTYPE (refused: DTDs and entities are never processed)")
    if root.tag != f"{{{WSDL_NS}}}definitions":
        raise CheckFailed(f"not a WSDL 1.1 document: root is <{_clark_display(_tag_of(root), None)}>")
    return root


def _tag_of(el: etree._Element) -> str:
    """An element's tag as text (a comment's or processing instruction's tag is a function, not a name)."""
    return el.tag if isinstance(el.tag, str) else f"(not an element: {type(el).__name__})"


def normalise_wsdl(data: bytes | etree._Element) -> NormalWsdl:
    """A WSDL as ``{path: attributes}``: prefixes, formatting, comments, documentation and addresses ignored.

    Paths name each node by its namespace-resolved tag and its ``name`` (or
    ``value`` / ``targetNamespace``); QName-valued attributes are resolved
    and shown with fixed prefixes (``xs:``, ``tns:``); defaults are filled in
    (``minOccurs``/``maxOccurs`` 1, ``nillable`` false, ...) so that leaving
    one out equals writing it. An ``xs:sequence`` carries the order of its
    members as the pseudo-attribute ``order``. Port addresses are dropped.
    """
    root = parse_wsdl(data) if isinstance(data, bytes) else data
    tns = root.get("targetNamespace")
    out: NormalWsdl = {}

    def label(el: etree._Element) -> str:
        tag = _clark_display(_tag_of(el), None)
        key = el.get(_KEY_ATTR.get(_tag_of(el), "name"))
        if key is None:
            return tag
        if el.tag == f"{{{XSD_NS}}}schema" and key == tns:
            key = "tns"
        return f"{tag}[{key}]"

    def walk(el: etree._Element, path: Path) -> None:
        attrs: dict[str, str] = {}
        key_attr = _KEY_ATTR.get(_tag_of(el), "name")
        for name, value in el.attrib.items():
            if name == key_attr or (name == "location" and el.tag in _ADDRESSES):
                continue
            local = etree.QName(name).localname if name.startswith("{") else name
            if local in _QNAME_ATTRS:
                value = _qname_display(el, value, tns)
            elif local in _QNAME_LIST_ATTRS:
                value = " ".join(_qname_display(el, v, tns) for v in value.split())
            elif local in _BOOLEANS:
                value = {"1": "true", "0": "false"}.get(value.strip(), value.strip())
            attrs[_clark_display(name, None) if name.startswith("{") else name] = value
        for name, value in _DEFAULTS.get(_tag_of(el), {}).items():
            attrs.setdefault(name, value)
        if el.tag == f"{{{XSD_NS}}}element":
            attrs.setdefault("nillable", "false")
            parent = el.getparent()
            if parent is not None and parent.tag in _PARTICLE_PARENTS:
                attrs.setdefault("minOccurs", "1")
                attrs.setdefault("maxOccurs", "1")
        children = [c for c in el.iterchildren() if isinstance(c.tag, str) and c.tag not in _IGNORED]
        labels: list[str] = []
        seen: dict[str, int] = {}
        for child in children:
            text = label(child)
            seen[text] = seen.get(text, 0) + 1
            labels.append(text if seen[text] == 1 else f"{text}#{seen[text]}")
        if el.tag in _ORDERED:
            attrs["order"] = ", ".join(labels)
        out[path] = attrs
        for child, text in zip(children, labels):
            walk(child, (*path, text))

    walk(root, (label(root),))
    return out


def diff_wsdl(packaged: NormalWsdl, served: NormalWsdl) -> list[str]:
    """Human-readable differences, in document order; a missing subtree is reported once at its top."""
    lines: list[str] = []
    for path, attrs in packaged.items():
        if path not in served:
            if path[:-1] in served:
                lines.append(f"{_path_text(path)}: missing from the served WSDL")
            continue
        other = served[path]
        for name in [*attrs, *(n for n in other if n not in attrs)]:
            mine, theirs = attrs.get(name), other.get(name)
            if mine != theirs:
                lines.append(
                    f"{_path_text(path)}: {name} is {_value_text(theirs)} in the served WSDL, "
                    f"{_value_text(mine)} in the packaged one"
                )
    for path in served:
        if path not in packaged and path[:-1] in packaged:
            lines.append(f"{_path_text(path)}: in the served WSDL only")
    return lines


def _clark_display(name: str, tns: str | None) -> str:
    qname = etree.QName(name)
    if qname.namespace is None:
        return str(qname.localname)
    if tns is not None and qname.namespace == tns:
        return f"tns:{qname.localname}"
    prefix = PREFIXES.get(qname.namespace)
    return f"{prefix}:{qname.localname}" if prefix else f"{{{qname.namespace}}}{qname.localname}"


def _qname_display(el: etree._Element, value: str, tns: str | None) -> str:
    value = value.strip()
    prefix, sep, local = value.rpartition(":")
    namespace = el.nsmap.get(prefix if sep else None)
    if sep and namespace is None:
        return f"?{prefix}:{local}"  # an undeclared prefix: shown as such, so it differs
    return _clark_display(f"{{{namespace}}}{local}" if namespace else local, tns)


def _path_text(path: Path) -> str:
    return "/".join(path[1:]) or path[0]


def _value_text(value: str | None) -> str:
    return "absent" if value is None else repr(value)


def _summary(normal: NormalWsdl) -> str:
    ops = {
        p[-1]
        for p in normal
        if len(p) >= 3 and p[-2].startswith("wsdl:portType[") and p[-1].startswith("wsdl:operation[")
    }
    bindings = [p[-1] for p in normal if len(p) == 2 and p[-1].startswith("wsdl:binding[")]
    ports = [p[-1] for p in normal if len(p) == 3 and p[-1].startswith("wsdl:port[")]
    return f"{len(ops)} operations, {len(bindings)} bindings, {len(ports)} ports, {len(normal)} nodes"


# --- helpers --------------------------------------------------------------------------


def _snippet(body: bytes, size: int = 80) -> str:
    return repr(body[:size].decode("utf-8", "replace"))


def _same(actual: Iterable[str], expected: Iterable[str], what: str) -> None:
    """Exactly the expected names, each once (order free); CheckFailed naming the difference."""
    actual, expected = list(actual), list(expected)
    missing = [n for n in expected if n not in actual]
    extra = [n for n in actual if n not in expected]
    dupes = sorted({n for n in actual if actual.count(n) > 1})
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected {', '.join(extra)}")
    if dupes:
        problems.append(f"repeated {', '.join(dupes)}")
    if problems:
        raise CheckFailed(f"{what}: {'; '.join(problems)}")


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CheckFailed(f"{what} is not a decimal: {text[:40]!r}") from None
    if not value.is_finite():
        raise CheckFailed(f"{what} is not a finite decimal: {text[:40]!r}")
    return value


def _check_fields(fields: dict[str, str], box: str, index: int) -> None:
    """One statusbox / callbox item's values: ids and status digits, the time as yyyy-MM-dd HH:mm:ss."""
    where = f"{box} #{index + 1}"
    if not fields.get("mobile", "").strip():
        raise CheckFailed(f"{where}: empty mobile")
    taskid = fields.get("taskid", "").strip()
    if taskid and not taskid.isdigit():
        raise CheckFailed(f"{where}: taskid {taskid[:20]!r} is not a number")
    if box == "statusbox":
        if not taskid:
            raise CheckFailed(f"{where}: empty taskid")
        if fields.get("status", "").strip() not in ("10", "20"):
            raise CheckFailed(f"{where}: status {fields.get('status', '')[:20]!r} is neither 10 nor 20")
    try:
        datetime.strptime(fields.get("receivetime", "").strip(), TIME_FORMAT)
    except ValueError:
        raise CheckFailed(
            f"{where}: receivetime {fields.get('receivetime', '')[:30]!r} is not yyyy-MM-dd HH:mm:ss"
        ) from None


def _describe_items(box: str, items: list[dict[str, str]]) -> str:
    if box == "statusbox":
        return "; ".join(f"task {i['taskid']} {i['mobile']} status {i['status']} {i['errorcode']}" for i in items)
    return "; ".join(f"{i['mobile']} (task {i['taskid'] or '-'}) {i['content']!r} at {i['receivetime']}" for i in items)


# --- the checks -----------------------------------------------------------------------


class _Checker:
    def __init__(self, base_url: str, account: str, password: str, userid: str, timeout: float) -> None:
        self.base_url = base_url
        self.account = account
        self.password = password
        self.userid = userid
        self.timeout = timeout
        self.session = requests.Session()
        self.pay_type: str | None = None
        self.notes: list[str] = []
        wrong = "ipyy-check-not-the-password"
        self.wrong_password = wrong if wrong != password else wrong + "!"
        self.secrets = Secrets(password or "", self.wrong_password)  # every wire form, built once for all details

    # -- wire ---------------------------------------------------------------------

    def form(self, password: str | None = None, **extra: str) -> dict[str, str]:
        secret = self.password if password is None else password
        return {
            "userid": self.userid,
            "account": self.account,
            "password": md5_password(secret) if secret else "",
            **extra,
        }

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> requests.Response:
        url = self.base_url + path
        try:
            response = self.session.request(method, url, data=data, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise TransportError(f"{url}: {root_cause(exc)}") from None
        if response.status_code != 200:
            where = response.headers.get("Location")
            extra = f" (redirect to {where})" if where else ""
            raise CheckFailed(
                f"HTTP {response.status_code}{extra} from {path}; body starts: {_snippet(response.content)}"
            )
        return response

    def xml_reply(self, response: requests.Response) -> etree._Element:
        """The ``<returnsms>`` root, after the declaration and exact root name are checked."""
        body = response.content
        if not _XML_DECLARATION.match(body):
            raise CheckFailed(
                f'reply does not start with <?xml version="1.0" encoding="utf-8" ?>; starts: {_snippet(body)}'
            )
        root = parse_xml(body, response.status_code)  # DOCTYPE refused, root must be returnsms
        if root.tag != "returnsms":
            raise CheckFailed(f"reply root is <{_tag_of(root)}>, not <returnsms>")
        self.content_type(response, "xml")
        return root

    def json_reply(self, response: requests.Response) -> tuple[str, Any]:
        text = response.content.decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError:
            raise CheckFailed(f"reply is not JSON; starts: {_snippet(response.content)}") from None
        if not isinstance(data, dict):
            raise CheckFailed(f"JSON reply is a {type(data).__name__}, not an object")
        self.content_type(response, "json")
        return text, data

    def content_type(self, response: requests.Response, kind: str) -> None:
        ctype = response.headers.get("Content-Type", "")
        if kind not in ctype.lower():
            self.notes.append(f"Content-Type {ctype or 'absent'!r}, expected {kind}")

    def with_notes(self, detail: str) -> str:
        notes, self.notes = self.notes, []
        return detail + ("" if not notes else " (note: " + "; ".join(notes) + ")")

    def scrub(self, text: str) -> str:
        """Details quote server bytes; a hostile server could echo the password in any of its wire forms."""
        return self.secrets.text(text)

    # -- 1. WSDL -------------------------------------------------------------------

    def wsdl(self) -> str:
        response = self.request("GET", "/WebService.asmx?WSDL")
        root = parse_wsdl(response.content)
        self.content_type(response, "xml")
        namespace = root.get("targetNamespace")
        if namespace != wsdl.TNS:
            raise CheckFailed(f"targetNamespace is {namespace!r}, expected {wsdl.TNS!r} (the vendor's namespace)")
        operations = [
            op.get("name") for op in root.iterfind(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation") if op.get("name")
        ]
        missing = [op for op in wsdl.OPERATIONS if op not in operations]
        if missing:
            raise CheckFailed(
                f"operation(s) {', '.join(missing)} missing (the served WSDL has {', '.join(operations)})"
            )
        differences = diff_wsdl(normalise_wsdl(packaged_wsdl()), normalise_wsdl(root))
        if differences:
            shown = "; ".join(differences[:_MAX_DIFFS_SHOWN])
            more = f" (+{len(differences) - _MAX_DIFFS_SHOWN} more)" if len(differences) > _MAX_DIFFS_SHOWN else ""
            raise CheckFailed(f"{len(differences)} difference(s) from the packaged WSDL: {shown}{more}")
        return (
            f"same contract as the packaged WSDL: namespace {namespace}, {', '.join(operations)} "
            f"({_summary(normalise_wsdl(root))}; addresses ignored)"
        )

    # -- 4. balance ----------------------------------------------------------------

    def balance(self) -> str:
        root = self.xml_reply(self.request("POST", "/I18NSms.aspx", self.form(action="overage")))
        _same([_tag_of(c) for c in root], OVERAGE_FIELDS, "<returnsms> children")
        fields = xml_fields(root)
        if fields["returnstatus"] != "Success":
            error = xml_error(root)
            raise CheckFailed(
                f"returnstatus {fields['returnstatus']!r}, message {fields['message']!r}"
                + (f" ({error})" if error else "")
            )
        if fields["message"] != "操作成功":
            raise CheckFailed(f"message {fields['message']!r}, expected '操作成功'")
        if fields["payinfo"] not in PAY_TYPES:
            raise CheckFailed(f"payinfo {fields['payinfo']!r} is neither 预付费 nor 后付费")
        amount = _decimal(fields["balance"], "balance")
        self.pay_type = PAY_TYPES[fields["payinfo"]]
        if self.pay_type == "prepaid" and amount < 0:
            raise CheckFailed(f"prepaid balance {amount} is below zero")
        return f"Success, payinfo {fields['payinfo']} ({self.pay_type}), balance {amount}"

    # -- 2. SOAP -------------------------------------------------------------------

    def soap_empty_send(self, version: int, operation: str) -> str:
        with SoapClient(
            self.account,
            self.password,
            self.base_url,
            soap_version=version,  # type: ignore[arg-type]
            timeout=self.timeout,
            session=self.session,
        ) as client:
            send = {"SendSms": client.send_sms, "SendI18NSms": client.send_i18n_sms}.get(
                operation, client.send_hybrid_sms
            )
            result = send([], CHECK_CONTENT)  # the client validates the reply against the WSDL schema (strict)
        if result.status is not ResultCode.MsisdnEmpty:
            raise CheckFailed(f"StatusCode {result.status.name} ({result.description!r}), expected MsisdnEmpty")
        if result.billing_amount != 0 or result.billing_count != 0 or result.success_counts != 0:
            raise CheckFailed(
                f"a refused send was charged: BillingAmount {result.billing_amount}, "
                f"BillingCount {result.billing_count}, SuccessCounts {result.success_counts}"
            )
        if result.msg_id is not None:
            raise CheckFailed(f"a refused send has MsgId {result.msg_id!r}, expected none (no task)")
        if result.errors:
            raise CheckFailed(f"Errors should be empty, got {list(result.errors)}")
        expected_type = SOAP_RESULT_TYPES[operation]
        if result.result_type != expected_type:
            raise CheckFailed(f"the result is a {result.result_type}, expected {expected_type} (xsi:type)")
        if not result.balance.is_finite() or (self.pay_type == "prepaid" and result.balance < 0):
            raise CheckFailed(f"Balance {result.balance} is not a sensible {self.pay_type or ''} balance")
        return (
            f"MsisdnEmpty {result.description!r}, {result.result_type}, no MsgId, Balance {result.balance}, "
            f"Amount {result.amount}, charged {result.billing_amount} ({result.billing_count} segments)"
        )

    # -- 3. HTTP send --------------------------------------------------------------

    def http_empty_send(self) -> str:
        with HttpClient(
            self.account,
            self.password,
            self.userid,
            self.base_url,
            timeout=self.timeout,
            session=self.session,
            retries=0,
        ) as client:
            result = client.send([], CHECK_CONTENT)
        if result.status != "Faild" or result.message != ResultCode.MsisdnEmpty.description:
            raise CheckFailed(
                f"returnstatus {result.status!r}, message {result.message!r}; "
                f"expected 'Faild', '{ResultCode.MsisdnEmpty.description}'"
            )
        if result.code is not ResultCode.MsisdnEmpty:
            raise CheckFailed(f"message reads as {result.code}, expected MsisdnEmpty")
        if result.task_id is not None or result.billing_amount != 0 or result.success_counts != 0:
            raise CheckFailed(
                f"a refused send has taskID {result.task_id}, BillingAmount {result.billing_amount}, "
                f"successCounts {result.success_counts}; expected empty, 0, 0"
            )
        return (
            f"Faild {result.message!r} (MsisdnEmpty), taskID empty, BillingAmount {result.billing_amount}, "
            f"balance {result.balance}"
        )

    # -- 3b. the domestic interface (sms.aspx / smsJson.aspx) -----------------------

    def domestic_fields(self, fmt: str, expected: tuple[str, ...], **form: str) -> dict[str, str]:
        """One domestic reply's values, after its exact names (and, in JSON, string values) are checked."""
        response = self.request("POST", DOMESTIC_PATHS[fmt], self.form(**form))
        if fmt == "xml":
            root = self.xml_reply(response)
            _same([_tag_of(c) for c in root], expected, "<returnsms> children")
            if any(len(c) for c in root):
                raise CheckFailed("<returnsms> has nested elements")
            return {_tag_of(c): "".join(c.itertext()) for c in root}
        _, body = self.json_reply(response)
        _same(body, expected, "JSON keys")
        bad = [k for k, v in body.items() if not isinstance(v, str)]
        if bad:
            raise CheckFailed(f"{', '.join(bad)} not strings (the vendor sends every value as a string)")
        return {str(k): v for k, v in body.items()}

    def domestic_client(self) -> DomesticClient:
        return DomesticClient(
            self.account,
            self.password,
            self.userid,
            self.base_url,
            timeout=self.timeout,
            session=self.session,
            retries=0,
        )

    def domestic_empty_send(self, fmt: Literal["xml", "json"]) -> str:
        fields = self.domestic_fields(
            fmt, DOMESTIC_SEND_FIELDS, action="send", mobile="", content=CHECK_CONTENT, sendTime="", extno=""
        )
        got = (fields["returnstatus"], fields["message"])
        if got != ("Faild", ResultCode.MsisdnEmpty.description):
            raise CheckFailed(
                f"returnstatus {got[0]!r}, message {got[1]!r}; expected 'Faild', '{ResultCode.MsisdnEmpty.description}'"
            )
        if fields["taskID"] != "" or fields["successCounts"] != "0":
            raise CheckFailed(
                f"a refused send has taskID {fields['taskID']!r}, successCounts "
                f"{fields['successCounts']!r}; expected empty and 0"
            )
        if not _WHOLE.fullmatch(fields["remainpoint"]):
            raise CheckFailed(f"remainpoint {fields['remainpoint'][:20]!r} is not a whole number")
        with self.domestic_client() as client:
            result = client.send([], CHECK_CONTENT, fmt=fmt)
        if result.code is not ResultCode.MsisdnEmpty or result.task_id is not None:
            raise CheckFailed(
                f"the client reads it as {result.code} with task {result.task_id}, expected MsisdnEmpty and none"
            )
        return self.with_notes(
            f"Faild {fields['message']!r} (MsisdnEmpty), taskID empty, successCounts 0, "
            f"remainpoint {fields['remainpoint']}"
        )

    def domestic_balance(self, fmt: Literal["xml", "json"]) -> str:
        fields = self.domestic_fields(fmt, DOMESTIC_OVERAGE_FIELDS, action="overage")
        status = fields["returnstatus"]
        if status not in ("Sucess", "Success"):
            raise CheckFailed(
                f"returnstatus {status!r}, message {fields['message']!r} ({message_error(fields['message'])})"
            )
        if status == "Success":
            self.notes.append("returnstatus 'Success'; the vendor writes 'Sucess' here (clients accept both)")
        if fields["message"] not in ("", "操作成功"):
            raise CheckFailed(f"message {fields['message']!r}, expected empty (or '操作成功')")
        if fields["payinfo"] not in PAY_TYPES:
            raise CheckFailed(f"payinfo {fields['payinfo']!r} is neither 预付费 nor 后付费")
        for name in ("overage", "sendTotal"):
            if not _WHOLE.fullmatch(fields[name]):
                raise CheckFailed(f"{name} {fields[name][:20]!r} is not a whole number of points")
        with self.domestic_client() as client:
            info = client.balance(fmt=fmt)
        if str(info.points) != fields["overage"] or info.pay_type != PAY_TYPES[fields["payinfo"]]:
            raise CheckFailed(
                f"the client reads it as {info}, the reply says overage {fields['overage']} payinfo {fields['payinfo']}"
            )
        return self.with_notes(
            f"{status}, payinfo {fields['payinfo']} ({info.pay_type}), overage "
            f"{info.points} point(s), sendTotal {info.send_total}"
        )

    # -- 5/6. report and uplink queries --------------------------------------------

    def pull_xml(self, path: str, box: str, data: dict[str, str]) -> str:
        response = self.request("POST", path, data)
        root = self.xml_reply(response)
        if any(c.tag == "errorstatus" for c in root):
            return self.refused(xml_error(root), root_tags=[_tag_of(c) for c in root])
        raw: list[dict[str, str]] = []
        for index, child in enumerate(root):
            if child.tag != box:
                raise CheckFailed(f"<returnsms> child <{_tag_of(child)}>, expected only <{box}>")
            _same([_tag_of(c) for c in child], BOX_FIELDS[box], f"<{box}> #{index + 1} children")
            if any(len(c) for c in child):
                raise CheckFailed(f"<{box}> #{index + 1} has nested elements")
            fields = {_tag_of(c): "".join(c.itertext()) for c in child}
            _check_fields(fields, box, index)
            raw.append(fields)
        items = boxes_from_xml(root, boxes=(box,))  # the client reads what was validated
        return self.pulled(box, raw, len(items), data)

    def pull_json(self, path: str, box: str, data: dict[str, str]) -> str:
        response = self.request("POST", path, data)
        _, body = self.json_reply(response)
        error = body.get("error")
        if error != "1":
            try:
                parse_json_boxes(response.content, box)
            except IpyyError as exc:
                return self.refused(exc, json_body=body)
            raise CheckFailed(f"'error' is {error!r}, expected the string \"1\"")
        _same(body, ("error", "remark", box), "JSON keys")
        if not isinstance(body["remark"], str):
            raise CheckFailed(f"'remark' is a {type(body['remark']).__name__}, not a string")
        items = body[box]
        if not isinstance(items, list):
            raise CheckFailed(f"'{box}' is a {type(items).__name__}, not a list")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise CheckFailed(f"'{box}' #{index + 1} is a {type(item).__name__}, not an object")
            _same(item, BOX_FIELDS[box], f"'{box}' #{index + 1} keys")
            bad = [k for k, v in item.items() if not isinstance(v, str)]
            if bad:
                raise CheckFailed(f"'{box}' #{index + 1}: {', '.join(bad)} not strings")
            _check_fields(item, box, index)
        parsed = parse_json_boxes(response.content, box)
        return self.pulled(box, items, len(parsed), data)

    def pulled(self, box: str, raw: list[dict[str, str]], parsed: int, data: dict[str, str]) -> str:
        if parsed != len(raw):
            raise CheckFailed(f"the client read {parsed} of {len(raw)} {box} items")
        noun = "report" if box == "statusbox" else "uplink"
        task = data.get("taskid")
        if task is not None:
            strays = [i for i in raw if i["taskid"] != task]
            if strays:
                raise CheckFailed(
                    f"asked for task {task} only, was handed (and so consumed) {_describe_items(box, strays)}"
                )
        if not raw:
            where = f" for task {task}" if task else ""
            return self.with_notes(f"well-formed, 0 {noun}s{where}")
        return self.with_notes(f"well-formed, handed out {len(raw)} {noun}(s): {_describe_items(box, raw)}")

    def refused(
        self, error: IpyyError | None, *, root_tags: list[str] | None = None, json_body: dict[str, Any] | None = None
    ) -> str:
        """A pull answered with an error: fine only for "may not read reports" (nothing to pull then)."""
        if isinstance(error, ReportsNotAllowed):
            if root_tags is not None and root_tags != ["errorstatus"]:
                raise CheckFailed(f"error reply children {root_tags}, expected only <errorstatus>")
            return self.with_notes(
                f"the account may not read reports ({MSG_REPORTS_NOT_ALLOWED}); "
                "well-formed error reply, box shape not checked"
            )
        raise CheckFailed(f"refused: {error}" if error else f"unexpected reply {json_body!r}")

    def reports(self, fmt: str) -> str:
        data = self.form(action="query", statusNum="1", taskid=str(ABSENT_TASK_ID))
        if fmt == "xml":
            return self.pull_xml("/statusApi.aspx", "statusbox", data)
        return self.pull_json("/statusJsonApi.aspx", "statusbox", data)

    def uplinks(self, fmt: str) -> str:
        data = self.form(action="query", statusNum="1")
        if fmt == "xml":
            return self.pull_xml("/callApi.aspx", "callbox", data)
        return self.pull_json("/callJsonApi.aspx", "callbox", data)

    # -- 7. wrong-password shapes --------------------------------------------------

    def bad_password_xml(self, path: str) -> str:
        root = self.xml_reply(self.request("POST", path, self.form(self.wrong_password, action="query")))
        children = [c.tag for c in root]
        if children != ["errorstatus"]:
            raise CheckFailed(f"<returnsms> children {children}, expected only <errorstatus>")
        _same([_tag_of(c) for c in root[0]], ("error", "remark"), "<errorstatus> children")
        fields = xml_fields(root[0])
        got = (fields["error"], fields["remark"])
        if got != BAD_PASSWORD_XML:
            raise CheckFailed(
                f"error {got[0]!r} remark {got[1]!r}; expected error {BAD_PASSWORD_XML[0]} remark {BAD_PASSWORD_XML[1]}"
            )
        if not isinstance(xml_error(root), PasswordError):
            raise CheckFailed(f"the client reads it as {xml_error(root)!r}, not PasswordError")
        return self.with_notes(f"errorstatus error {got[0]} remark {got[1]}")

    def bad_password_json(self, path: str, box: str) -> str:
        response = self.request("POST", path, self.form(self.wrong_password, action="query"))
        text, _ = self.json_reply(response)
        expected = BAD_PASSWORD_JSON.format(box=box)
        if text.strip() != expected:
            raise CheckFailed(f"expected exactly {expected}, got {text.strip()[:200]}")
        try:
            parse_json_boxes(response.content, box)
        except PasswordError:
            return self.with_notes(expected)
        except IpyyError as exc:
            raise CheckFailed(f"the client reads it as {exc!r}, not PasswordError") from None
        raise CheckFailed("the client reads it as a success")


UPLINK_SKIP_REASON = "not run: a pull consumes uplinks (no filter exists); --include-uplinks pulls one per format"


def run_checks(
    base_url: str = DEFAULT_BASE_URL,
    account: str = "",
    password: str = "",
    *,
    userid: str = "",
    timeout: float = 30.0,
    include_uplinks: bool = False,
    on_result: Callable[[CheckResult], None] | None = None,
) -> CheckReport:
    """Run every check against ``base_url`` with the given account; see the module doc for why each costs nothing.

    Stops at the first request that got no reply (``report.transport_error``).
    ``on_result`` is called after each check (for progress output).
    """
    base_url = check_base_url(base_url)
    checker = _Checker(base_url, account, password, userid, timeout)
    steps: list[tuple[str, Callable[[], str] | None]] = [
        ("wsdl", checker.wsdl),
        ("balance", checker.balance),
        ("soap11-sendsms-empty", lambda: checker.soap_empty_send(11, "SendSms")),
        ("soap12-sendsms-empty", lambda: checker.soap_empty_send(12, "SendSms")),
        ("soap11-send-empty", lambda: checker.soap_empty_send(11, "SendI18NSms")),
        ("soap12-send-empty", lambda: checker.soap_empty_send(12, "SendI18NSms")),
        ("soap11-hybrid-empty", lambda: checker.soap_empty_send(11, "SendHybridSms")),
        ("soap12-hybrid-empty", lambda: checker.soap_empty_send(12, "SendHybridSms")),
        ("http-send-empty", checker.http_empty_send),
        ("domestic-send-empty-xml", lambda: checker.domestic_empty_send("xml")),
        ("domestic-send-empty-json", lambda: checker.domestic_empty_send("json")),
        ("domestic-balance-xml", lambda: checker.domestic_balance("xml")),
        ("domestic-balance-json", lambda: checker.domestic_balance("json")),
        ("reports-xml", lambda: checker.reports("xml")),
        ("reports-json", lambda: checker.reports("json")),
        ("reports-xml-bad-password", lambda: checker.bad_password_xml("/statusApi.aspx")),
        ("reports-json-bad-password", lambda: checker.bad_password_json("/statusJsonApi.aspx", "statusbox")),
        ("uplinks-xml-bad-password", lambda: checker.bad_password_xml("/callApi.aspx")),
        ("uplinks-json-bad-password", lambda: checker.bad_password_json("/callJsonApi.aspx", "callbox")),
        ("uplinks-xml", (lambda: checker.uplinks("xml")) if include_uplinks else None),
        ("uplinks-json", (lambda: checker.uplinks("json")) if include_uplinks else None),
    ]
    report = CheckReport(base_url)
    try:
        for name, step in steps:
            checker.notes = []
            if step is None:
                result = CheckResult(name, True, UPLINK_SKIP_REASON, skipped=True)
            else:
                try:
                    result = CheckResult(name, True, checker.scrub(step()))
                except TransportError as exc:
                    report.transport_error = exc
                    report.results.append(CheckResult(name, False, checker.scrub(f"no reply: {exc}")))
                    if on_result:
                        on_result(report.results[-1])
                    break
                except (CheckFailed, IpyyError) as exc:
                    result = CheckResult(name, False, checker.scrub(checker.with_notes(str(exc))))
            report.results.append(result)
            if on_result:
                on_result(result)
    finally:
        checker.session.close()
    return report
