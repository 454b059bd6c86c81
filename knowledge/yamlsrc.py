"""YAML reading that remembers where every value came from.

Editors are not programmers: an error must point at the file and line they have to fix, so we
compose the YAML node tree ourselves and keep a map from value paths to line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the C loader is much faster; fall back when libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the build of PyYAML
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PathKey = tuple[str | int, ...]


@dataclass
class Located:
    """A parsed YAML document plus the 1-based line of every mapping key and sequence item."""

    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int:
        """Line of the deepest known ancestor of `path` (pydantic locations may go deeper)."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return 1


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _walk(node: yaml.Node, path: PathKey, lines: dict[PathKey, int]) -> None:
    """Record the line of every key and item; reject duplicate keys (YAML keeps the last)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlSyntaxError(line, f"mục '{key}' bị lặp lại trong cùng một khối")
            seen.add(key)
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines)


def parse_yaml(text: str) -> Located:
    """Parse one YAML document. Raises YamlSyntaxError with a Vietnamese message and a line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or "lỗi cú pháp"
        raise YamlSyntaxError(line, f"lỗi cú pháp YAML ({problem})") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"lỗi cú pháp YAML ({exc})") from exc
    if node is None:
        return Located(data=None, lines={(): 1})
    lines: dict[PathKey, int] = {}
    _walk(node, (), lines)
    data = yaml.load(text, Loader=_Loader)
    return Located(data=data, lines=lines)


def read_yaml(path: Path) -> Located:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(1, "tệp không phải mã UTF-8; hãy lưu lại với mã UTF-8") from exc
    return parse_yaml(text)
