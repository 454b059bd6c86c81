"""Button data: what the core puts on buttons reads back the same; anything else is 'unknown'."""

import pytest

from flows.callbacks import MAX_DATA_BYTES, SHAPES, Act, Callback, Flow, format_data, parse
from flows.ports import ConversationState


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("menu", Callback(Act.MENU, raw="menu")),
        ("x", Callback(Act.CANCEL, raw="x")),
        ("del", Callback(Act.DELETE, raw="del")),
        ("del:y", Callback(Act.DELETE, key="y", raw="del:y")),
        ("fb:skip", Callback(Act.FEEDBACK, key="skip", raw="fb:skip")),
        ("g:khai-sinh", Callback(Act.CARD, key="khai-sinh", raw="g:khai-sinh")),
        ("r+:staff", Callback(Act.HELPFUL, key="staff", raw="r+:staff")),
        (
            "qa:khai-sinh:3",
            Callback(Act.FAQ_ANSWER, key="khai-sinh", number=3, raw="qa:khai-sinh:3"),
        ),
        (
            "s:khai-sinh:o:2",
            Callback(Act.STEP, key="khai-sinh", number=2, online=True, raw="s:khai-sinh:o:2"),
        ),
        ("claim:42", Callback(Act.CLAIM, number=42, raw="claim:42")),
        ("ex:-", Callback(Act.EXAMPLE, key="-", raw="ex:-")),
    ],
)
def test_buttons_already_sent_keep_working(data: str, expected: Callback) -> None:
    """The wire format is the one older versions put on buttons still in citizens' chats."""
    assert parse(data) == expected
    assert expected.data == data


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "zzz",
        "menu:1",
        "claim:",
        "claim:abc",
        "claim:-1",
        "claim:１２",  # full-width digits are not an id
        "del:maybe",
        "fb:",
        "g:",
        "g:a:b",
        "g:khai sinh",
        "s:khai-sinh:x:1",
        "s:khai-sinh:p:x",
        "qa:khai-sinh",
        "?",
        "x" * 500,
    ],
)
def test_unreadable_data_is_unknown(data: str | None) -> None:
    parsed = parse(data)
    assert parsed.act is Act.UNKNOWN
    assert len(parsed.raw) <= MAX_DATA_BYTES


def test_data_that_would_not_read_back_is_refused() -> None:
    with pytest.raises(ValueError):
        format_data(Act.CARD, "có dấu")
    with pytest.raises(ValueError):
        format_data(Act.CLAIM)
    with pytest.raises(ValueError):
        format_data(Act.UNKNOWN)
    with pytest.raises(ValueError):
        format_data(Act.CARD, "a" * 80)  # beyond Telegram's 64 bytes


def test_every_action_round_trips() -> None:
    for act in Act:
        if act is Act.UNKNOWN:
            continue
        sample = parse(
            {
                "none": act.value,
                "choice": act.value,
                "key": f"{act.value}:abc",
                "id": f"{act.value}:7",
                "key_index": f"{act.value}:abc:7",
                "step": f"{act.value}:abc:p:7",
            }[SHAPES[act].value]
        )
        assert sample.act is act
        assert parse(sample.data) == sample


def test_a_state_saved_with_a_removed_flow_still_loads() -> None:
    state = ConversationState.model_validate({"flow": "gone-in-this-version", "mode": "bot"})
    assert state.flow is None
    assert ConversationState.model_validate({"flow": "fee"}).flow is Flow.FEE
    assert ConversationState.model_validate_json(state.model_dump_json()).flow is None
