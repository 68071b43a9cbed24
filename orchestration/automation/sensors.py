"""The landing-zone sensor: a new complete export starts a build of its country.

An export is complete when ``_READY`` is in its folder and none of its files changed for
``settle_seconds``. The cursor keeps, per export folder, a cheap stamp (names, sizes, modification
times) and the SHA-256 of its contents: a folder whose stamp is unchanged is not read again, and one
re-delivered with the same contents (a new stamp, the same checksum) requests nothing. A new or
changed export requests a run of the build job for its country's partition, so that run loads only
that country and rebuilds everything downstream. Runs queue behind a running build (one writer), and
a run fixes its exports when it starts, so an export landing during a build is taken by the next tick.
On its very first tick (no cursor) the sensor requests one full build of what is already there.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from dagster import DefaultSensorStatus, RunRequest, SensorDefinition, SensorEvaluationContext, SkipReason, sensor

from orchestration.automation.jobs import build_job, full_build_tags
from orchestration.ingest.loader import READY_MARKER, ready_exports
from orchestration.ingest.profiles import COUNTRY_CODES
from orchestration.resources import LandingZone
from orchestration.settings import Settings


@dataclass(frozen=True)
class ExportFolder:
    country_code: str
    folder: Path

    @property
    def key(self) -> str:
        return f"{self.country_code}/{self.folder.name}"

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if p.is_file() and p.name != READY_MARKER)

    def stamp(self) -> tuple[str, float]:
        """Names, sizes and modification times (cheap), and the newest modification time."""
        stats = [(p.name, p.stat()) for p in [*self.files(), self.folder / READY_MARKER]]
        text = "|".join(f"{name}:{s.st_size}:{s.st_mtime_ns}" for name, s in stats)
        return hashlib.sha256(text.encode()).hexdigest()[:16], max(s.st_mtime for _, s in stats)

    def checksum(self) -> str:
        digest = hashlib.sha256()
        for path in self.files():
            digest.update(path.name.encode() + b"\0")
            with open(path, "rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()


def scan(landing: Path, seen: dict[str, dict], settle_seconds: float, now: float) -> tuple[dict[str, list[str]], dict]:
    """New or changed complete exports per country, and the cursor's new state."""
    state, new = dict(seen), {}
    for code in COUNTRY_CODES:
        for folder in ready_exports(landing, code):
            export = ExportFolder(code, folder)
            try:
                stamp, newest = export.stamp()
                if now - newest < settle_seconds or seen.get(export.key, {}).get("stamp") == stamp:
                    continue  # still being written, or nothing changed since it was seen
                checksum = export.checksum()
            except OSError:
                continue  # a file went away while we looked: the next tick looks again
            state[export.key] = {"stamp": stamp, "sha256": checksum}
            if seen.get(export.key, {}).get("sha256") != checksum:
                new.setdefault(code, []).append(f"{folder.name}:{checksum[:12]}")
    return new, state


def landing_zone_sensor(settings: Settings) -> SensorDefinition:
    @sensor(
        name="landing_zone",
        job=build_job,
        minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="A new complete export (_READY, files settled) starts a build of its country.",
    )
    def _landing_zone(context: SensorEvaluationContext, landing_zone: LandingZone):
        landing = Path(landing_zone.path)
        if not landing.is_dir():
            return SkipReason(f"the landing zone {landing} does not exist")
        seen = json.loads(context.cursor) if context.cursor else None
        new, state = scan(landing, seen or {}, landing_zone.settle_seconds, time.time())
        context.update_cursor(json.dumps(state, sort_keys=True))
        if not new:
            return SkipReason("no new complete export")
        if seen is None:
            digest = hashlib.sha256(json.dumps(new, sort_keys=True).encode()).hexdigest()[:16]
            return [RunRequest(run_key=f"first-look:{digest}", tags=full_build_tags())]
        return [
            RunRequest(
                run_key=f"{code}:{','.join(sorted(exports))}",
                partition_key=code,
                tags={"cpwh/exports": ",".join(sorted(exports))},
            )
            for code, exports in sorted(new.items())
        ]

    return _landing_zone
