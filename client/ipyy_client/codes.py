"""The vendor's ResultCode table: one source for the client, the mock and the WSDL test.

Why a table of names: on the wire (SOAP ``StatusCode``) a code is its name,
one of the 54 values of the ``ResultCode`` enumeration in the vendor's WSDL,
in the vendor's own order (a .NET client that casts the generated enum to an
integer sees that position). The vendor's interface document gives 26 of them
a number (what the HTTP JSON replies carry in ``error``) and a Chinese
description (what the vendor returns as ``Description``); for the other 28
the number is unknown (``code`` is None) and the description is this
project's wording in the vendor's style (``vendor_text`` is False), so that a
reply the mock writes with such a code still says something (docs/contract.md
§2, "ResultCode").

The vendor adds codes (its WSDL grew from 50 to 54 between 2018 and 2021): a
name this table has never seen is still a ``ResultCode`` (``ResultCode("New")``
gives a member that is not ``known``), so a reply carrying it is read, never
refused.
"""

from __future__ import annotations

import threading
from enum import Enum

#: name -> (number in the vendor document or None, description, whether the description is the vendor's own).
#: In the vendor's WSDL order (2021): the enumeration's position is the .NET enum's integer value.
_TABLE: dict[str, tuple[int | None, str, bool]] = {
    "Unknown": (None, "未知错误", False),
    "OK": (1, "操作成功", True),
    "AppInactive": (None, "应用未激活", False),
    "ParamError": (1001, "参数错误", True),
    "UserNameEmpty": (1002, "用户名为空", True),
    "PasswordEmpty": (1003, "密码为空", True),
    "UserNameError": (1004, "用户名错误", True),
    "PasswordError": (1005, "密码错误", True),
    "BindIpError": (1006, "IP绑定错误", True),
    "UserStop": (1007, "帐户已停用", True),
    "UserIdError": (1008, "UserId参数错误", True),
    "Text64Error": (1009, "Text64参数错误", True),
    "StampError": (1010, "时间戳错误", True),
    "SendTimeError": (None, "发送时间错误", False),
    "JsonError": (None, "JSON格式错误", False),
    "MsisdnEmpty": (1103, "手机号码为空", True),
    "MsisdnRepeat": (None, "手机号码重复", False),
    "NoChannel": (1106, "没有发送通道", True),
    "MsisdnError": (1108, "错误的手机号码", True),
    "MsisdnBlack": (1109, "黑名单的手机号码", True),
    "MsisdnNoChannel": (1110, "没有通道的手机号码", True),
    "AmountNotEnough": (1111, "额度不足", True),
    "NoProduct": (1112, "没有配置产品", True),
    "ExtNumberError": (1104, "扩展错误", True),
    "BalanceNotEnough": (None, "余额不足", False),
    "ChannelTypeError": (None, "通道类型错误", False),
    "TemplateError": (None, "模板错误", False),
    "FrequentOperation": (None, "操作过于频繁", False),
    "NoEnabled": (None, "未启用", False),
    "TemplateIdError": (None, "模板ID错误", False),
    "ContentEmpty": (2001, "内容为空", True),
    "ContentLong": (2105, "内容太长", True),
    "MsisdnsMany": (None, "手机号码过多", False),
    "SensitiveWords": (2107, "敏感词汇", True),
    "ContentError": (None, "内容错误", False),
    "MsisdnLess": (None, "手机号码过少", False),
    "RequiredSuffix": (2113, "需要签名", True),
    "SuffixError": (2114, "签名错误", True),
    "SubjectEmpty": (3001, "主题为空", True),
    "SubjectLong": (None, "主题太长", False),
    "FramesEmpty": (None, "帧为空", False),
    "ElementError": (None, "元素错误", False),
    "FrameError": (None, "帧错误", False),
    "FrameSizeLong": (None, "帧太大", False),
    "SmilEmpty": (None, "SMIL为空", False),
    "SmilExcessive": (None, "SMIL过多", False),
    "ElementNameRepeat": (None, "元素名称重复", False),
    "SizeLong": (None, "彩信太大", False),
    "MmsIdEmpty": (None, "彩信ID为空", False),
    "NoMmsTemplate": (None, "没有彩信模板", False),
    "TaskIdEmpty": (None, "任务ID为空", False),
    "NoRealName": (None, "未实名认证", False),
    "FaileList": (None, "失败列表", False),  # (sic): the vendor's spelling
    "InternalError": (9999, "系统内部错误", True),
}
_UNKNOWN_TEXT = (None, "", False)
#: How many names outside the table are remembered (a hostile server must not grow memory without bound).
_MAX_UNLISTED = 256
_unlisted_lock = threading.Lock()


