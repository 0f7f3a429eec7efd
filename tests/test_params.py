"""The .aspx pages split parameters themselves (httpapi/params.py), faster than werkzeug's Request: the same
pairs as werkzeug's own parsing (``parse_qsl`` with blank values kept and its error handler), for any input."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_to_bytes

import werkzeug.urls  # noqa: F401  (registers the error handler werkzeug parses with)
from hypothesis import given, settings
from hypothesis import strategies as st

from ipyy_mock.httpapi.params import split_pairs, unquote_bytes

PIECES = st.sampled_from(
    list("%0123456789abcdefABCDEFgz+ &=;") + ["%E4%BD%A0", "%ZZ", "%C3", "%%", "密", "%2B", "%26", "%3D"]
)
TEXT = st.lists(PIECES, max_size=40).map("".join)


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_split_pairs_is_werkzeugs_parse(text):
    assert split_pairs(text) == parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_unquote_bytes_is_the_standard_librarys(text):
    raw = text.encode("utf-8")
    assert unquote_bytes(raw) == unquote_to_bytes(raw)
