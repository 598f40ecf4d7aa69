"""Sitefinity Insight's CSV import format, as its documentation gives it: what the
check expects (suites.py) and `cdp validate insight` verifies (validate.py). The
export writes what the dbt macros define (insight_interaction_columns), so that
the validation judges the export against the documentation, not against itself."""

from __future__ import annotations

import re

# Data source names: at most 32 characters of A-Z a-z 0-9 _ . -
DATA_SOURCE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%gZ"   # UTC, milliseconds, Z
INSIGHT_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"   # the same, as text
# The columns an interaction file starts with, in this order.
INTERACTION_COLUMNS = ("UniqueId", "Predicate", "Object", "Timestamp")
