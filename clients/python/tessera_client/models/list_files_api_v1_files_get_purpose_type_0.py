from enum import StrEnum


class ListFilesApiV1FilesGetPurposeType0(StrEnum):
    ATTACHMENT = "attachment"
    AVATAR = "avatar"
    ORDER_DOCUMENT = "order_document"
    REPORT = "report"

    def __str__(self) -> str:
        return str(self.value)
