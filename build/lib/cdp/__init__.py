"""cdp: land, build, check and export customer data with DuckDB and dbt."""
