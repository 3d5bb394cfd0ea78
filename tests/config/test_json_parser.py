"""The API's JSON parser (config.api.BoundedJSONParser): orjson reads the usual body, and anything it would read
differently or refuse goes to the json module, so every body means what it meant before."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rest_framework import views  # noqa: F401  # first: DRF's views import the parser setting, which names config.api
from rest_framework.exceptions import ParseError

from config.api import BoundedJSONParser


def parse(body: bytes) -> Any:
    return BoundedJSONParser().parse(io.BytesIO(body), "application/json", {"encoding": "utf-8"})


@pytest.mark.parametrize(
    "body",
    [
        b'{"events": [{"id": "a", "product_id": 12, "value": "19.90", "context": {"page": "/caf\xc3\xa9"}}]}',
        b'{"product_id": 9223372036854775808}',  # past bigint: the per-item check names it
        b'{"product_id": 9566636480059221537667973906432}',  # past 64 bits: orjson would read a float
        b'{"product_id": -18446744073709551617, "x": 0.12345678901234567890123}',
        b'{"query": "\\ud83d\\ude00 and a lone \\ud800"}',  # a lone surrogate: refused per item, not per body
        b'[1e308, -0.0, 1E+2, "\\u0000", {"a": {"a": {"a": []}}}]',
        b'{"x": 1e400}',  # infinity to the json module (orjson refuses it): as before, the checks after name it
    ],
)
def test_a_body_reads_as_the_json_module_reads_it(body: bytes) -> None:
    expected = json.loads(body.decode("utf-8"))
    parsed = parse(body)
    assert parsed == expected
    assert repr(parsed) == repr(expected)  # same types too: an integer stays an integer


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "JSON parse error - Expecting value: line 1 column 1 (char 0)"),
        (b'{"a": 1,}', "JSON parse error - Expecting property name enclosed in double quotes"),
        (b'{"x": NaN}', "JSON parse error - NaN is not valid JSON"),
        (b"[" * 40 + b"]" * 40, "JSON parse error - nested deeper than 32 levels"),
    ],
)
def test_a_bad_body_is_refused_with_the_json_modules_message(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse(body)
    assert str(refused.value.detail).startswith(message)
