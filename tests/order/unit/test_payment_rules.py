"""Payment and refund rules without a database: numbers, refundable amounts, amount checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tessera.blocks.order.integration.base import parse_yuan, to_fen, yuan_string
from tessera.blocks.order.service import payment_rules as rules


def test_trade_and_refund_numbers_extend_the_order_number():
    assert rules.trade_no("2026120112000012345678", 1) == "2026120112000012345678P01"
    assert rules.refund_no("2026120112000012345678", 12) == "2026120112000012345678R12"
    # WeChat Pay takes 6-32 characters; Alipay up to 64.
    assert len(rules.trade_no("2026120112000012345678", 99)) <= 32
    with pytest.raises(ValueError, match="out of range"):
        rules.trade_no("20261201", 100)


def test_failed_refunds_do_not_count_against_what_is_left():
    refunds = [
        ("succeeded", Decimal("5.00")),
        ("failed", Decimal("30.00")),
        ("pending", Decimal("2.50")),
        ("requested", Decimal("1.00")),
    ]
    assert rules.refundable(Decimal("19.90"), refunds) == Decimal("11.40")
    assert rules.refundable(Decimal("5.00"), [("succeeded", Decimal("5.00"))]) == 0


def test_amounts_must_match_to_the_fen_and_in_currency():
    assert rules.amount_matches(
        expected=Decimal("19.90"), currency="CNY", provider_fen=1990, provider_currency="CNY"
    )
    for fen, currency in ((1989, "CNY"), (1990, "USD"), (None, "CNY"), (1990, None)):
        assert not rules.amount_matches(
            expected=Decimal("19.90"), currency="CNY", provider_fen=fen, provider_currency=currency
        )


def test_amounts_cross_the_provider_boundary_as_whole_fen():
    assert to_fen(Decimal("19.90")) == 1990
    assert yuan_string(1990) == "19.90"
    assert yuan_string(5) == "0.05"
    assert parse_yuan("19.9") == 1990
    for bad in ("19.999", "-1.00", "1e3", " 1.00", "0x10", "1,00"):
        with pytest.raises(ValueError):
            parse_yuan(bad)
    with pytest.raises(ValueError, match="whole number of fen"):
        to_fen(Decimal("0.001"))
