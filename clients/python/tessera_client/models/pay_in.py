from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PayIn")


@_attrs_define
class PayIn:
    """
    Attributes:
        method (str): How to pay; one of `order.payment_methods` (`GET /payments/methods`):

            | method | what the answer's `payment.checkout` holds |
            | --- | --- |
            | `sandbox` | nothing: the order is paid at once (demos and tests) |
            | `alipay.page` | `redirect_url` and `form`: Alipay's desktop cashier |
            | `alipay.wap` | `redirect_url` and `form`: Alipay's mobile web cashier |
            | `alipay.qr` | `qr_code_url`: show it as a QR code; the buyer scans it with Alipay |
            | `wechatpay.native` | `qr_code_url` (`weixin://...`): show it as a QR code for WeChat |
            | `wechatpay.jsapi` | `jsapi`: `WeixinJSBridge` `getBrandWCPayRequest` parameters (needs `openid`) |
            | `wechatpay.h5` | `redirect_url`: WeChat Pay's mobile web page |
            | other names | a generic provider that confirms by signed webhook |
        openid (None | str | Unset): The buyer's openid under the merchant's app id (`wechatpay.jsapi` only)
    """

    method: str
    openid: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        method = self.method

        openid: None | str | Unset
        if isinstance(self.openid, Unset):
            openid = UNSET
        else:
            openid = self.openid

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "method": method,
            }
        )
        if openid is not UNSET:
            field_dict["openid"] = openid

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        method = d.pop("method")

        def _parse_openid(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        openid = _parse_openid(d.pop("openid", UNSET))

        pay_in = cls(
            method=method,
            openid=openid,
        )

        return pay_in
