"""The command line (``python -m etl``): every command, thin, over the core and the ETL."""
