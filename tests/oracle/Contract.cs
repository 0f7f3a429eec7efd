// The vendor's SOAP service (namespace http://www.yysms.com/), declared as an ASMX service so that a real
// System.Web.Services (Mono's) reads the requests and writes the replies. tests/test_asmx_oracle.py sends the same
// bytes here and to the mock and compares what comes back, with the text of every element masked.
//
// Why the types look the way they do: they are the contract of wsdl/WebService.wsdl, member for member and in its
// order (XmlSerializer writes members in declaration order and reads them in any order). Why the values look the
// way they do: the comparison is of shapes (which elements are present), and a shape depends on values (a null
// MsgId is left out, a non-null Errors is written), so each method decides as the mock decides for the same
// request: the demo account, the blacklisted test number, the signature the text must carry, the operations with
// no product. The values themselves are the mock's first-send values for the demo account; the test compares only
// those that mean the same on both sides (the result code, how many numbers were read, which were refused).
using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using System.Web.Services;
using System.Web.Services.Protocols;
using System.Xml.Serialization;

public class SmsObject
{
    public string Msisdns;
    public string SMSContent;
    public string ExtNumber;
    // DateTime? with IsNullable: minOccurs="1" nillable="true", as in the contract. XmlSerializer still binds a
    // request that leaves it out (it stays null).
    [XmlElement(IsNullable = true)]
    public DateTime? PlanSendTime;
}

public class MmsObject
{
    public string Msisdns;
    public string Subject;
    public string ExtNumber;
    [XmlElement(IsNullable = true)]
    public DateTime? PlanSendTime;
    public MmsElement[] Elements;
}

public class MmsElement
{
    public string Name;
    public MmsElementType ElementType;
    public string Base64Text;
}

public enum MmsElementType
{
    Unknown, Jpg, Gif, Png, Bmp, Smil, Wav, Mid, Amr, Mp3, Text, Xml, Mp4
}

// Written on the wire by name; the order only matters to clients that cast the enum to an integer.
public enum ResultCode
{
    Unknown, OK, AppInactive, ParamError, UserNameEmpty, PasswordEmpty, UserNameError, PasswordError,
    BindIpError, UserStop, UserIdError, Text64Error, StampError, SendTimeError, JsonError, MsisdnEmpty,
    MsisdnRepeat, NoChannel, MsisdnError, MsisdnBlack, MsisdnNoChannel, AmountNotEnough, NoProduct,
    ExtNumberError, BalanceNotEnough, ChannelTypeError, TemplateError, FrequentOperation, NoEnabled,
    TemplateIdError, ContentEmpty, ContentLong, MsisdnsMany, SensitiveWords, ContentError, MsisdnLess,
    RequiredSuffix, SuffixError, SubjectEmpty, SubjectLong, FramesEmpty, ElementError, FrameError,
    FrameSizeLong, SmilEmpty, SmilExcessive, ElementNameRepeat, SizeLong, MmsIdEmpty, NoMmsTemplate,
    TaskIdEmpty, NoRealName, FaileList, InternalError
}

// Abstract, with both subtypes included: a reply whose declared type is SendResultBase carries xsi:type.
[XmlInclude(typeof(SendResult))]
[XmlInclude(typeof(I18NSendResult))]
public abstract class SendResultBase
{
    public int PayType;
    public ResultCode StatusCode;
    public string Description;
    public string MsgId;
    public int SuccessCounts;
    public int BillingCount;
    public long Amount;
    public decimal Balance;
    public decimal BillingAmount;
    public string[] Errors;
    public SendResultBase AlterSendResult;
    public string CustomId;
}

public class SendResult : SendResultBase
{
}

public class I18NSendResult : SendResultBase
{
    public string Mark;
}

public class HybridSms
{
    public string Account;
    public string Password;
    public string Sn;
    public string SMSContent;
    public string ExtNumber;
    [XmlElement(IsNullable = true)]
    public DateTime? PlanSendTime;
}

// Not derived from SendResultBase: its own members in its own order (no PayType, ErrorsCode instead of Errors).
public class HybridSendResult
{
    public ResultCode StatusCode;
    public string Description;
    public string MsgId;
    public long Amount;
    public int SuccessCounts;
    public decimal BillingAmount;
    public string[] ErrorsCode;
    public int JobType;
}

[WebService(Namespace = "http://www.yysms.com/")]
[WebServiceBinding(ConformsTo = WsiProfiles.BasicProfile1_1)]
public class WebService : System.Web.Services.WebService
{
    // The mock's demo account and the test number it always refuses (docs/contract.md, test numbers).
    const string DemoName = "demo";
    const string DemoPassword = "demo123";
    const string BlacklistedNumber = "8613800000002";

    static bool ValidAccount(string name, string password)
    {
        return name == DemoName && password == DemoPassword;
    }

