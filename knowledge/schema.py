"""Pydantic models for the guide files, office settings, lexicon and field list.

Editors write YAML; these models are the contract. Validators raise Vietnamese messages because
the people who read them are commune officials, not programmers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Basis = Annotated[list[Text], Field(min_length=1)]
GuideId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]

MIN_PHRASES = 10


def in_window(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    """Dated lines and versions: both ends inclusive, an open end has no limit."""
    return (start is None or day >= start) and (end is None or day <= end)


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt key must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Document(Strict):
    name: Text
    originals: int = Field(default=1, ge=0)
    copies: int = Field(default=0, ge=0)
    form: Text | None = None
    case: Text | None = None
    notes: Text | None = None
    optional: bool = False
    key: bool = False
    """A paper nearly everyone needs (the hospital birth paper for a birth): shown on the card."""
    verify: Text | None = None


class Steps(Strict):
    in_person: list[Text] = Field(default_factory=list)
    online: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Steps:
        if not self.in_person and not self.online:
            raise ValueError("cần ít nhất một bước (in_person hoặc online)")
        return self


class FeeTier(Strict):
    """Per-unit price for units `from`..`to` (inclusive, 1-based); `to` empty means no upper end."""

    from_unit: int = Field(alias="from", ge=1)
    to_unit: int | None = Field(default=None, alias="to", ge=1)
    amount: int = Field(ge=0)


class Fee(Strict):
    """One fee line. Exactly one of: `amount` (0 = free), `tiers`, or `provincial`.

    `provincial` names a key under `provincial_fees` in office.yaml: the provincial People's
    Council sets those amounts, so they live in the commune's settings, not in the guide.
    """

    name: Text
    amount: int | None = Field(default=None, ge=0)
    online_amount: int | None = Field(default=None, ge=0)
    tiers: list[FeeTier] = Field(default_factory=list)
    provincial: str | None = None
    unit: Text = "lần"
    per: Text | None = None
    cap: int | None = Field(default=None, ge=0)
    conditions: Text | None = None
    exemptions: list[Text] = Field(default_factory=list)
    legal_basis: Basis
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    verify: Text | None = None

    def in_force(self, day: dt.date) -> bool:
        """Temporary fee cuts and new rates carry dates; the bot shows the line in force."""
        return in_window(day, self.valid_from, self.valid_to)

    @model_validator(mode="after")
    def _one_source(self) -> Fee:
        given = [self.amount is not None, bool(self.tiers), self.provincial is not None]
        if sum(given) != 1:
            raise ValueError(
                "phí phải ghi đúng một trong ba cách: 'amount' (0 là miễn phí), "
                "'tiers' (bảng giá theo trang) hoặc 'provincial' (mức do tỉnh quy định)"
            )
        if self.cap is not None and not self.tiers:
            raise ValueError("'cap' (mức thu tối đa) chỉ dùng cùng với 'tiers'")
        if self.online_amount is not None and self.amount is None:
            raise ValueError("'online_amount' (mức nộp trực tuyến) chỉ dùng cùng với 'amount'")
        return self

    @property
    def is_free(self) -> bool:
        return self.amount == 0


class Benefit(Strict):
    """What the citizen receives (a monthly allowance, burial support): never a processing fee.

    `amount` is in đồng per `per` (e.g. "tháng"); `text` explains how it is derived (base level
    × coefficient) when a single number does not say it all.
    """

    name: Text
    amount: int | None = Field(default=None, ge=0)
    per: Text | None = None
    text: Text | None = None
    conditions: Text | None = None
    legal_basis: Basis
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    verify: Text | None = None

    def in_force(self, day: dt.date) -> bool:
        return in_window(day, self.valid_from, self.valid_to)

    @model_validator(mode="after")
    def _something_to_say(self) -> Benefit:
        if self.amount is None and self.text is None:
            raise ValueError("mức hưởng phải có 'amount' (số tiền) hoặc 'text' (cách tính)")
        return self


class ProcessingTime(Strict):
    text: Text
    working_days: float | None = Field(default=None, ge=0)
    legal_basis: Basis
    verify: Text | None = None


class Deadline(Strict):
    """A time limit the citizen must respect (e.g. register a birth within 60 days)."""

    text: Text
    legal_basis: Basis
    verify: Text | None = None


class Where(Strict):
    desk: Text
    online: Text | None = None
    online_url: Text | None = None


class Faq(Strict):
    q: Text
    a: Text
    legal_basis: list[Text] = Field(default_factory=list)
    verify: Text | None = None


class Guide(Strict):
    id: GuideId
    code: Text | None = None
    title: Text
    field: Text
    agency: Text
    summary: Text
    who: Text
    documents: list[Document] = Field(default_factory=list)
    documents_basis: list[Text] = Field(default_factory=list)
    steps: Steps
    fees: list[Fee] = Field(min_length=1)
    benefits: list[Benefit] = Field(default_factory=list)
    processing_time: ProcessingTime
    deadline: Deadline | None = None
    where: Where
    legal_basis: Basis
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    reviewed_on: dt.date
    faq: list[Faq] = Field(default_factory=list)
    related: list[GuideId] = Field(default_factory=list)
    aliases: list[Text] = Field(default_factory=list)
    examples: list[Text] = Field(default_factory=list)
    verify: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Guide:
        if self.documents and not self.documents_basis:
            raise ValueError("danh sách giấy tờ phải có căn cứ pháp lý ('documents_basis')")
        if len(self.aliases) + len(self.examples) < MIN_PHRASES:
            raise ValueError(
                f"cần ít nhất {MIN_PHRASES} cách hỏi ('aliases' + 'examples'), "
                f"hiện có {len(self.aliases) + len(self.examples)}"
            )
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("'effective_to' phải sau 'effective_from'")
        if self.id in self.related:
            raise ValueError("'related' không được chứa chính thủ tục này")
        return self

    def active_on(self, day: dt.date) -> bool:
        return in_window(day, self.effective_from, self.effective_to)

    @property
    def phrases(self) -> list[str]:
        return [self.title, *self.aliases, *self.examples]


# --- office settings -------------------------------------------------------------------------

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Session(Strict):
    start: str
    end: str

    @model_validator(mode="after")
    def _times(self) -> Session:
        for value in (self.start, self.end):
            if not _HHMM.match(value):
                raise ValueError(f"giờ '{value}' phải có dạng HH:MM, ví dụ 07:30")
        if self.end <= self.start:
            raise ValueError("giờ kết thúc phải sau giờ bắt đầu")
        return self

    def contains(self, t: dt.time) -> bool:
        return self.start <= t.strftime("%H:%M") < self.end


class Holiday(Strict):
    date: dt.date
    name: Text


class ProvincialFee(Strict):
    amount: int = Field(ge=0)
    unit: Text = "lần"
    online_amount: int | None = Field(default=None, ge=0)
    legal_basis: Basis
    verify: Text | None = None


class Phone(Strict):
    label: Text
    number: Text


class Office(Strict):
    commune: Text
    province: Text
    center_name: Text
    address: Text
    police_name: Text
    police_address: Text
    phones: list[Phone] = Field(min_length=1)
    email: Text | None = None
    timezone: Text = "Asia/Ho_Chi_Minh"
    hours: dict[Weekday, list[Session]]
    police_hours: dict[Weekday, list[Session]] = Field(default_factory=dict)
    """The police keep their own reception hours (residence, ID cards); empty = not known."""
    holidays: list[Holiday] = Field(default_factory=list)
    provincial_fees: dict[str, ProvincialFee] = Field(default_factory=dict)
    local: dict[str, Text] = Field(default_factory=dict)
    """What the province decides (forms, steps, offices), shown in guides as {local_KEY}."""
    portal_url: Text = "https://dichvucong.gov.vn"
    stale_after_days: int = Field(default=180, ge=1)
    reviewed_on: dt.date
    samples: list[Text] = Field(default_factory=list)
    """Keys that still hold sample values ('phones', 'provincial_fees.<key>'): a commune must
    replace them and delete the key from this list; strict validation and start-up insist."""
    verify: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_samples(self) -> Office:
        for key in self.samples:
            head, _, rest = key.partition(".")
            if head not in type(self).model_fields or head in ("samples", "verify"):
                raise ValueError(f"'samples': không có mục '{head}' trong office.yaml")
            tables: dict[str, set[str]] = {
                "provincial_fees": set(self.provincial_fees),
                "local": set(self.local),
            }
            if rest and rest not in tables.get(head, set()):
                raise ValueError(f"'samples': không có mục '{key}' trong office.yaml")
        return self


# --- lexicon and fields ----------------------------------------------------------------------


class Pointer(Strict):
    """A well-known procedure another agency handles: where to send the citizen instead. With
    `commune`, the commune does handle it but we have no guide yet: say so, never "not ours"."""

    title: Text
    agency: Text
    commune: bool = False
    note: Text | None = None
    legal_basis: Basis
    phrases: list[Text] = Field(min_length=1)
    verify: Text | None = None


class Lexicon(Strict):
    """Editor-maintained language data: every section maps what citizens type to what we index."""

    abbreviations: dict[str, str] = Field(default_factory=dict)
    slang: dict[str, str] = Field(default_factory=dict)
    regional: dict[str, str] = Field(default_factory=dict)
    synonyms: dict[str, str] = Field(default_factory=dict)
    stopwords: list[str] = Field(default_factory=list)
    handoff: list[Text] = Field(min_length=1)
    out_of_scope: list[Text] = Field(default_factory=list)
    chitchat: dict[Literal["greeting", "thanks", "praise", "ack", "goodbye"], list[Text]] = Field(
        default_factory=dict
    )
    pointers: dict[str, Pointer] = Field(default_factory=dict)

    def entries(self) -> list[tuple[str, str, bool]]:
        """(typed, standard, marks matter). Abbreviations and chat forms are matched on letters
        alone ("đkkh" = "dkkh"); regional words and synonyms respect marks ("đẻ" is not "để")."""
        result = [
            (k, v, False)
            for section in (self.abbreviations, self.slang)
            for k, v in section.items()
        ]
        result += [
            (k, v, True) for section in (self.regional, self.synonyms) for k, v in section.items()
        ]
        return result


class FieldDef(Strict):
    id: GuideId
    title: Text
    icon: str = ""
    guides: list[GuideId] = Field(default_factory=list)  # menu order; others follow by title


class Fields(Strict):
    fields: list[FieldDef] = Field(min_length=1)
