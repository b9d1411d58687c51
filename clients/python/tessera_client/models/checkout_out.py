from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.checkout_out_jsapi_type_0 import CheckoutOutJsapiType0
    from ..models.payment_form_out import PaymentFormOut


T = TypeVar("T", bound="CheckoutOut")


@_attrs_define
class CheckoutOut:
    """What the buyer needs to pay; which fields are set depends on the method.

    Attributes:
        qr_code_url (None | str | Unset): `alipay.qr`, `wechatpay.native`: encode it as a QR code
        redirect_url (None | str | Unset): `alipay.page`, `alipay.wap`, `wechatpay.h5`: send the browser here
        form (None | PaymentFormOut | Unset): `alipay.page`, `alipay.wap`: or submit this form (POST)
        jsapi (CheckoutOutJsapiType0 | None | Unset): `wechatpay.jsapi`: appId, timeStamp, nonceStr, package, signType,
            paySign for WeixinJSBridge getBrandWCPayRequest
    """

    qr_code_url: None | str | Unset = UNSET
    redirect_url: None | str | Unset = UNSET
    form: None | PaymentFormOut | Unset = UNSET
    jsapi: CheckoutOutJsapiType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.checkout_out_jsapi_type_0 import CheckoutOutJsapiType0
        from ..models.payment_form_out import PaymentFormOut

        qr_code_url: None | str | Unset
        if isinstance(self.qr_code_url, Unset):
            qr_code_url = UNSET
        else:
            qr_code_url = self.qr_code_url

        redirect_url: None | str | Unset
        if isinstance(self.redirect_url, Unset):
            redirect_url = UNSET
        else:
            redirect_url = self.redirect_url

        form: dict[str, Any] | None | Unset
        if isinstance(self.form, Unset):
            form = UNSET
        elif isinstance(self.form, PaymentFormOut):
            form = self.form.to_dict()
        else:
            form = self.form

        jsapi: dict[str, Any] | None | Unset
        if isinstance(self.jsapi, Unset):
            jsapi = UNSET
        elif isinstance(self.jsapi, CheckoutOutJsapiType0):
            jsapi = self.jsapi.to_dict()
        else:
            jsapi = self.jsapi

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if qr_code_url is not UNSET:
            field_dict["qr_code_url"] = qr_code_url
        if redirect_url is not UNSET:
            field_dict["redirect_url"] = redirect_url
        if form is not UNSET:
            field_dict["form"] = form
        if jsapi is not UNSET:
            field_dict["jsapi"] = jsapi

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.checkout_out_jsapi_type_0 import CheckoutOutJsapiType0
        from ..models.payment_form_out import PaymentFormOut

        d = dict(src_dict)

        def _parse_qr_code_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        qr_code_url = _parse_qr_code_url(d.pop("qr_code_url", UNSET))

        def _parse_redirect_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        redirect_url = _parse_redirect_url(d.pop("redirect_url", UNSET))

        def _parse_form(data: object) -> None | PaymentFormOut | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                form_type_0 = PaymentFormOut.from_dict(data)

                return form_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PaymentFormOut | Unset, data)

        form = _parse_form(d.pop("form", UNSET))

        def _parse_jsapi(data: object) -> CheckoutOutJsapiType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                jsapi_type_0 = CheckoutOutJsapiType0.from_dict(data)

                return jsapi_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CheckoutOutJsapiType0 | None | Unset, data)

        jsapi = _parse_jsapi(d.pop("jsapi", UNSET))

        checkout_out = cls(
            qr_code_url=qr_code_url,
            redirect_url=redirect_url,
            form=form,
            jsapi=jsapi,
        )

        checkout_out.additional_properties = d
        return checkout_out

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
