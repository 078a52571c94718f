"""The campaign service: spec files, platform rules, eligibility, preview (dry run),
the journal, exactly-once submit with reconciliation, and campaign operations.

Headless (no Textual, no Rich). Typical use::

    session = open_session(profile, paths.data_dir, transport=transport)
    service = session.service("thingspace-demo")
    preview = await service.preview(spec)          # rules + eligibility + requests
    if preview.ok:
        submission = await service.submit(preview)  # journaled, exactly once
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fota_tui.providers.rules import RuleContext
    from fota_tui.services.campaigns.eligibility import DeviceEligibility, Ineligible
    from fota_tui.services.campaigns.journal import Journal, JournalEntry
    from fota_tui.services.campaigns.preview import Preview, build_preview
    from fota_tui.services.campaigns.problems import Problem
    from fota_tui.services.campaigns.rules import check_rules
    from fota_tui.services.campaigns.service import CampaignService
    from fota_tui.services.campaigns.session import CampaignSession, open_session
    from fota_tui.services.campaigns.specfile import SpecFile, load_spec_file, spec_to_toml
    from fota_tui.services.campaigns.submit import Submission, SubmissionBlocked

# Exports load on first use, so the console can open the journal without the whole service.
_EXPORTS = {
    "DeviceEligibility": "eligibility",
    "Ineligible": "eligibility",
    "Journal": "journal",
    "JournalEntry": "journal",
    "Preview": "preview",
    "build_preview": "preview",
    "Problem": "problems",
    "check_rules": "rules",
    "RuleContext": "rules",
    "CampaignService": "service",
    "CampaignSession": "session",
    "open_session": "session",
    "SpecFile": "specfile",
    "load_spec_file": "specfile",
    "spec_to_toml": "specfile",
    "Submission": "submit",
    "SubmissionBlocked": "submit",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "CampaignService",
    "CampaignSession",
    "DeviceEligibility",
    "Ineligible",
    "Journal",
    "JournalEntry",
    "Preview",
    "Problem",
    "RuleContext",
    "SpecFile",
    "Submission",
    "SubmissionBlocked",
    "build_preview",
    "check_rules",
    "load_spec_file",
    "open_session",
    "spec_to_toml",
]
