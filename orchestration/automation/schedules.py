"""The nightly build: every country's latest complete export, at 02:00 by default."""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleDefinition, ScheduleEvaluationContext

from orchestration.automation.jobs import build_job, full_build_tags
from orchestration.settings import Settings


def nightly_build_schedule(settings: Settings) -> ScheduleDefinition:
    def evaluate(context: ScheduleEvaluationContext) -> RunRequest:
        return RunRequest(tags=full_build_tags())

    return ScheduleDefinition(
        name="nightly_build",
        job=build_job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        execution_fn=evaluate,
        default_status=DefaultScheduleStatus.RUNNING,
        description=(
            f"A full build of every country's latest complete export ({settings.schedule_cron}, "
            f"{settings.schedule_timezone}; set CPWH_SCHEDULE_CRON and CPWH_SCHEDULE_TIMEZONE)."
        ),
    )
