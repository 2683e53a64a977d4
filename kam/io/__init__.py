"""Files in and out: YAML dossiers, the dossier template and schema, Excel portfolio tables, the
import of CRM CSV exports and of ERP or shop exports of orders."""

from .crm import CrmImport, import_crm, read_crm_export
from .crm_mapping import CrmMapping, load_mapping
from .report import ImportReport
from .schema import dossier_schema, write_schema
from .transactions import TransactionsImport, import_transactions, read_transactions
from .transactions_mapping import TransactionsMapping, load_transactions_mapping
from .yaml_io import dossier_to_yaml, export_yaml, import_yaml, read_yaml, validate_yaml


def __getattr__(name: str) -> object:
    # The Excel export brings openpyxl, half a second of start-up most commands don't need.
    if name == "export_excel":
        from .excel import export_excel

        return export_excel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CrmImport",
    "CrmMapping",
    "ImportReport",
    "TransactionsImport",
    "TransactionsMapping",
    "dossier_schema",
    "dossier_to_yaml",
    "export_excel",
    "export_yaml",
    "import_crm",
    "import_transactions",
    "import_yaml",
    "load_mapping",
    "load_transactions_mapping",
    "read_crm_export",
    "read_transactions",
    "read_yaml",
    "validate_yaml",
    "write_schema",
]
