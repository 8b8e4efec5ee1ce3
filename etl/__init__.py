"""Data in and out: file readers, staging and validation, the loader, and the command line."""
