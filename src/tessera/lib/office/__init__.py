"""Office documents: streaming xlsx and CSV writers, a guarded xlsx reader, PDF invoices.

- `cells`: `Column` (what a column holds), formula-injection rules, Excel date serials.
- `xlsx`: `open_xlsx(target, columns, engine=...)` -> `SheetWriter` (our streaming
  SpreadsheetML writer, or XlsxWriter `constant_memory` as the fallback).
- `csvfile`: `open_csv(...)`, the same interface for CSV.
- `stream`: `TableStream`, async rows in -> a writer in a thread -> async byte chunks out.
- `reader`: `open_workbook(file, limits)` for imports (zip-bomb, macro and type checks first).
- `pdf`: `render_document(OrderDocument)` for invoices and packing slips (CJK font shipped).

Nothing here knows about blocks; the report block decides what goes in the columns.
"""

from tessera.lib.office.cells import Column, Kind, looks_like_formula, neutralise_csv
from tessera.lib.office.csvfile import open_csv
from tessera.lib.office.reader import ReadLimits, SheetRow, WorkbookRejected, open_workbook
from tessera.lib.office.stream import TableStream
from tessera.lib.office.xlsx import ENGINES, Engine, SheetWriter, open_xlsx

__all__ = [
    "ENGINES",
    "Column",
    "Engine",
    "Kind",
    "ReadLimits",
    "SheetRow",
    "SheetWriter",
    "TableStream",
    "WorkbookRejected",
    "looks_like_formula",
    "neutralise_csv",
    "open_csv",
    "open_workbook",
    "open_xlsx",
]
