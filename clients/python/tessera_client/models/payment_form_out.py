from __future__ import annotations

from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.payment_form_out_fields import PaymentFormOutFields


T = TypeVar("T", bound="PaymentFormOut")


@_attrs_define
class PaymentFormOut:
    """An HTML form for the buyer's browser to submit (Alipay page and WAP pay).

    Attributes:
        action (str):
        method (Literal['POST']):
        fields (PaymentFormOutFields):
    """

    action: str
    method: Literal["POST"]
    fields: PaymentFormOutFields
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        method = self.method

        fields = self.fields.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "method": method,
                "fields": fields,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.payment_form_out_fields import PaymentFormOutFields

        d = dict(src_dict)
        action = d.pop("action")

        method = cast(Literal["POST"], d.pop("method"))
        if method != "POST":
            raise ValueError(f"method must match const 'POST', got '{method}'")

        fields = PaymentFormOutFields.from_dict(d.pop("fields"))

        payment_form_out = cls(
            action=action,
            method=method,
            fields=fields,
        )

        payment_form_out.additional_properties = d
        return payment_form_out

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
