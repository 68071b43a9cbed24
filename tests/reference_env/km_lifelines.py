"""Kaplan-Meier by lifelines, the independent reference for mart_time_to_closure (run by the
reference environment's Python: lifelines needs pandas < 3). Reads JSON on standard input,
{"groups": {name: {"durations": [...], "events": [...]}}, "months": [...], "days_per_month": d},
and writes per group the survival function with its 95 % interval, the median and its interval,
and the survival at the months."""

import json
import math
import sys

from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times


def _finite(value):
    return None if value is None or math.isinf(value) or math.isnan(value) else float(value)


def main() -> None:
    request = json.load(sys.stdin)
    out = {}
    for name, group in request["groups"].items():
        fitter = KaplanMeierFitter().fit(group["durations"], event_observed=group["events"])
        survival = fitter.survival_function_.iloc[:, 0]
        band = fitter.confidence_interval_
        median_band = median_survival_times(band)
        times = [m * request["days_per_month"] for m in request["months"]]
        out[name] = {
            "timeline": [float(t) for t in survival.index],
            "still_open": [float(v) for v in survival.values],
            "lower": [float(v) for v in band.iloc[:, 0].values],
            "upper": [float(v) for v in band.iloc[:, 1].values],
            "median": _finite(fitter.median_survival_time_),
            "median_lower": _finite(median_band.iloc[0, 0]),
            "median_upper": _finite(median_band.iloc[0, 1]),
            "at_months": [float(v) for v in fitter.survival_function_at_times(times).values],
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
