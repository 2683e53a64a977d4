"""Files in and out: YAML dossiers, Excel portfolio tables, CRM CSV exports."""
