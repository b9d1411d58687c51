from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.payment_attempt_out_status import PaymentAttemptOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.checkout_out import CheckoutOut


T = TypeVar("T", bound="PaymentAttemptOut")


@_attrs_define
class PaymentAttemptOut:
    """One provider trade started by a pay request.

    Attributes:
        id (int):
        method (str):
        provider (str):
        out_trade_no (str): Tessera's trade number at the provider
        status (PaymentAttemptOutStatus):
        amount (str):
        currency (str):
        transaction_id (None | str): The provider's trade number, once paid
        expires_at (datetime.datetime):
        paid_at (datetime.datetime | None):
        created_at (datetime.datetime):
        checkout (CheckoutOut | None | Unset): Shown to the buyer while the trade can be paid
    """

    id: int
    method: str
    provider: str
    out_trade_no: str
    status: PaymentAttemptOutStatus
    amount: str
    currency: str
    transaction_id: None | str
    expires_at: datetime.datetime
    paid_at: datetime.datetime | None
    created_at: datetime.datetime
    checkout: CheckoutOut | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.checkout_out import CheckoutOut

        id = self.id

        method = self.method

        provider = self.provider

        out_trade_no = self.out_trade_no

        status = self.status.value

        amount = self.amount

        currency = self.currency

        transaction_id: None | str
        transaction_id = self.transaction_id

        expires_at = self.expires_at.isoformat()

        paid_at: None | str
        if isinstance(self.paid_at, datetime.datetime):
            paid_at = self.paid_at.isoformat()
        else:
            paid_at = self.paid_at

        created_at = self.created_at.isoformat()

        checkout: dict[str, Any] | None | Unset
        if isinstance(self.checkout, Unset):
            checkout = UNSET
        elif isinstance(self.checkout, CheckoutOut):
            checkout = self.checkout.to_dict()
        else:
            checkout = self.checkout

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "method": method,
                "provider": provider,
                "out_trade_no": out_trade_no,
                "status": status,
                "amount": amount,
                "currency": currency,
                "transaction_id": transaction_id,
                "expires_at": expires_at,
                "paid_at": paid_at,
                "created_at": created_at,
            }
        )
        if checkout is not UNSET:
            field_dict["checkout"] = checkout

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.checkout_out import CheckoutOut

        d = dict(src_dict)
        id = d.pop("id")

        method = d.pop("method")

        provider = d.pop("provider")

        out_trade_no = d.pop("out_trade_no")

        status = PaymentAttemptOutStatus(d.pop("status"))

        amount = d.pop("amount")

        currency = d.pop("currency")

        def _parse_transaction_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        transaction_id = _parse_transaction_id(d.pop("transaction_id"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        def _parse_paid_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                paid_at_type_0 = datetime.datetime.fromisoformat(data)

                return paid_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        paid_at = _parse_paid_at(d.pop("paid_at"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_checkout(data: object) -> CheckoutOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                checkout_type_0 = CheckoutOut.from_dict(data)

                return checkout_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CheckoutOut | None | Unset, data)

        checkout = _parse_checkout(d.pop("checkout", UNSET))

        payment_attempt_out = cls(
            id=id,
            method=method,
            provider=provider,
            out_trade_no=out_trade_no,
            status=status,
            amount=amount,
            currency=currency,
            transaction_id=transaction_id,
            expires_at=expires_at,
            paid_at=paid_at,
            created_at=created_at,
            checkout=checkout,
        )

        payment_attempt_out.additional_properties = d
        return payment_attempt_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
