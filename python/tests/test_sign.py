"""sign() and string_to_sign() against the known answer in docs/protocol.md."""

from __future__ import annotations

from typing import Any

import pytest

import vodupload

# The provider's documented example (docs/protocol.md, "The signature").
HOST = "cvm.api.qcloud.com"
PATH = "/v2/index.php"
PARAMS = {
    "Action": "DescribeInstances",
    "Nonce": "11886",
    "Region": "gz",
    "SecretId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA",
    "Timestamp": "1465185768",
    "instanceIds.0": "ins-09dx96dg",
    "limit": "20",
    "offset": "0",
}
KEY = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"


def test_known_answer() -> None:
    assert vodupload.sign("GET", HOST, PATH, PARAMS, KEY) == "NSI3UqqD99b/UJb4tbG/xZpRW64="
    assert (
        vodupload.sign("GET", HOST, PATH, PARAMS, KEY, signature_method="HmacSHA1")
        == "NSI3UqqD99b/UJb4tbG/xZpRW64="
    )
    assert vodupload.string_to_sign("GET", HOST, PATH, PARAMS) == (
        "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz"
        "&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768"
        "&instanceIds.0=ins-09dx96dg&limit=20&offset=0"
    )


def test_rules() -> None:
    # `_` in keys becomes `.`; Signature itself is left out; the method is uppercased.
    s = vodupload.string_to_sign("post", "h", "/p", {"b_1": "x y", "a": "1", "Signature": "z"})
    assert s == "POSTh/p?a=1&b.1=x y"
    sha256 = vodupload.sign("GET", HOST, PATH, PARAMS, KEY, "HmacSHA256")
    assert len(sha256) == 44 and sha256 != vodupload.sign("GET", HOST, PATH, PARAMS, KEY)


@pytest.mark.parametrize(
    "args, exc",
    [
        (("GET", HOST, PATH, {"a": 1}, KEY), TypeError),
        (("GET", HOST, PATH, [("a", "1")], KEY), TypeError),
        (("GET", HOST, PATH, PARAMS, None), TypeError),
        (("GET", HOST, PATH, PARAMS, KEY, "HmacMD5"), ValueError),
    ],
)
def test_bad_arguments(args: tuple[Any, ...], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        vodupload.sign(*args)
