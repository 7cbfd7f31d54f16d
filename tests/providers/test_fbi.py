"""The FBI client against its simulator over real HTTP: one batched request, lenient entries, clear errors."""

from __future__ import annotations

import logging

import httpx
import pytest

from portal.devtools.demo import DEV_FBI_TOKEN
from portal.devtools.fbi_sim import DEMO_WORKS, SimState
from portal.domain.works import Work
from portal.providers import fbi_parse
from portal.providers.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from portal.providers.fbi import MAX_BATCH, FbiClient, FbiTokenRejected
from portal.providers.http import make_timeout, upstream_budget
from tests.providers.conftest import free_port

FAUSTS = ["29830092", "27655033", "52530331", "22639862", "46651209", "62050021"]
UNKNOWN = "99999999"


@pytest.fixture
def fbi(http: httpx.Client, fbi_url: str) -> FbiClient:
    return FbiClient(http, fbi_url, DEV_FBI_TOKEN)


def test_one_request_for_all_the_fees_materials(fbi: FbiClient, fbi_state: SimState) -> None:
    works = fbi.get_works(FAUSTS)
    assert fbi_state.request_count == 1
    assert fbi_state.requests == [FAUSTS]
    assert sorted(works) == sorted(FAUSTS)
    assert works["27655033"] == Work(
        faust="27655033",
        title="Skovens stemmer : en lydfortælling",
        creators=("Mads Lind",),
        material_type="lydbog (cd-mp3)",
        year=2017,
    )
    assert works["52530331"].creators == ("Sofie Bager", "Peter Mel")
    assert works["22639862"].year == 2003  # "[2003]"


def test_each_faust_number_is_asked_once_and_others_are_left_out(fbi: FbiClient, fbi_state: SimState) -> None:
    works = fbi.get_works(["29830092", "29830092", "not-a-faust", "12", "1234567890", "46651209"])
    assert fbi_state.requests == [["29830092", "46651209"]]
    assert sorted(works) == ["29830092", "46651209"]


def test_nothing_to_ask_makes_no_request(fbi: FbiClient, fbi_state: SimState) -> None:
    assert fbi.get_works([]) == {} and fbi.get_works(["local-1"]) == {}
    assert fbi_state.request_count == 0


def test_a_batch_is_bounded(fbi: FbiClient, fbi_state: SimState) -> None:
    fbi.get_works([f"{n:08d}" for n in range(10_000_000, 10_000_000 + MAX_BATCH + 5)])
    assert [len(r) for r in fbi_state.requests] == [MAX_BATCH]


def test_unknown_numbers_are_missing_the_rest_found(fbi: FbiClient) -> None:
    answer = fbi.lookup(["29830092", UNKNOWN])
    assert list(answer.works) == ["29830092"] and answer.unknown == {UNKNOWN}


def test_the_base_url_may_name_the_graphql_endpoint(http: httpx.Client, fbi_url: str, fbi_state: SimState) -> None:
    assert FbiClient(http, fbi_url + "/graphql/", DEV_FBI_TOKEN).get_works(["29830092"])
    assert fbi_state.request_count == 1


def test_the_token_is_sent_and_a_wrong_one_is_a_clear_error(http: httpx.Client, fbi_url: str) -> None:
    with pytest.raises(FbiTokenRejected, match="token refused \\(401\\): check PORTAL_FBI_TOKEN") as raised:
        FbiClient(http, fbi_url, "wrong-token").get_works(FAUSTS)
    assert "wrong-token" not in str(raised.value) and raised.value.provider == "fbi"


def test_the_request_is_the_graphql_query_with_variables(fbi: FbiClient, fbi_url: str) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [seen.append]}, timeout=make_timeout(3.0)) as client:
        FbiClient(client, fbi_url, DEV_FBI_TOKEN).get_works(["29830092"])
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/775100/next/graphql"
    assert request.headers["Authorization"] == f"Bearer {DEV_FBI_TOKEN}"
    body = httpx.Response(200, content=request.content).json()
    assert body["variables"] == {"faust": ["29830092"]}
    assert "manifestations(faust: $faust)" in body["query"]
    # The FAUST numbers travel in the body only, never in the URL.
    assert "29830092" not in str(request.url)


