"""The data's columns and the names used in reports."""

from __future__ import annotations

GATEWAY = "gateway"
TIME = "time"
MEASURES = ("pcons", "pbatt", "pdc", "soc")
COLUMNS = (GATEWAY, TIME, *MEASURES)
FAILURE_KINDS = {"battery": "Battery not charging", "solar": "System not producing Solar"}
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
REPORT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NANOSECONDS_PER_MINUTE = 60_000_000_000
