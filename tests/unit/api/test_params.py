from __future__ import annotations

import datetime as dt

import pytest

from switchboard.api.params import MapValue, Param, ParamType, RawRequest, format_date, parse_date, parse_params
from switchboard.errors import InvalidParameter

DECLARED = (
    Param("zoneid", ParamType.UUID, required=True),
    Param("name", ParamType.STRING, length=10),
    Param("startvm", ParamType.BOOLEAN),
    Param("cpunumber", ParamType.INTEGER),
    Param("size", ParamType.LONG),
    Param("startdate", ParamType.DATE),
    Param("ids", ParamType.LIST, item_type=ParamType.UUID),
    Param("details", ParamType.MAP),
)
ZONE = "6ae77659-2f5f-492c-b616-6d78ef134dcb"


def parse(**pairs: str) -> dict[str, object]:
    return parse_params("deployVirtualMachine", DECLARED, RawRequest(pairs))


def test_parses_every_type() -> None:
    values = parse(
        zoneid=ZONE, name="web01", startvm="TRUE", cpunumber="2", size="8589934592",
        startdate="2025-08-22T11:42:37+0000", ids=f"{ZONE}, {ZONE}",
        **{"details[0].url": "10.0.0.5", "details[1].user": "root@pam"},
    )
    assert values["zoneid"] == ZONE
    assert values["startvm"] is True
    assert values["cpunumber"] == 2
    assert values["size"] == 8589934592
    assert values["startdate"] == dt.datetime(2025, 8, 22, 11, 42, 37, tzinfo=dt.UTC)
    assert values["ids"] == [ZONE, ZONE]
    assert isinstance(values["details"], MapValue)
    assert values["details"].flat() == {"url": "10.0.0.5", "user": "root@pam"}


def test_parameter_names_are_case_insensitive_but_map_keys_keep_case() -> None:
    values = parse(ZoneId=ZONE, **{"Details[0].URL": "x"})
    assert values["zoneid"] == ZONE
    assert values["details"].flat() == {"URL": "x"}


def test_missing_required_parameter_is_named() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse(name="x")
    assert caught.value.parameter == "zoneid"
    assert "missing parameter zoneid" in caught.value.message


@pytest.mark.parametrize(
    ("name", "value"),
    [("zoneid", "not-a-uuid"), ("startvm", "yes"), ("cpunumber", "two"), ("cpunumber", str(2**31)),
     ("startdate", "yesterday"), ("name", "x" * 11), ("ids", "a,b")],
)
def test_malformed_values_name_the_parameter(name: str, value: str) -> None:
    pairs = {"zoneid": ZONE, name: value}
    with pytest.raises(InvalidParameter) as caught:
        parse(**pairs)
    assert caught.value.parameter == name
    assert f"Invalid parameter {name} value={value}" in caught.value.message


def test_map_entries_in_key_value_form_are_flattened() -> None:
    values = parse(zoneid=ZONE, **{"details[0].key": "cpu", "details[0].value": "2", "details[3].ram": "512"})
    assert values["details"].flat() == {"cpu": "2", "ram": "512"}


def test_map_indices_keep_their_order() -> None:
    values = parse(zoneid=ZONE, **{"details[10].b": "2", "details[2].a": "1"})
    assert list(values["details"]) == [{"a": "1"}, {"b": "2"}]


def test_empty_optional_values_are_absent() -> None:
    values = parse(zoneid=ZONE, cpunumber="", name="")
    assert "cpunumber" not in values
    assert values["name"] == ""


def test_dates_round_trip_in_cloudstack_format() -> None:
    when = parse_date("2025-08-22T13:42:37+02:00")
    assert format_date(when) == "2025-08-22T11:42:37+0000"
    assert parse_date("2025-08-22") == dt.datetime(2025, 8, 22, tzinfo=dt.UTC)
    assert parse_date("2025-08-22T11:42:37Z") == dt.datetime(2025, 8, 22, 11, 42, 37, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        parse_date("2025-08-22T11:42:37")
