// Drives the mock through the stubs that Apache Axis 1.4's WSDL2Java generated from the served WSDL
// (tests/test_generated_clients.py). Axis 1.4 speaks SOAP 1.1 only: WSDL2Java generates the WebServiceSoap port
// and leaves the SOAP 1.2 binding out.
//
// Usage: java AxisDriver URL (OP USER PASSWORD MSISDNS CONTENT PLAN)...
//   OP is SendSms, SendMms, SendI18NSms, SendHybridSms or HybridSend; PLAN is "-" for xsi:nil or a date-time
//   yyyy-MM-ddTHH:mm:ss in platform time (Asia/Shanghai; Axis writes it in UTC). Prints one JSON array, one
//   object per call: every member of the result as the stub deserialized it, "type" the runtime class (how Axis
//   read xsi:type), or "error" when the call threw; a call that throws does not stop the ones after it.
import com.yysms.www.HybridSendResult;
import com.yysms.www.HybridSms;
import com.yysms.www.I18NSendResult;
import com.yysms.www.MmsElement;
import com.yysms.www.MmsElementType;
import com.yysms.www.MmsObject;
import com.yysms.www.SendResultBase;
import com.yysms.www.SmsObject;
import com.yysms.www.WebServiceLocator;
import com.yysms.www.WebServiceSoap;
import com.yysms.www.WebServiceSoapStub;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Calendar;
import java.util.List;
import java.util.TimeZone;

public class AxisDriver {
    static String str(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < ' ') b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static String arr(String[] items) {
        if (items == null) return "null";
        List<String> parts = new ArrayList<>();
        for (String s : items) parts.add(str(s));
        return "[" + String.join(",", parts) + "]";
    }

    static String dec(BigDecimal d) {
        return d == null ? "null" : str(d.toPlainString());  // as a string: the scale the reply had ("99.90")
    }

    static String result(SendResultBase r) {
        if (r == null) return "null";
        StringBuilder b = new StringBuilder("{");
        b.append("\"type\":").append(str(r.getClass().getSimpleName()));
        b.append(",\"PayType\":").append(r.getPayType());
        b.append(",\"StatusCode\":").append(str(r.getStatusCode() == null ? null : r.getStatusCode().getValue()));
        b.append(",\"Description\":").append(str(r.getDescription()));
        b.append(",\"MsgId\":").append(str(r.getMsgId()));
        b.append(",\"SuccessCounts\":").append(r.getSuccessCounts());
        b.append(",\"BillingCount\":").append(r.getBillingCount());
        b.append(",\"Amount\":").append(r.getAmount());
        b.append(",\"Balance\":").append(dec(r.getBalance()));
        b.append(",\"BillingAmount\":").append(dec(r.getBillingAmount()));
        b.append(",\"Errors\":").append(arr(r.getErrors()));
        b.append(",\"AlterSendResult\":").append(result(r.getAlterSendResult()));
        b.append(",\"CustomId\":").append(str(r.getCustomId()));
        if (r instanceof I18NSendResult) b.append(",\"Mark\":").append(str(((I18NSendResult) r).getMark()));
        return b.append("}").toString();
    }

    static String result(HybridSendResult r) {
        if (r == null) return "null";
        StringBuilder b = new StringBuilder("{");
        b.append("\"type\":").append(str(r.getClass().getSimpleName()));
        b.append(",\"StatusCode\":").append(str(r.getStatusCode() == null ? null : r.getStatusCode().getValue()));
        b.append(",\"Description\":").append(str(r.getDescription()));
        b.append(",\"MsgId\":").append(str(r.getMsgId()));
        b.append(",\"Amount\":").append(r.getAmount());
        b.append(",\"SuccessCounts\":").append(r.getSuccessCounts());
        b.append(",\"BillingAmount\":").append(dec(r.getBillingAmount()));
        b.append(",\"ErrorsCode\":").append(arr(r.getErrorsCode()));
        b.append(",\"JobType\":").append(r.getJobType());
        return b.append("}").toString();
    }

    static Calendar plan(String text) throws Exception {
        if (text.equals("-")) return null;
        TimeZone zone = TimeZone.getTimeZone("Asia/Shanghai");
        SimpleDateFormat format = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss");
        format.setTimeZone(zone);
        Calendar at = Calendar.getInstance(zone);
        at.setTime(format.parse(text));
        return at;
    }

    static String call(WebServiceSoap port, String op, String user, String password, String msisdns, String content,
                       String planText) throws Exception {
        Calendar at = plan(planText);
        SmsObject sms = new SmsObject(msisdns, content, "", at);
        switch (op) {
            case "SendSms":
                return result(port.sendSms(user, password, sms));
            case "SendI18NSms":
                return result(port.sendI18NSms(user, password, sms));
            case "SendHybridSms":
                return result(port.sendHybridSms(user, password, sms));
            case "SendMms":
                String base64 = Base64.getEncoder().encodeToString(content.getBytes(StandardCharsets.UTF_8));
                MmsElement text = new MmsElement("1.txt", MmsElementType.Text, base64);
                return result(port.sendMms(user, password, new MmsObject(msisdns, content, "", at, new MmsElement[] {text})));
            case "HybridSend":
                return result(port.hybridSend(new HybridSms(user, password, null, content, "", at)));
            default:
                throw new IllegalArgumentException("unknown operation " + op);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || (args.length - 1) % 6 != 0) {
            System.err.println("usage: java AxisDriver URL (OP USER PASSWORD MSISDNS CONTENT PLAN)...");
            System.exit(2);
        }
        WebServiceSoap port = new WebServiceLocator().getWebServiceSoap(new URL(args[0]));
        ((WebServiceSoapStub) port).setTimeout(30000);
        List<String> results = new ArrayList<>();
        for (int i = 1; i < args.length; i += 6) {
            String json;
            try {
                json = call(port, args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4], args[i + 5]);
            } catch (Exception e) {
                json = "{\"error\":" + str(e.getClass().getName() + ": " + e.getMessage()) + "}";
            }
            results.add("{\"op\":" + str(args[i]) + ",\"result\":" + json + "}");
        }
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        out.println("[" + String.join(",", results) + "]");
    }
}
