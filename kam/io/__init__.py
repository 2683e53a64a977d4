"""Files in and out: YAML dossiers, the dossier template and schema, Excel portfolio tables and
the import of CRM CSV exports."""

from .crm import CrmImport, import_crm, read_crm_export
from .crm_mapping import CrmMapping, load_mapping
from .excel import export_excel
from .report import ImportReport
from .schema import dossier_schema, write_schema
from .yaml_io import dossier_to_yaml, export_yaml, import_yaml, read_yaml, validate_yaml

__all__ = [
    "CrmImport",
    "CrmMapping",
    "ImportReport",
    "dossier_schema",
    "dossier_to_yaml",
    "export_excel",
    "export_yaml",
    "import_crm",
    "import_yaml",
    "load_mapping",
    "read_crm_export",
    "read_yaml",
    "validate_yaml",
    "write_schema",
]
