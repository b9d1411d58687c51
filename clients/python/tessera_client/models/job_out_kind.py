from enum import StrEnum


class JobOutKind(StrEnum):
    ORDERS = "orders"
    PRODUCTS = "products"
    USERS = "users"

    def __str__(self) -> str:
        return str(self.value)
