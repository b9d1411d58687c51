from enum import StrEnum


class OrderFiltersStatusType0(StrEnum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    PAID = "paid"
    PENDING_PAYMENT = "pending_payment"
    REFUNDED = "refunded"
    SHIPPED = "shipped"

    def __str__(self) -> str:
        return str(self.value)
