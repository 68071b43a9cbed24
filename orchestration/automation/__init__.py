"""When the warehouse builds: the one build job, the nightly schedule, the landing-zone sensor, run history."""
