"""A day window's parse: the quick way (a column at a time) must give what the checked way
(each message on its own) gives, and anything the checked way refuses must end in its error,
naming the topic and the offset of the first bad message."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtbf_example.errors import MtbfError
from mtbf_example.stream import DayWindow, _checked_columns, _quick_columns, packed

FIRST = 100  # the offset of a window's first message


def window(bodies: list[Any], raw: dict[int, bytes] | None = None) -> DayWindow:
    values = [orjson.dumps(body) for body in bodies]
    for index, value in (raw or {}).items():
        values[index] = value
    offsets = list(range(FIRST, FIRST + len(values)))
    day = DayWindow("G", "mtbf.G", "2017-06-01", packed(values), offsets, offsets[-1] + 1)
    assert day.messages() == values  # joined by newlines, or a list where one holds a newline
    return day


def body(minute: int, **measures: Any) -> dict[str, Any]:
    return {
        "time": f"2017-06-01T{minute // 60:02d}:{minute % 60:02d}:00Z",
        "pcons": 800.0,
        "pbatt": -40.5,
        "pdc": 1620.25,
        "soc": 88.0,
        **measures,
    }


measure = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-(10**6), 10**6),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 1439), min_size=1, max_size=60).map(sorted),
    st.data(),
)
def test_the_quick_parse_gives_what_the_checked_parse_gives(minutes: list[int], data: Any) -> None:
    bodies = [
        body(m, **{k: data.draw(measure) for k in ("pcons", "pbatt", "pdc", "soc")})
        for m in minutes
    ]
    day = window(bodies)
    quick, checked = _quick_columns(day), _checked_columns(day)
    assert quick is not None
    assert quick.keys() == checked.keys()
    for name in checked:
        assert quick[name].dtype == checked[name].dtype
        np.testing.assert_array_equal(quick[name], checked[name])
    assert checked["minute"].tolist() == [day.day + m for m in minutes]


FAULTS: list[tuple[str, dict[int, Any], dict[int, bytes], str]] = [
    ("a measure missing", {3: {"time": "2017-06-01T00:03:00Z", "pcons": 1.0}}, {}, "'pbatt'"),
    ("a null measure", {3: body(3, soc=None)}, {}, "no value for soc"),
    ("a word for a number", {3: body(3, pdc="bright")}, {}, "could not convert"),
    ("not JSON", {}, {3: b"{pcons: 1"}, "malformed message"),
    ("a JSON list", {}, {3: b"[1, 2]"}, "malformed message"),
    ("an empty message", {}, {3: b""}, "malformed message"),
    (
        "a message of two lines",
        {},
        {3: b'{"time": "2017-06-01T00:03:00Z",\n"pcons": 1}'},
        "'pbatt'",
    ),
    ("no time", {3: {k: v for k, v in body(3).items() if k != "time"}}, {}, "'time'"),
    ("a time in another form", {3: body(3, time="2017-06-01 00:03")}, {}, "is not YYYY"),
    ("an hour past the day", {3: body(3, time="2017-06-01T24:03:00Z")}, {}, "is not YYYY"),
    ("a reading of another day", {3: body(3, time="2017-06-02T00:03:00Z")}, {}, "among"),
    ("a reading out of time order", {3: body(1)}, {}, "a reading out of time order"),
]


@pytest.mark.parametrize(
    ("changes", "raw", "said"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS]
)
def test_a_bad_message_is_named_by_its_offset(
    changes: dict[int, Any], raw: dict[int, bytes], said: str
) -> None:
    bodies = [changes.get(m, body(m)) for m in range(6)]
    day = window(bodies, raw)
    try:
        quick = _quick_columns(day)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        quick = None
    assert quick is None
    with pytest.raises(MtbfError) as raised:
        day.columns()
    assert str(raised.value).startswith(f"topic mtbf.G offset {FIRST + 3}: ")
    assert said in str(raised.value)
