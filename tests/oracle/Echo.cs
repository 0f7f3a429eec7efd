// A second ASMX service next to the contract's (Echo.asmx): it returns exactly the result it is given, so that
// tests/test_asmx_writer.py can compare, byte for byte, what XmlSerializer writes for a set of values with what the
// mock's writer (mockserver/ipyy_mock/soap/envelope.py) writes for the same values.
//
// Why a service of its own: WebService.asmx decides its values as the mock does (for the shape comparison), so it
// can never be asked for an arbitrary Description, an Errors array with an empty or a null item, or a decimal of
// scale 28. Why the contract's own types (Contract.cs, same assembly, same namespace): the members XmlSerializer
// writes are then those of the real reply, in the same order, with the same xsi:type. WebService.asmx is untouched:
// a .asmx names one class, and the contract's WSDL is generated from that class alone.
//
// Why one string parameter in a home-made encoding: every value must arrive exactly (null apart from "", a CR, an
// astral character, a decimal's sign and scale, a negative zero), and a SOAP request would blur some of them (a
// bare CR is read as LF, an omitted and an empty element are both possible meanings). The encoding is ASCII
// tokens separated by single spaces, read left to right:
//
//   result  := kind int:PayType code:StatusCode str:Description str:MsgId int:SuccessCounts int:BillingCount
//              long:Amount dec:Balance dec:BillingAmount strs:Errors alter str:CustomId str:Mark
//   kind    := "S" (SendResult) | "I" (I18NSendResult; Mark is set only for it, and must be "-" otherwise)
//   alter   := "-" (null) | "+" result (AlterSendResult)
//   hybrid  := code str:Description str:MsgId long:Amount int:SuccessCounts dec:BillingAmount strs:ErrorsCode int:JobType
//   str     := "-" (null) | "." followed by the base64 of the string's UTF-8 bytes ("." alone is "")
//   strs    := "-" (null) | count followed by that many str (an item may be "-": a null inside the array)
//   dec     := lo mid hi neg scale: the decimal's own bits (new decimal(int, int, int, bool, byte)), so that sign
//              and scale are exactly what was meant, with no parsing in between
//   code    := a ResultCode name; int / long: invariant integers
using System;
using System.Globalization;
using System.Text;
using System.Web.Services;

[WebService(Namespace = "http://www.yysms.com/")]
[WebServiceBinding(ConformsTo = WsiProfiles.BasicProfile1_1)]
public class Echo : System.Web.Services.WebService
{
    sealed class Tokens
    {
        readonly string[] items;
        int next;

        public Tokens(string spec)
        {
            items = (spec ?? "").Split(' ');
        }

        public string Take()
        {
            if (next >= items.Length) throw new ArgumentException("the spec ends too early");
            return items[next++];
        }

        public void End()
        {
            if (next != items.Length) throw new ArgumentException("the spec goes on after its result");
        }

        public int Int()
        {
            return int.Parse(Take(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        public long Long()
        {
            return long.Parse(Take(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        public decimal Dec()
        {
            int lo = Int(), mid = Int(), hi = Int();
            bool negative = Take() == "1";
            byte scale = byte.Parse(Take(), CultureInfo.InvariantCulture);
            return new decimal(lo, mid, hi, negative, scale);
        }

        public ResultCode Code()
        {
            string name = Take();
            if (!Enum.IsDefined(typeof(ResultCode), name)) throw new ArgumentException("no ResultCode " + name);
            return (ResultCode)Enum.Parse(typeof(ResultCode), name);
        }

        public string Str()
        {
            string token = Take();
            if (token == "-") return null;
            if (!token.StartsWith(".")) throw new ArgumentException("a string token starts with '.' or is '-'");
            return Encoding.UTF8.GetString(Convert.FromBase64String(token.Substring(1)));
        }

        public string[] Strs()
        {
            string token = Take();
            if (token == "-") return null;
            int count = int.Parse(token, CultureInfo.InvariantCulture);
            string[] found = new string[count];
            for (int i = 0; i < count; i++) found[i] = Str();
            return found;
        }
    }

    static SendResultBase Result(Tokens t)
    {
        string kind = t.Take();
        SendResultBase result;
        if (kind == "S") result = new SendResult();
        else if (kind == "I") result = new I18NSendResult();
        else throw new ArgumentException("a result is S or I, not " + kind);
        result.PayType = t.Int();
        result.StatusCode = t.Code();
        result.Description = t.Str();
        result.MsgId = t.Str();
        result.SuccessCounts = t.Int();
        result.BillingCount = t.Int();
        result.Amount = t.Long();
        result.Balance = t.Dec();
        result.BillingAmount = t.Dec();
        result.Errors = t.Strs();
        if (t.Take() == "+") result.AlterSendResult = Result(t);
        result.CustomId = t.Str();
        string mark = t.Str();
        I18NSendResult i18n = result as I18NSendResult;
        if (i18n != null) i18n.Mark = mark;
        else if (mark != null) throw new ArgumentException("Mark is I18NSendResult's member only");
        return result;
    }

    // Declared SendResultBase, as SendI18NSms and SendHybridSms: the reply names the run-time type in xsi:type.
    [WebMethod]
    public SendResultBase EchoBase(string spec)
    {
        Tokens t = new Tokens(spec);
        SendResultBase result = Result(t);
        t.End();
        return result;
    }

    // Declared SendResult, as SendSms and SendMms: no xsi:type on the result (its AlterSendResult still has one).
    [WebMethod]
    public SendResult EchoSendResult(string spec)
    {
        Tokens t = new Tokens(spec);
        SendResult result = Result(t) as SendResult;
        if (result == null) throw new ArgumentException("EchoSendResult returns a SendResult (kind S)");
        t.End();
        return result;
    }

    [WebMethod]
    public HybridSendResult EchoHybrid(string spec)
    {
        Tokens t = new Tokens(spec);
        HybridSendResult result = new HybridSendResult();
        result.StatusCode = t.Code();
        result.Description = t.Str();
        result.MsgId = t.Str();
        result.Amount = t.Long();
        result.SuccessCounts = t.Int();
        result.BillingAmount = t.Dec();
        result.ErrorsCode = t.Strs();
        result.JobType = t.Int();
        t.End();
        return result;
    }
}
