"""The vendor's ResultCode table: one source for the client, the mock and the WSDL test.

The names are the wire values of the SOAP ``ResultCode`` enumeration; the
numbers are what the HTTP JSON replies carry in ``error``; the descriptions
are the vendor's own Chinese text, which the mock returns as ``Description``.
"""

from __future__ import annotations

from enum import Enum


class ResultCode(Enum):
    """A vendor result code. ``ResultCode.OK.code == 1``; ``ResultCode["MsisdnBlack"].code == 1109``."""

    OK = (1, "操作成功")
    ParamError = (1001, "参数错误")
    UserNameEmpty = (1002, "用户名为空")
    PasswordEmpty = (1003, "密码为空")
    UserNameError = (1004, "用户名错误")
    PasswordError = (1005, "密码错误")
    BindIpError = (1006, "IP绑定错误")
    UserStop = (1007, "帐户已停用")
    UserIdError = (1008, "UserId参数错误")
    Text64Error = (1009, "Text64参数错误")
    StampError = (1010, "时间戳错误")
    ContentEmpty = (2001, "内容为空")
    MsisdnEmpty = (1103, "手机号码为空")
    ExtNumberError = (1104, "扩展错误")
    ContentLong = (2105, "内容太长")
    NoChannel = (1106, "没有发送通道")
    SensitiveWords = (2107, "敏感词汇")
    MsisdnError = (1108, "错误的手机号码")
    MsisdnBlack = (1109, "黑名单的手机号码")
    MsisdnNoChannel = (1110, "没有通道的手机号码")
    AmountNotEnough = (1111, "额度不足")
    NoProduct = (1112, "没有配置产品")
    RequiredSuffix = (2113, "需要签名")
    SuffixError = (2114, "签名错误")
    SubjectEmpty = (3001, "主题为空")
    InternalError = (9999, "系统内部错误")

    @property
    def code(self) -> int:
        return self.value[0]

    @property
    def description(self) -> str:
        return self.value[1]

    @classmethod
    def from_code(cls, code: int | str) -> "ResultCode":
        """Look a code up by its number, as the HTTP JSON replies carry it."""
        number = int(code)
        for member in cls:
            if member.code == number:
                return member
        raise ValueError(f"unknown ResultCode number: {code!r}")

    def __str__(self) -> str:
        return self.name