@pytest.mark.parametrize("status", [500, 502, 404])
def test_an_error_status_is_a_bad_response(fbi: FbiClient, fbi_state: SimState, status: int) -> None:
    fbi_state.fail_next(status=status)
    with pytest.raises(UpstreamBadResponse, match=f"unexpected status {status}"):
        fbi.get_works(FAUSTS)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("invalid-json", "not valid JSON"),
        ("no-data", "no data \\(1 GraphQL errors\\)"),
        ("short-list", "5 entries for 6 FAUST numbers"),
    ],
)
def test_an_unusable_answer_is_one_error_naming_no_number(
    fbi: FbiClient, fbi_state: SimState, kind: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    fbi_state.answer_garbage(kind)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG), pytest.raises(UpstreamBadResponse, match=message) as raised:
        fbi.get_works(FAUSTS)
    logged = str(raised.value) + caplog.text
    assert not any(faust in logged for faust in FAUSTS)


def test_odd_entries_are_left_out_the_readable_ones_kept(
    fbi: FbiClient, fbi_state: SimState, caplog: pytest.LogCaptureFixture
) -> None:
    fbi_state.answer_garbage("bad-entries")
    works = fbi.get_works(FAUSTS)
    assert sorted(works) == sorted(FAUSTS[0::2])
    assert "3 entries unreadable" in caplog.text
    assert not any(faust in caplog.text for faust in FAUSTS)


def test_unreachable_is_an_upstream_error(http: httpx.Client) -> None:
    with pytest.raises(UpstreamError, match="cannot reach"):
        FbiClient(http, f"http://127.0.0.1:{free_port()}/p", DEV_FBI_TOKEN).get_works(FAUSTS)


def test_slow_answer_ends_with_the_budget(fbi: FbiClient, fbi_state: SimState) -> None:
    fbi_state.delay_answers(5)
    with upstream_budget(0.3), pytest.raises(UpstreamTimeout):
        fbi.get_works(FAUSTS)


def test_the_simulator_answers_other_queries_with_a_graphql_error(http: httpx.Client, fbi_url: str) -> None:
    answer = http.post(
        fbi_url + "/graphql",
        json={"query": '{ manifestation(faust: "1") { pid } }'},
        headers={"Authorization": f"Bearer {DEV_FBI_TOKEN}"},
    )
    assert answer.status_code == 200 and "errors" in answer.json() and "data" not in answer.json()


def test_the_simulator_knows_every_demo_record() -> None:
    from portal.devtools import demo_data

    records = {m["recordId"] for fees in demo_data.FEES.values() for fee in fees for m in fee.get("materials", [])}
    assert records and records <= set(DEMO_WORKS)


# -- parsing, without HTTP ---------------------------------------------------------------------


def answer(*items: object) -> str:
    import json

    return json.dumps({"data": {"manifestations": list(items)}})


def test_a_manifestation_without_a_title_is_left_out() -> None:
    parsed = fbi_parse.parse_works(
        answer({"titles": {"full": []}}, {"titles": {"main": ["Hoved"]}}), ["11111111", "22222222"]
    )
    assert list(parsed.works) == ["22222222"] and parsed.works["22222222"].title == "Hoved"
    assert parsed.unreadable == 1


def test_odd_optional_fields_are_missing_not_errors() -> None:
    item = {
        "titles": {"full": ["  En   titel  "]},
        "creators": [{"display": 7}, "x", {"display": "Forfatter"}, {"display": "Forfatter"}],
        "materialTypes": {"materialTypeSpecific": "bog"},
        "edition": {"publicationYear": {"display": "ukendt"}},
    }
    work = fbi_parse.parse_works(answer(item), ["12345678"]).works["12345678"]
    assert work == Work("12345678", "En titel", ("Forfatter",), None, None)


def test_graphql_errors_beside_data_keep_the_data() -> None:
    import json

    body = json.dumps({"errors": [{"message": "partial"}], "data": {"manifestations": [None]}})
    assert fbi_parse.parse_works(body, ["12345678"]).unknown == {"12345678"}


@pytest.mark.parametrize("value", ["1234567", "1234567890", "12 45678", "١٢٣٤٥٦٧٨", None, 12345678])
def test_only_eight_or_nine_ascii_digits_are_faust_numbers(value: object) -> None:
    assert not fbi_parse.is_faust(value)
