from datetime import datetime, timezone

import pytest

from shared.contracts import errors
from shared.storage import paging


def test_cursor_round_trip():
    row = {"created_at": datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc), "booking_id": "abc"}
    assert paging.decode(paging.encode(row, "booking_id")) == (row["created_at"], "abc")


@pytest.mark.parametrize("bad", ["", "!!!", "bm90IGpzb24", "WzFd"])
def test_a_cursor_we_did_not_issue_is_a_field_error(bad):
    with pytest.raises(errors.ValidationFailed) as info:
        paging.decode(bad)
    assert "cursor" in info.value.fields
