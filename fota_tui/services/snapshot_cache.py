"""The last snapshot of each profile, so the console paints at once on the next start."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from fota_tui.config.store import atomic_write_text
from fota_tui.errors import FotaError
from fota_tui.models import utcnow
from fota_tui.services.snapshot import ProviderSnapshot

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


class SnapshotCache:
    def __init__(self, cache_dir: Path, profile: str) -> None:
        self.path = cache_dir / "snapshots" / f"{profile}.json"

    def save(self, snapshots: Mapping[str, ProviderSnapshot]) -> None:
        """Write atomically; a failure is logged and the old cache kept."""
        data = {
            "version": FORMAT_VERSION,
            "saved_at": utcnow().isoformat(),
            "providers": {name: s.model_dump(mode="json") for name, s in snapshots.items()},
        }
        try:
            atomic_write_text(self.path, json.dumps(data, ensure_ascii=True))  # surrogates too
        except FotaError as exc:
            log.warning("snapshot cache not saved: %s", exc)

    def load(self) -> tuple[datetime, dict[str, ProviderSnapshot]] | None:
        """The cached snapshots and when they were saved; None if absent or unreadable."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != FORMAT_VERSION:
                return None
            saved_at = datetime.fromisoformat(data["saved_at"])
            snapshots = {
                name: ProviderSnapshot.model_validate(raw)
                for name, raw in data["providers"].items()
            }
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ValidationError) as exc:
            log.warning("snapshot cache %s ignored: %s", self.path, exc)
            return None
        return saved_at, snapshots
