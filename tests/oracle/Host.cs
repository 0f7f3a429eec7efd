// Serves the ASMX oracle (WebService.asmx + web.config + bin/) with Mono's System.Web, without xsp.
//
//   mono bin/OracleHost.exe PORT APPDIR
//
// Why a host of its own: Debian's mono-xsp4 crashes on this Mono. Why this shape: the test compares what ASP.NET
// itself does with a request, so nothing in between may change it. System.Net.HttpListener takes the connection;
// a worker request hands ASP.NET the method, the raw URL (path and query as sent), every request header and the
// body bytes, and hands back ASP.NET's status code, its headers and its body bytes as they are. HttpListener adds
// only Date, Server and Content-Length (the reply is buffered, never chunked). It listens on 127.0.0.1 only.
//
// ApplicationHost.CreateApplicationHost loads this assembly into the ASP.NET application domain from APPDIR/bin,
// which is why the build puts OracleHost.exe there, next to the service's assembly.
using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Threading;
using System.Web;
using System.Web.Hosting;

public static class OracleMain
{
    public static int Main(string[] args)
    {
        int port;
        if (args.Length != 2 || !int.TryParse(args[0], out port))
        {
            Console.Error.WriteLine("usage: mono OracleHost.exe PORT APPDIR");
            return 2;
        }
        string appDir = Path.GetFullPath(args[1]);
        ListenerBridge bridge = (ListenerBridge)ApplicationHost.CreateApplicationHost(typeof(ListenerBridge), "/", appDir);
        return bridge.Serve(port);
    }
}

// Lives in the ASP.NET application domain, so the HttpListener and its contexts never cross domains.
public sealed class ListenerBridge : MarshalByRefObject
{
    public override object InitializeLifetimeService()
    {
        return null;  // the bridge lives as long as the process; no lease may expire under it
    }

    public int Serve(int port)
    {
        HttpListener listener = new HttpListener();
        listener.Prefixes.Add("http://127.0.0.1:" + port + "/");
        listener.IgnoreWriteExceptions = true;
        listener.Start();
        Console.WriteLine("asmx oracle listening on http://127.0.0.1:" + port + "/");
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = listener.GetContext();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine("asmx oracle: the listener stopped: " + e.Message);
                return 1;
            }
            ThreadPool.QueueUserWorkItem(RunOne, context);
        }
    }

    static void RunOne(object state)
    {
        HttpListenerContext context = (HttpListenerContext)state;
        BridgedRequest request = null;
        try
        {
            request = new BridgedRequest(context);
            HttpRuntime.ProcessRequest(request);
        }
        catch (Exception e)
        {
            // Only the bridge fails this way, never ASP.NET (which answers its own errors): say so loudly.
            Console.Error.WriteLine("asmx oracle: bridge failure: " + e);
            if (request == null || !request.Finished)
            {
                try
                {
                    context.Response.StatusCode = 502;
                    context.Response.Close();
                }
                catch (Exception)
                {
                }
            }
        }
    }
}

public sealed class BridgedRequest : SimpleWorkerRequest
{
    readonly HttpListenerContext context;
    readonly string method;
    readonly string rawUrl;
    readonly string uriPath;
    readonly string queryString;
    readonly string filePath;
    readonly string pathInfo;
    readonly byte[] entity;

    int statusCode = 200;
    string statusDescription = "OK";
    readonly List<string[]> replyHeaders = new List<string[]>();
    readonly MemoryStream replyBody = new MemoryStream();
    bool flushed;

    public bool Finished;

    public BridgedRequest(HttpListenerContext context)
        : base("/", HttpRuntime.AppDomainAppPath, Split(context.Request.RawUrl)[0].TrimStart('/'),
               Split(context.Request.RawUrl)[1], TextWriter.Null)
    {
        this.context = context;
        method = context.Request.HttpMethod;
        rawUrl = context.Request.RawUrl;
        string[] parts = Split(rawUrl);
        uriPath = parts[0];
        queryString = parts[1];
        // "/WebService.asmx/SendSms": the handler is the .asmx, the rest is path info (ASP.NET's own split).
        int end = uriPath.IndexOf(".asmx", StringComparison.OrdinalIgnoreCase);
        filePath = end < 0 ? uriPath : uriPath.Substring(0, end + ".asmx".Length);
        pathInfo = end < 0 ? "" : uriPath.Substring(end + ".asmx".Length);
        using (MemoryStream copy = new MemoryStream())
        {
            if (context.Request.HasEntityBody) context.Request.InputStream.CopyTo(copy);
            entity = copy.ToArray();
        }
    }

    // [path, query] of a raw URL, the query without its '?'
    static string[] Split(string url)
    {
        int mark = url.IndexOf('?');
        return mark < 0 ? new string[] { url, "" } : new string[] { url.Substring(0, mark), url.Substring(mark + 1) };
    }

    // ---- what ASP.NET reads --------------------------------------------------------------------------------

