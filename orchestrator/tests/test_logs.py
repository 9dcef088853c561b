import io
import json
import logging

import pytest

from traderadmin_orchestrator.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_records_are_json_lines_with_extra_fields():
    stream = io.StringIO()
    configure_logging("DEBUG", stream)
    log = logging.getLogger("traderadmin_orchestrator.test")
    log.info("paper fill", extra={"strategy": "a", "quantity": 1.5})
    try:
        raise ValueError("boom")
    except ValueError:
        log.error("failed", exc_info=True)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "paper fill"
    assert first["level"] == "info"
    assert first["logger"] == "traderadmin_orchestrator.test"
    assert first["ts"].endswith("Z")
    assert (first["strategy"], first["quantity"]) == ("a", 1.5)
    assert "ValueError: boom" in second["exc"]
