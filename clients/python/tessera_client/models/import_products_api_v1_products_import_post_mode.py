from enum import StrEnum


class ImportProductsApiV1ProductsImportPostMode(StrEnum):
    PARTIAL = "partial"
    STRICT = "strict"

    def __str__(self) -> str:
        return str(self.value)