class ResultCode(Enum):
    """A vendor result code; its value is its wire name. ``ResultCode.OK.code == 1``;
    ``ResultCode["MsisdnBlack"].code == 1109``; ``ResultCode.FrequentOperation.code is None`` (unknown).

    ``ResultCode("SomethingNew")`` is a code the table does not know: ``known`` is False, ``code`` None and
    ``description`` empty; it is equal to itself only, and never listed by iteration.
    """

    Unknown = "Unknown"
    OK = "OK"
    AppInactive = "AppInactive"
    ParamError = "ParamError"
    UserNameEmpty = "UserNameEmpty"
    PasswordEmpty = "PasswordEmpty"
    UserNameError = "UserNameError"
    PasswordError = "PasswordError"
    BindIpError = "BindIpError"
    UserStop = "UserStop"
    UserIdError = "UserIdError"
    Text64Error = "Text64Error"
    StampError = "StampError"
    SendTimeError = "SendTimeError"
    JsonError = "JsonError"
    MsisdnEmpty = "MsisdnEmpty"
    MsisdnRepeat = "MsisdnRepeat"
    NoChannel = "NoChannel"
    MsisdnError = "MsisdnError"
    MsisdnBlack = "MsisdnBlack"
    MsisdnNoChannel = "MsisdnNoChannel"
    AmountNotEnough = "AmountNotEnough"
    NoProduct = "NoProduct"
    ExtNumberError = "ExtNumberError"
    BalanceNotEnough = "BalanceNotEnough"
    ChannelTypeError = "ChannelTypeError"
    TemplateError = "TemplateError"
    FrequentOperation = "FrequentOperation"
    NoEnabled = "NoEnabled"
    TemplateIdError = "TemplateIdError"
    ContentEmpty = "ContentEmpty"
    ContentLong = "ContentLong"
    MsisdnsMany = "MsisdnsMany"
    SensitiveWords = "SensitiveWords"
    ContentError = "ContentError"
    MsisdnLess = "MsisdnLess"
    RequiredSuffix = "RequiredSuffix"
    SuffixError = "SuffixError"
    SubjectEmpty = "SubjectEmpty"
    SubjectLong = "SubjectLong"
    FramesEmpty = "FramesEmpty"
    ElementError = "ElementError"
    FrameError = "FrameError"
    FrameSizeLong = "FrameSizeLong"
    SmilEmpty = "SmilEmpty"
    SmilExcessive = "SmilExcessive"
    ElementNameRepeat = "ElementNameRepeat"
    SizeLong = "SizeLong"
    MmsIdEmpty = "MmsIdEmpty"
    NoMmsTemplate = "NoMmsTemplate"
    TaskIdEmpty = "TaskIdEmpty"
    NoRealName = "NoRealName"
    FaileList = "FaileList"
    InternalError = "InternalError"

    @property
    def code(self) -> int | None:
        """The number the vendor document gives (HTTP JSON ``error``), or None where it gives none."""
        return _TABLE.get(self.value, _UNKNOWN_TEXT)[0]

    @property
    def description(self) -> str:
        """The vendor's description, or this project's wording where the vendor's is unknown (``vendor_text``)."""
        return _TABLE.get(self.value, _UNKNOWN_TEXT)[1]

    @property
    def vendor_text(self) -> bool:
        """True when ``description`` is the vendor document's own text."""
        return _TABLE.get(self.value, _UNKNOWN_TEXT)[2]

    @property
    def known(self) -> bool:
        """False for a name outside the vendor's WSDL as this package knows it (a code added later)."""
        return self.value in _TABLE

    @classmethod
    def _missing_(cls, value: object) -> ResultCode | None:
        """A name outside the table: a member of its own (the vendor adds codes; a reply must stay readable)."""
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            return None
        with _unlisted_lock:
            found = cls._value2member_map_.get(value)
            if isinstance(found, cls):
                return found
            member = object.__new__(cls)
            member._name_ = value
            member._value_ = value
            if len(cls._value2member_map_) < len(_TABLE) + _MAX_UNLISTED:
                cls._value2member_map_[value] = member
            return member

    @classmethod
    def from_code(cls, code: int | str) -> ResultCode:
        """Look a code up by its number, as the HTTP JSON replies carry it."""
        number = int(code)
        for member in cls:
            if member.code == number:
                return member
        raise ValueError(f"unknown ResultCode number: {code!r}")

    def __str__(self) -> str:
        return self.name

    # Equal by name: a code outside the table is remembered only up to a bound, and one made past it must still
    # equal another of its name (the table's own members are singletons, so ``is`` works for them as ever).
    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, ResultCode) and self._value_ == other._value_)

    def __hash__(self) -> int:
        return hash(self._value_)

    def label(self) -> str:
        """``Name (number)``, or the name alone where the number is unknown: how messages name a code."""
        return self.name if self.code is None else f"{self.name} ({self.code})"
