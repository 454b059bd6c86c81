"""The commune's time zone, on its own: importing it must not import the guide library (the
sender process needs the zone, never the matcher)."""

from __future__ import annotations

import datetime as dt

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # one zone, no daylight saving
