"""Reports for people who read rather than click: the development-plan PDF and workbook."""
