from enum import StrEnum


class FileOutPurpose(StrEnum):
    ATTACHMENT = "attachment"
    AVATAR = "avatar"
    ORDER_DOCUMENT = "order_document"
    REPORT = "report"

    def __str__(self) -> str:
        return str(self.value)
