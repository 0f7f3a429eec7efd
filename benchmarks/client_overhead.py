"""Section 3 of ``bench.py``: what ``SoapClient`` and ``HttpClient`` add per call over a hand-written POST.

Each library call against ``requests.Session().post`` of the very bytes the
library put on the wire, on the same server, sequential; a cProfile split of
the SOAP client says where its share goes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import requests

from bench import ACCOUNT, CONTENT, MSISDN, PASSWORD, TARGETS, Server, log, median, verdict


def client_overhead(args: argparse.Namespace, mock: Server, raw: Server | None, results: dict) -> None:
    """Each library call vs a hand-written requests.Session().post of the very same bytes.

    The two alternate call by call (order swapped every call), so a noisy
    neighbour slows both alike; the ratio is of the medians. Against the mock
    (the target), and for a pure-client view against the canned raw WSGI app.
    """
    from ipyy_client import HttpClient, SoapClient

    def wire_bytes(make_client: Callable[[requests.Session], Any], call: Callable[[Any], Any]) -> tuple[bytes, dict]:
        seen: list = []
        s = requests.Session()
        s.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
        c = make_client(s)
        call(c)
        req = seen[-1]
        body = req.body if isinstance(req.body, bytes) else req.body.encode("utf-8")
        keep = ("content-type", "soapaction")
        return body, {k: v for k, v in req.headers.items() if k.lower() in keep}

    def soap_call(c: Any) -> Any:
        r = c.send_i18n_sms([MSISDN], CONTENT)
        assert r.status.name == "OK", r
        return r

    def http_call(c: Any) -> Any:
        r = c.send([MSISDN], CONTENT)
        assert r.ok, r
        return r

    specs = [
        (
            "SoapClient.send_i18n_sms",
            "/WebService.asmx",
            lambda base, s=None: SoapClient(ACCOUNT, PASSWORD, base_url=base, session=s),
            soap_call,
        ),
        (
            "HttpClient.send",
            "/I18NSms.aspx",
            lambda base, s=None: HttpClient(ACCOUNT, PASSWORD, base_url=base, session=s),
            http_call,
        ),
    ]

    out: dict[str, Any] = {
        "server": f"the mock ({mock.name}); calls alternate client/raw, order swapped each call",
        "calls": args.client_calls * args.client_rounds,
    }
    servers = [("mock", mock)] + ([("raw", raw)] if raw else [])
    for name, path, make, call in specs:
        for where, srv in servers:
            body, headers = wire_bytes(lambda s: make(srv.url, s), call)  # the canned replies are OK replies too
            client = make(srv.url)
            raw_session = requests.Session()
            url = srv.url + path

            def client_fn() -> Any:
                return call(client)

            def raw_fn() -> bytes:
                r = raw_session.post(url, data=body, headers=headers, timeout=30)
                return r.content

            for _ in range(20):
                client_fn()
                raw_fn()
            tc: list[float] = []
            tr: list[float] = []
            for i in range(args.client_calls * args.client_rounds):
                pair = ((client_fn, tc), (raw_fn, tr)) if i % 2 == 0 else ((raw_fn, tr), (client_fn, tc))
                for fn, acc in pair:
                    t0 = time.perf_counter()
                    fn()
                    acc.append(time.perf_counter() - t0)
            row = {
                "client_median_ms": median(tc) * 1e3,
                "raw_median_ms": median(tr) * 1e3,
                "client_mean_ms": statistics.mean(tc) * 1e3,
                "raw_mean_ms": statistics.mean(tr) * 1e3,
                "ratio_median": median(tc) / median(tr),
                "ratio_mean": sum(tc) / sum(tr),
                "overhead_us": (median(tc) - median(tr)) * 1e6,
            }
            if where == "mock":
                out[name] = row
            else:
                out.setdefault("vs_canned_raw_server", {})[name] = row
            close = getattr(client, "close", None)
            if close:
                close()
    soap_client = SoapClient(ACCOUNT, PASSWORD, base_url=(raw or mock).url)
    out["soap_client_split_us"] = client_split(
        lambda: soap_client.send_i18n_sms([MSISDN], CONTENT), max(50, args.client_calls * 2)
    )
    out["soap_client_split_server"] = "raw" if raw else "mock"
    soap_client.close()
    results["client"] = out


def client_split(call: Callable[[], Any], n: int) -> dict[str, float]:
    """cProfile of the SOAP client: where its per-call time goes (cumulative us per call, profiler-inflated)."""
    import cProfile
    import pstats

    pr = cProfile.Profile()
    pr.enable()
    for _ in range(n):
        call()
    pr.disable()
    st = pstats.Stats(pr).stats
    cum: dict[str, float] = {}
    wanted = {
        "total (SoapClient.send_i18n_sms)": ("client/soap.py", "send_i18n_sms"),
        "build the envelope (SoapClient._request, zeep)": ("client/soap.py", "_request"),
        "read the reply (SoapClient._read)": ("client/soap.py", "_read"),
        "requests: Session.request (HTTP round trip incl. server)": ("requests/sessions.py", "request"),
        "requests: proxy/env lookups (merge_environment_settings)": (
            "requests/sessions.py",
            "merge_environment_settings",
        ),
    }
    for label, (path, func) in wanted.items():
        best = 0.0
        for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in st.items():
            if name == func and file.replace("\\", "/").endswith(path):
                best = max(best, ct)
        cum[label] = best / n * 1e6
    return cum


def print_client(sec: dict) -> None:
    log(f"\n== 3. Client overhead per call: {sec['server']}; {sec['calls']} calls each")
    log(f"   {'call':<40}{'client ms':>10}{'raw ms':>9}{'ratio':>8}{'overhead':>11}")
    t = TARGETS["client_vs_raw"]
    for name in ("SoapClient.send_i18n_sms", "HttpClient.send"):
        row = sec.get(name)
        if row is None:
            continue
        log(
            f"   {name:<40}{row['client_median_ms']:>10.2f}{row['raw_median_ms']:>9.2f}"
            f"{row['ratio_median']:>7.2f}x{row['overhead_us']:>8.0f} us  "
            f"[{verdict(row['ratio_median'] <= t)}, target <= {t}x; mean-based {row['ratio_mean']:.2f}x]"
        )
    for name, row in (sec.get("vs_canned_raw_server") or {}).items():
        log(
            f"   {name + ' vs canned raw app':<40}{row['client_median_ms']:>10.2f}{row['raw_median_ms']:>9.2f}"
            f"{row['ratio_median']:>7.2f}x{row['overhead_us']:>8.0f} us  (pure client cost, no target)"
        )
    split = sec.get("soap_client_split_us")
    if split:
        log(
            f"   SoapClient per call under cProfile against the {sec.get('soap_client_split_server')} server "
            "(cumulative us, profiler-inflated): " + "; ".join(f"{k} {v:.0f}" for k, v in split.items())
        )
