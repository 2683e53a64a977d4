"""Files in and out: YAML dossiers, the dossier template and schema, Excel portfolio tables, the
import of CRM CSV exports and of ERP or shop exports of orders."""

from .crm import CrmImport, import_crm, read_crm_export
from .crm_mapping import CrmMapping, load_mapping
from .excel import export_excel
from .report import ImportReport
from .schema import dossier_schema, write_schema
from .transactions import TransactionsImport, import_transactions, read_transactions
from .transactions_mapping import TransactionsMapping, load_transactions_mapping
from .yaml_io import dossier_to_yaml, export_yaml, import_yaml, read_yaml, validate_yaml

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