    // A refused login. The mock says UserNameError for a name it does not know and PasswordError for a wrong
    // password; both replies have this shape (no MsgId, no Errors, every number 0).
    static T Refused<T>(T result) where T : SendResultBase
    {
        result.PayType = 0;
        result.StatusCode = ResultCode.PasswordError;
        result.Description = "密码错误";
        return result;
    }

    // A send the account may make but that is refused before any number is tried: nothing is charged, so the
    // balance (100.00, Amount 2000 at 0.05 a message) is untouched; no MsgId.
    static T Declined<T>(T result, ResultCode code, string description) where T : SendResultBase
    {
        result.StatusCode = code;
        result.Description = description;
        result.Amount = 2000;
        result.Balance = 100.00m;
        result.BillingAmount = 0m;
        return result;
    }

    // The mock's signature rule: 【签名】 (or [Signature]) at the end of the text, or at its start. It is here
    // because it makes the reply depend on how the text was decoded: a text read in the wrong encoding (ASMX reads
    // text/xml without a charset as ASCII, every other byte a '?') has lost its 【】 and is refused.
    static readonly Regex SignatureAtEnd = new Regex(@"(?:【[^【】]*】|\[[^\[\]]*\])\s*$");
    static readonly Regex SignatureAtStart = new Regex(@"^\s*(?:【[^【】]*】|\[[^\[\]]*\])");

    // SendSms, SendI18NSms and SendHybridSms decide alike, in the mock's order: the account, the numbers (none:
    // MsisdnEmpty), the text (empty: ContentEmpty; unsigned: RequiredSuffix), then each number of the list split
    // on ',': the blacklisted one is listed in Errors, the others are sent at 0.05 each from a balance of 100.00.
    static T Send<T>(T result, string userName, string password, SmsObject sms) where T : SendResultBase
    {
        if (!ValidAccount(userName, password)) return Refused(result);
        result.PayType = 1;
        string numbers = sms == null ? null : sms.Msisdns;
        if (string.IsNullOrEmpty(numbers)) return Declined(result, ResultCode.MsisdnEmpty, "手机号码为空");
        string text = sms.SMSContent;
        if (string.IsNullOrWhiteSpace(text)) return Declined(result, ResultCode.ContentEmpty, "内容为空");
        if (!SignatureAtEnd.IsMatch(text) && !SignatureAtStart.IsMatch(text))
            return Declined(result, ResultCode.RequiredSuffix, "需要签名");
        int accepted = 0;
        List<string> errors = new List<string>();
        foreach (string number in numbers.Split(','))
        {
            if (number == BlacklistedNumber) errors.Add(number + ":MsisdnBlack");
            else accepted++;
        }
        result.Errors = errors.Count == 0 ? null : errors.ToArray();
        result.SuccessCounts = accepted;
        result.BillingCount = accepted;
        if (accepted == 0) return Declined(result, ResultCode.MsisdnBlack, "黑名单的手机号码");
        result.StatusCode = ResultCode.OK;
        result.Description = "操作成功";
        result.MsgId = "1000001";
        result.Amount = 1999;
        result.Balance = 99.95m;
        result.BillingAmount = 0.05m;
        return result;
    }

    [WebMethod(Description = "发送短信接口")]
    public SendResult SendSms(string userName, string password, SmsObject sms)
    {
        return Send(new SendResult(), userName, password, sms);
    }

    // No product is configured for MMS on the demo account: the mock answers NoProduct.
    [WebMethod(Description = "发送彩信接口")]
    public SendResult SendMms(string userName, string password, MmsObject mms)
    {
        SendResult result = new SendResult();
        if (!ValidAccount(userName, password)) return Refused(result);
        result.PayType = 1;
        return Declined(result, ResultCode.NoProduct, "没有配置产品");
    }

    // Declared SendResultBase, returned as I18NSendResult: the reply says xsi:type="I18NSendResult".
    [WebMethod(Description = "国际短信发送")]
    public SendResultBase SendI18NSms(string userName, string password, SmsObject sms)
    {
        return Send(new I18NSendResult(), userName, password, sms);
    }

    // Declared SendResultBase, returned as SendResult: the reply says xsi:type="SendResult".
    [WebMethod]
    public SendResultBase SendHybridSms(string userName, string password, SmsObject sms)
    {
        return Send(new SendResult(), userName, password, sms);
    }

    [WebMethod]
    public HybridSendResult HybridSend(HybridSms body)
    {
        HybridSendResult result = new HybridSendResult();
        if (body == null || !ValidAccount(body.Account, body.Password))
        {
            result.StatusCode = ResultCode.PasswordError;
            result.Description = "密码错误";
            return result;
        }
        result.StatusCode = ResultCode.NoProduct;
        result.Description = "没有配置产品";
        result.Amount = 2000;
        result.BillingAmount = 0m;
        result.JobType = 0;
        return result;
    }
}
