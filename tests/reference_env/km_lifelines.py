"""Kaplan-Meier by lifelines, the independent reference for mart_time_to_closure (run by the
reference environment's Python: lifelines needs pandas < 3). Reads JSON on standard input,
{"groups": {name: {"durations": [...], "events": [...]}}, "months": [...], "days_per_month": d},
and writes per group the survival function with its 95 % interval, the median and its interval,
and the survival at the months.

The median is where the curve reaches one half, read as mart_time_to_closure reads it: within 1e-9
(a step of exactly 0.5 such as 5/6 x 4/5 x 3/4 comes out 0.5000000000000001 in lifelines' floating
point, and lifelines' own median would then skip to the next step). Everything else is lifelines'."""

import json
import math
import sys

from lifelines import KaplanMeierFitter
from lifelines.utils import qth_survival_time, qth_survival_times

ONE_HALF = 0.5 + 1e-9


def _finite(value):
    return None if value is None or math.isinf(value) or math.isnan(value) else float(value)


def main() -> None:
    request = json.load(sys.stdin)
    out = {}
    for name, group in request["groups"].items():
        fitter = KaplanMeierFitter().fit(group["durations"], event_observed=group["events"])
        survival = fitter.survival_function_.iloc[:, 0]
        band = fitter.confidence_interval_
        median_band = qth_survival_times(ONE_HALF, band)
        times = [m * request["days_per_month"] for m in request["months"]]
        out[name] = {
            "timeline": [float(t) for t in survival.index],
            "still_open": [float(v) for v in survival.values],
            "lower": [float(v) for v in band.iloc[:, 0].values],
            "upper": [float(v) for v in band.iloc[:, 1].values],
            "median": _finite(qth_survival_time(ONE_HALF, survival)),
            "median_lower": _finite(median_band.iloc[0, 0]),
            "median_upper": _finite(median_band.iloc[0, 1]),
            "at_months": [float(v) for v in fitter.survival_function_at_times(times).values],
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
