from enum import StrEnum


class ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"

    def __str__(self) -> str:
        return str(self.value)
