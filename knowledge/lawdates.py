"""Legal texts with their dates, and the check that no guide outlives a text it rests on.

A guide keeps serving until an editor changes it; when a law it cites is repealed on a known day,
the editor must have prepared a successor version by then. `knowledge/legal_texts.yaml` lists the
texts whose dates we know and the ways guides cite them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from knowledge.schema import Basis, GuideId, Strict, Text

if TYPE_CHECKING:
    from knowledge.loader import GuideSource, KnowledgeBase, Problem
    from knowledge.yamlsrc import PathKey


class LegalText(Strict):
    id: GuideId
    name: Text
    title: Text | None = None
    patterns: list[Text] = Field(min_length=1)
    """How guides cite it (case and spacing do not matter), e.g. "60/2014/QH13"."""
    issued: dt.date | None = None
    in_force_from: dt.date | None = None
    in_force_to: dt.date | None = None
    """The last day in force; empty when no end is known."""
    replaced_by: GuideId | None = None
    source: list[Text] = Field(default_factory=list)
    verify: Text | None = None

    @model_validator(mode="after")
    def _dates(self) -> LegalText:
        if self.in_force_from and self.in_force_to and self.in_force_to < self.in_force_from:
            raise ValueError("'in_force_to' phải sau 'in_force_from'")
        return self

    def cited_in(self, citation: str) -> bool:
        text = _squash(citation)
        return any(_squash(p) in text for p in self.patterns)


class LegalTexts(Strict):
    texts: list[LegalText] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> LegalTexts:
        ids = [t.id for t in self.texts]
        if len(ids) != len(set(ids)):
            raise ValueError("mỗi văn bản chỉ được khai báo một lần (trùng 'id')")
        known = set(ids)
        for text in self.texts:
            if text.replaced_by and text.replaced_by not in known:
                raise ValueError(
                    f"'{text.id}': 'replaced_by' chỉ tới '{text.replaced_by}' không có trong danh sách"
                )
        return self

    def by_id(self, text_id: str) -> LegalText | None:
        return next((t for t in self.texts if t.id == text_id), None)


_SPACE = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def citations(source: GuideSource) -> Iterator[tuple[PathKey, str, dt.date | None]]:
    """Every legal citation of a guide: (where, text, last day the cited line applies)."""
    guide = source.guide

    def each(
        path: PathKey, basis: Basis | list[str], until: dt.date | None = None
    ) -> Iterator[tuple[PathKey, str, dt.date | None]]:
        for index, item in enumerate(basis):
            yield (*path, index), item, until

    yield from each(("legal_basis",), guide.legal_basis)
    yield from each(("documents_basis",), guide.documents_basis)
    for i, fee in enumerate(guide.fees):
        yield from each(("fees", i, "legal_basis"), fee.legal_basis, fee.valid_to)
    for i, benefit in enumerate(guide.benefits):
        yield from each(("benefits", i, "legal_basis"), benefit.legal_basis, benefit.valid_to)
    yield from each(("processing_time", "legal_basis"), guide.processing_time.legal_basis)
    if guide.deadline is not None:
        yield from each(("deadline", "legal_basis"), guide.deadline.legal_basis)
    for i, faq in enumerate(guide.faq):
        yield from each(("faq", i, "legal_basis"), faq.legal_basis)


def check_outdated_citations(kb: KnowledgeBase, texts: LegalTexts) -> list[Problem]:
    """Warn where a guide would serve, citing a text, after that text's last day in force."""
    from knowledge.loader import Problem

    versions: dict[str, list[GuideSource]] = defaultdict(list)
    for source in kb.sources:
        versions[source.guide.id].append(source)
    problems: list[Problem] = []
    ending = [t for t in texts.texts if t.in_force_to is not None]
    for source in kb.sources:
        guide = source.guide
        reported: set[str] = set()
        for path, citation, until in citations(source):
            for text in ending:
                end = text.in_force_to
                assert end is not None
                if text.id in reported or not text.cited_in(citation):
                    continue
                if until is not None and until <= end:
                    continue  # a dated fee line that stops in time
                if guide.effective_from and guide.effective_from > end:
                    message = (
                        f"'{text.name}' hết hiệu lực sau ngày {end} nhưng phiên bản này "
                        f"(từ {guide.effective_from}) vẫn dẫn văn bản đó"
                    )
                elif guide.effective_to is None or guide.effective_to > end:
                    message = (
                        f"dẫn '{text.name}', văn bản hết hiệu lực sau ngày {end}, nhưng hướng "
                        f"dẫn vẫn phục vụ sau ngày đó: ghi 'effective_to: {end}' và soạn phiên bản "
                        f"mới từ {end + dt.timedelta(days=1)} (tệp "
                        f"{guide.id}.{end + dt.timedelta(days=1)}.yaml)"
                    )
                elif not any(
                    (v.guide.effective_from or dt.date.min) > guide.effective_to
                    for v in versions[guide.id]
                ):
                    message = (
                        f"dẫn '{text.name}' (hết hiệu lực sau ngày {end}); hướng dẫn ngừng phục "
                        f"vụ sau {guide.effective_to} mà chưa có phiên bản mới"
                    )
                else:
                    continue
                replaced = texts.by_id(text.replaced_by) if text.replaced_by else None
                if replaced is not None:
                    message += f"; văn bản thay thế: {replaced.name}"
                reported.add(text.id)
                line = source.located.line_of(path)
                problems.append(Problem(source.path, line, message, severity="warning"))
    return problems
