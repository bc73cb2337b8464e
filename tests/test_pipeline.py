"""Answers as the pipeline reads them: every framing HTTP/1.1 allows, and every way one breaks."""

import http.client
import io

import pytest

from inspector.sources.daemon.pipeline import Answer, BodyCut
from tests.helpers import read_body


@pytest.mark.parametrize(
    ("raw", "status", "body", "will_close"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, b"hello", False),
        (b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}", 404, b"{}", False),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
            200,
            b"hello world",
            False,
        ),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", 200, b"until the end", True),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, b"ok", True),
        (
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
            200,
            b"ok",
            False,
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204, b"", False),
        # Any other 1xx is handed over, bodiless, and ends the connection: the real answer that
        # may follow would be taken for the next request's.
        (b"HTTP/1.1 102 Processing\r\n\r\n", 102, b"", True),
        (b"HTTP/1.1 200 OK\n\n", 200, b"", True),  # bare LFs; no length: to the end
        (b"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", 301, b"", False),
    ],
)
def test_every_framing_gives_the_whole_body(
    raw: bytes, status: int, body: bytes, will_close: bool
) -> None:
    following = b"" if will_close else b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"
    reader = io.BufferedReader(io.BytesIO(raw + following))

    answer = Answer(reader)

    assert (answer.status, read_body(answer), answer.will_close) == (status, body, will_close)
    if not will_close:  # the next answer starts right after this one
        after = Answer(reader)
        assert (after.status, read_body(after)) == (200, b"next")


def test_headers_are_read_by_any_case_and_repeated_ones_joined() -> None:
    raw = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nX: a\r\nx: b\r\nContent-Length: 0\r\n\r\n"
    answer = Answer(io.BufferedReader(io.BytesIO(raw)))
    assert (answer.header("API-VERSION"), answer.header("x"), answer.header("nope")) == (
        "1.41",
        "a, b",
        None,
    )
    assert answer.reason == "OK"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", http.client.RemoteDisconnected),
        (b"garbage\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 abc OK\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 20 OK\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 \xb200 OK\r\n\r\n", http.client.BadStatusLine),  # Latin-1's "²00"
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n", http.client.LineTooLong),
    ],
)
def test_a_head_that_is_not_http_is_refused(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        Answer(io.BufferedReader(io.BytesIO(raw)))


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    ],
    ids=["short", "cut-chunk", "no-last-chunk", "bad-size", "negative-size", "no-crlf"],
)
def test_a_body_that_ends_early_or_is_garbled_is_an_incomplete_read(raw: bytes) -> None:
    answer = Answer(io.BufferedReader(io.BytesIO(raw)))
    with pytest.raises(http.client.IncompleteRead):
        read_body(answer)


@pytest.mark.parametrize(
    ("raw", "got", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 5, 5),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 0, 10),
    ],
)
def test_a_body_cut_short_says_how_much_came_and_how_much_was_due(
    raw: bytes, got: int, expected: int
) -> None:
    answer = Answer(io.BufferedReader(io.BytesIO(raw)))
    with pytest.raises(BodyCut) as cut:
        read_body(answer)
    assert (cut.value.got, cut.value.expected) == (got, expected)
    assert str(cut.value) == f"IncompleteRead({got} bytes read, {expected} more expected)"