    public override string GetHttpVerbName() { return method; }
    public override string GetHttpVersion() { return "HTTP/" + context.Request.ProtocolVersion; }
    public override string GetRawUrl() { return rawUrl; }
    public override string GetUriPath() { return uriPath; }
    public override string GetFilePath() { return filePath; }
    public override string GetPathInfo() { return pathInfo; }
    public override string GetQueryString() { return queryString; }
    public override string GetProtocol() { return "http"; }
    public override bool IsSecure() { return false; }
    public override string GetServerName() { return context.Request.Url.Host; }
    public override string GetLocalAddress() { return context.Request.LocalEndPoint.Address.ToString(); }
    public override int GetLocalPort() { return context.Request.LocalEndPoint.Port; }
    public override string GetRemoteAddress() { return context.Request.RemoteEndPoint.Address.ToString(); }
    public override int GetRemotePort() { return context.Request.RemoteEndPoint.Port; }
    public override string GetFilePathTranslated() { return MapPath(filePath); }

    public override string MapPath(string virtualPath)
    {
        string relative = (virtualPath ?? "").TrimStart('/').Replace('/', Path.DirectorySeparatorChar);
        return Path.Combine(HttpRuntime.AppDomainAppPath, relative);
    }

    public override string GetKnownRequestHeader(int index)
    {
        // HttpListener has already read (and de-chunked) the whole body: ASP.NET is told its real length.
        if (index == HeaderContentLength) return entity.Length > 0 || method == "POST" ? entity.Length.ToString() : null;
        if (index == HeaderTransferEncoding) return null;
        return context.Request.Headers[GetKnownRequestHeaderName(index)];
    }

    public override string GetUnknownRequestHeader(string name)
    {
        return context.Request.Headers[name];
    }

    public override string[][] GetUnknownRequestHeaders()
    {
        List<string[]> unknown = new List<string[]>();
        foreach (string name in context.Request.Headers.AllKeys)
        {
            if (GetKnownRequestHeaderIndex(name) < 0) unknown.Add(new string[] { name, context.Request.Headers[name] });
        }
        return unknown.ToArray();
    }

    public override string GetServerVariable(string name)
    {
        switch (name)
        {
            case "HTTPS": return "off";
            case "REQUEST_METHOD": return method;
            case "SERVER_PROTOCOL": return GetHttpVersion();
            case "CONTENT_TYPE": return context.Request.Headers["Content-Type"];
            case "CONTENT_LENGTH": return entity.Length.ToString();
            default: return base.GetServerVariable(name);
        }
    }

    public override byte[] GetPreloadedEntityBody() { return entity; }
    public override int GetPreloadedEntityBodyLength() { return entity.Length; }
    public override int GetTotalEntityBodyLength() { return entity.Length; }
    public override bool IsEntireEntityBodyIsPreloaded() { return true; }
    public override int ReadEntityBody(byte[] buffer, int size) { return 0; }
    public override int ReadEntityBody(byte[] buffer, int offset, int size) { return 0; }

    // ---- what ASP.NET writes -------------------------------------------------------------------------------

    public override void SendStatus(int code, string description)
    {
        statusCode = code;
        statusDescription = description;
    }

    public override void SendKnownResponseHeader(int index, string value)
    {
        replyHeaders.Add(new string[] { GetKnownResponseHeaderName(index), value });
    }

    public override void SendUnknownResponseHeader(string name, string value)
    {
        replyHeaders.Add(new string[] { name, value });
    }

    public override void SendResponseFromMemory(byte[] data, int length)
    {
        if (length > 0) replyBody.Write(data, 0, length);
    }

    public override void SendResponseFromFile(string filename, long offset, long length)
    {
        byte[] whole = File.ReadAllBytes(filename);
        long count = length < 0 ? whole.Length - offset : length;
        replyBody.Write(whole, (int)offset, (int)count);
    }

    public override void SendResponseFromFile(IntPtr handle, long offset, long length)
    {
        throw new NotSupportedException("the bridge serves files by name only");
    }

    public override void SendCalculatedContentLength(int contentLength) { }
    public override void SendCalculatedContentLength(long contentLength) { }
    public override bool HeadersSent() { return flushed; }
    public override bool IsClientConnected() { return true; }
    public override void FlushResponse(bool finalFlush) { flushed = true; }
    public override void CloseConnection() { }

    public override void EndOfRequest()
    {
        if (Finished) return;
        Finished = true;
        HttpListenerResponse response = context.Response;
        try
        {
            response.StatusCode = statusCode;
            if (!string.IsNullOrEmpty(statusDescription)) response.StatusDescription = statusDescription;
            response.SendChunked = false;
            foreach (string[] header in replyHeaders)
            {
                string lower = header[0].ToLowerInvariant();
                // framing is HttpListener's (it sets the length of the buffered body); everything else is ASP.NET's
                if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection" || lower == "keep-alive") continue;
                if (lower == "content-type")
                {
                    response.ContentType = header[1];
                    continue;
                }
                try
                {
                    response.Headers.Add(header[0], header[1]);
                }
                catch (Exception e)
                {
                    Console.Error.WriteLine("asmx oracle: HttpListener refused the header " + header[0] + ": " + e.Message);
                }
            }
            byte[] bytes = replyBody.ToArray();
            response.ContentLength64 = bytes.Length;
            if (method != "HEAD" && bytes.Length > 0) response.OutputStream.Write(bytes, 0, bytes.Length);
            response.Close();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("asmx oracle: the reply could not be sent: " + e.Message);
            try
            {
                response.Abort();
            }
            catch (Exception)
            {
            }
        }
    }
}
