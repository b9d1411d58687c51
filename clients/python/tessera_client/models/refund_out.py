from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.refund_out_status import RefundOutStatus

T = TypeVar("T", bound="RefundOut")


@_attrs_define
class RefundOut:
    """A refund through the payment provider. `requested`: sent or waiting to be sent (the
    reconciliation job retries), `pending`: the provider is processing it, then `succeeded`
    or `failed`.

        Attributes:
            id (int):
            order_id (int):
            provider (str):
            out_refund_no (str): Tessera's refund number at the provider
            amount (str):
            currency (str):
            status (RefundOutStatus):
            automatic (bool): Made by Tessera (a payment after cancel, a double pay)
            reason (None | str):
            detail (None | str): Why the provider refused, when it did
            created_at (datetime.datetime):
            settled_at (datetime.datetime | None):
    """

    id: int
    order_id: int
    provider: str
    out_refund_no: str
    amount: str
    currency: str
    status: RefundOutStatus
    automatic: bool
    reason: None | str
    detail: None | str
    created_at: datetime.datetime
    settled_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        order_id = self.order_id

        provider = self.provider

        out_refund_no = self.out_refund_no

        amount = self.amount

        currency = self.currency

        status = self.status.value

        automatic = self.automatic

        reason: None | str
        reason = self.reason

        detail: None | str
        detail = self.detail

        created_at = self.created_at.isoformat()

        settled_at: None | str
        if isinstance(self.settled_at, datetime.datetime):
            settled_at = self.settled_at.isoformat()
        else:
            settled_at = self.settled_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "order_id": order_id,
                "provider": provider,
                "out_refund_no": out_refund_no,
                "amount": amount,
                "currency": currency,
                "status": status,
                "automatic": automatic,
                "reason": reason,
                "detail": detail,
                "created_at": created_at,
                "settled_at": settled_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        order_id = d.pop("order_id")

        provider = d.pop("provider")

        out_refund_no = d.pop("out_refund_no")

        amount = d.pop("amount")

        currency = d.pop("currency")

        status = RefundOutStatus(d.pop("status"))

        automatic = d.pop("automatic")

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        def _parse_detail(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        detail = _parse_detail(d.pop("detail"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_settled_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                settled_at_type_0 = datetime.datetime.fromisoformat(data)

                return settled_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        settled_at = _parse_settled_at(d.pop("settled_at"))

        refund_out = cls(
            id=id,
            order_id=order_id,
            provider=provider,
            out_refund_no=out_refund_no,
            amount=amount,
            currency=currency,
            status=status,
            automatic=automatic,
            reason=reason,
            detail=detail,
            created_at=created_at,
            settled_at=settled_at,
        )

        refund_out.additional_properties = d
        return refund_out

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
