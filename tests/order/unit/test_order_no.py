"""Order numbers: UTC time to the second, then eight random digits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tessera.blocks.order.service.order_no import ORDER_NO_PATTERN, format_order_no, new_order_no

PLACED_AT = datetime(2026, 11, 26, 15, 0, 9, 999_999, tzinfo=UTC)


def test_format_is_time_then_zero_padded_serial():
    assert format_order_no(PLACED_AT, 12345678) == "2026112615000912345678"
    assert format_order_no(PLACED_AT, 42) == "2026112615000900000042"
    assert ORDER_NO_PATTERN.match(format_order_no(PLACED_AT, 0))


@pytest.mark.parametrize("serial", [-1, 100_000_000])
def test_serial_out_of_range_is_refused(serial):
    with pytest.raises(ValueError, match="digits"):
        format_order_no(PLACED_AT, serial)


def test_new_numbers_sort_by_time_and_vary():
    numbers = [new_order_no(PLACED_AT) for _ in range(20)]
    assert all(ORDER_NO_PATTERN.match(number) for number in numbers)
    assert all(number.startswith("20261126150009") for number in numbers)
    assert len(set(numbers)) > 1
    assert new_order_no(datetime(2026, 11, 26, 15, 0, 10, tzinfo=UTC)) > max(numbers)
    assert len(numbers[0]) <= 32  # the order_no column
