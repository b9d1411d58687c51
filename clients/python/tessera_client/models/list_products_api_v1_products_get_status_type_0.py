from enum import StrEnum


class ListProductsApiV1ProductsGetStatusType0(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"

    def __str__(self) -> str:
        return str(self.value)
