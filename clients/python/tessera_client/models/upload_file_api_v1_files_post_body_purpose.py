from enum import StrEnum


class UploadFileApiV1FilesPostBodyPurpose(StrEnum):
    ATTACHMENT = "attachment"
    AVATAR = "avatar"
    ORDER_DOCUMENT = "order_document"

    def __str__(self) -> str:
        return str(self.value)
