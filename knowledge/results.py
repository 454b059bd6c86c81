"""What a matcher answers: the decision and the ranked guides (the `knowledge match` contract)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Intent = Literal["guide", "clarify", "handoff", "none", "chitchat"]
HANDOFF = "__handoff__"
OUT_OF_SCOPE = "__none__"


@dataclass(frozen=True)
class Match:
    id: str
    title: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """`intent` is the decision. `chitchat` says which ("greeting", "thanks", "praise", "ack",
    "goodbye") when the message is small talk; `pointer` names a lexicon pointer (a well-known procedure of another agency)
    when intent is "none"; `multi` marks a clarify that offers two procedures asked together;
    `outside` how clearly the message is about none of them."""

    query: str
    intent: Intent
    matches: tuple[Match, ...]
    chitchat: str | None = None
    pointer: str | None = None
    multi: bool = False
    # how far the out-of-scope class leads the best guide when it ranks first (0 otherwise):
    # in a conversation, a clear lead says the follow-up left the procedure ("visa sang Hàn")
    outside: float = 0.0

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "query": self.query,
            "intent": self.intent,
            "matches": [
                {"id": m.id, "title": m.title, "score": round(m.score, 4)} for m in self.matches
            ],
        }
        if self.chitchat:
            out["chitchat"] = self.chitchat
        if self.pointer:
            out["pointer"] = self.pointer
        if self.multi:
            out["multi"] = True
        return out
