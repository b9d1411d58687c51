from enum import StrEnum


class NotificationSettingsIOSmsItem(StrEnum):
    ORDER_CANCELLED = "order.cancelled"
    ORDER_COMPLETED = "order.completed"
    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_REFUNDED = "order.refunded"
    ORDER_SHIPPED = "order.shipped"

    def __str__(self) -> str:
        return str(self.value)
