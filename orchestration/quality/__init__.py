"""Quality: Great Expectations suites run as Dagster asset checks, and the suites generated from profiles."""
