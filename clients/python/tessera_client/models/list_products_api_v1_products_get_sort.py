from enum import StrEnum


class ListProductsApiV1ProductsGetSort(StrEnum):
    CREATED_AT = "created_at"
    NAME = "name"
    PRICE = "price"
    STOCK = "stock"
    VALUE_1 = "-price"
    VALUE_3 = "-created_at"
    VALUE_5 = "-name"
    VALUE_7 = "-stock"

    def __str__(self) -> str:
        return str(self.value)
