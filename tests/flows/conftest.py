from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.flows.driver import Driver


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Driver]:
    async with Driver(tmp_path / "bot.sqlite3") as driver:
        yield driver
