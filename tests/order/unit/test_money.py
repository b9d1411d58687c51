"""Money arithmetic of orders: cents, half-up rounding, totals that add up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tessera.blocks.order.service.money import line_total, money_string, order_total, quantize


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.675", "2.68"),  # half up, not half even
        ("2.665", "2.67"),
        ("-1.005", "-1.01"),  # away from zero
        ("12.5", "12.50"),
        ("1E+1", "10.00"),
    ],
)
def test_quantize_rounds_half_up_to_cents(amount, cents):
    result = quantize(Decimal(amount))
    assert result == Decimal(cents)
    assert str(result) == cents


def test_line_total_multiplies_then_rounds_once():
    assert line_total(Decimal("3.10"), 3) == Decimal("9.30")
    assert line_total(Decimal("0.335"), 3) == Decimal("1.01")  # 1.005 -> 1.01
    assert line_total(Decimal("12.50"), 999) == Decimal("12487.50")


def test_order_total_is_the_sum_of_its_lines():
    lines = [line_total(Decimal("12.50"), 2), line_total(Decimal("3.10"), 3)]
    assert order_total(lines) == Decimal("34.30")
    assert str(order_total([])) == "0.00"
    assert order_total(iter(lines)) == Decimal("34.30")  # any iterable, read once


@pytest.mark.parametrize(
    ("amount", "wire"),
    [("12.5", "12.50"), ("6.25", "6.25"), ("0", "0.00"), ("1E+3", "1000.00"), ("0.125", "0.13")],
)
def test_money_string_always_has_two_decimals(amount, wire):
    assert money_string(Decimal(amount)) == wire
