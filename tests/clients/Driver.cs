// Drives the mock through the C# proxy that Mono's `wsdl` generated from the served WSDL (tests/test_generated_clients.py).
// Compiled with the proxy of one binding (SOAP 1.1 or, with `wsdl -protocol:SOAP12`, SOAP 1.2); the proxy's
// class is the service's name, `WebService`, as the tool names it.
//
// Usage: mono driver.exe URL (OP USER PASSWORD MSISDNS CONTENT PLAN)...
//   OP is SendSms, SendMms, SendI18NSms, SendHybridSms or HybridSend; PLAN is "-" for xsi:nil or a local
//   date-time (yyyy-MM-ddTHH:mm:ss). Prints one JSON array, one object per call: every member of the result
//   as the proxy deserialized it, "type" the runtime class (how the proxy read xsi:type), or "error" when the
//   call threw; a call that throws does not stop the ones after it.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

public static class Driver
{
    static string Str(string s)
    {
        if (s == null) return "null";
        var b = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c == '"' || c == '\\') b.Append('\\').Append(c);
            else if (c < ' ') b.AppendFormat("\\u{0:x4}", (int)c);
            else b.Append(c);
        }
        return b.Append('"').ToString();
    }

    static string Arr(string[] items)
    {
        if (items == null) return "null";
        var parts = new List<string>();
        foreach (string s in items) parts.Add(Str(s));
        return "[" + string.Join(",", parts) + "]";
    }

    static string Dec(decimal d)
    {
        return Str(d.ToString(CultureInfo.InvariantCulture));  // as a string: the scale the reply had ("99.90")
    }

    static string Result(SendResultBase r)
    {
        if (r == null) return "null";
        var b = new StringBuilder("{");
        b.Append("\"type\":").Append(Str(r.GetType().Name));
        b.Append(",\"PayType\":").Append(r.PayType);
        b.Append(",\"StatusCode\":").Append(Str(r.StatusCode.ToString()));
        b.Append(",\"Description\":").Append(Str(r.Description));
        b.Append(",\"MsgId\":").Append(Str(r.MsgId));
        b.Append(",\"SuccessCounts\":").Append(r.SuccessCounts);
        b.Append(",\"BillingCount\":").Append(r.BillingCount);
        b.Append(",\"Amount\":").Append(r.Amount);
        b.Append(",\"Balance\":").Append(Dec(r.Balance));
        b.Append(",\"BillingAmount\":").Append(Dec(r.BillingAmount));
        b.Append(",\"Errors\":").Append(Arr(r.Errors));
        b.Append(",\"AlterSendResult\":").Append(Result(r.AlterSendResult));
        b.Append(",\"CustomId\":").Append(Str(r.CustomId));
        I18NSendResult i18n = r as I18NSendResult;
        if (i18n != null) b.Append(",\"Mark\":").Append(Str(i18n.Mark));
        return b.Append("}").ToString();
    }

    static string Result(HybridSendResult r)
    {
        if (r == null) return "null";
        var b = new StringBuilder("{");
        b.Append("\"type\":").Append(Str(r.GetType().Name));
        b.Append(",\"StatusCode\":").Append(Str(r.StatusCode.ToString()));
        b.Append(",\"Description\":").Append(Str(r.Description));
        b.Append(",\"MsgId\":").Append(Str(r.MsgId));
        b.Append(",\"Amount\":").Append(r.Amount);
        b.Append(",\"SuccessCounts\":").Append(r.SuccessCounts);
        b.Append(",\"BillingAmount\":").Append(Dec(r.BillingAmount));
        b.Append(",\"ErrorsCode\":").Append(Arr(r.ErrorsCode));
        b.Append(",\"JobType\":").Append(r.JobType);
        return b.Append("}").ToString();
    }

    static DateTime? Plan(string text)
    {
        if (text == "-") return null;
        return DateTime.ParseExact(text, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
    }

    static string Call(WebService proxy, string op, string user, string password, string msisdns, string content, string plan)
    {
        var sms = new SmsObject { Msisdns = msisdns, SMSContent = content, ExtNumber = "", PlanSendTime = Plan(plan) };
        switch (op)
        {
            case "SendSms":
                return Result(proxy.SendSms(user, password, sms));
            case "SendI18NSms":
                return Result(proxy.SendI18NSms(user, password, sms));
            case "SendHybridSms":
                return Result(proxy.SendHybridSms(user, password, sms));
            case "SendMms":
                var text = new MmsElement
                {
                    Name = "1.txt",
                    ElementType = MmsElementType.Text,
                    Base64Text = Convert.ToBase64String(Encoding.UTF8.GetBytes(content)),
                };
                var mms = new MmsObject
                {
                    Msisdns = msisdns,
                    Subject = content,
                    ExtNumber = "",
                    PlanSendTime = Plan(plan),
                    Elements = new MmsElement[] { text },
                };
                return Result(proxy.SendMms(user, password, mms));
            case "HybridSend":
                var body = new HybridSms
                {
                    Account = user,
                    Password = password,
                    SMSContent = content,
                    ExtNumber = "",
                    PlanSendTime = Plan(plan),
                };
                return Result(proxy.HybridSend(body));
            default:
                throw new ArgumentException("unknown operation " + op);
        }
    }

    public static int Main(string[] args)
    {
        if (args.Length < 1 || (args.Length - 1) % 6 != 0)
        {
            Console.Error.WriteLine("usage: driver.exe URL (OP USER PASSWORD MSISDNS CONTENT PLAN)...");
            return 2;
        }
        var proxy = new WebService { Url = args[0], Timeout = 30000 };
        var results = new List<string>();
        for (int i = 1; i < args.Length; i += 6)
        {
            string json;
            try
            {
                json = Call(proxy, args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4], args[i + 5]);
            }
            catch (Exception e)
            {
                json = "{\"error\":" + Str(e.GetType().FullName + ": " + e.Message) + "}";
            }
            results.Add("{\"op\":" + Str(args[i]) + ",\"result\":" + json + "}");
        }
        Console.OutputEncoding = new UTF8Encoding(false);
        Console.WriteLine("[" + string.Join(",", results) + "]");
        return 0;
    }
}
