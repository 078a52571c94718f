"""Each platform's campaign rules (declared in its provider package), by platform."""

from __future__ import annotations

from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.providers.registry import PLATFORMS
from fota_tui.providers.rules import Problem, RuleContext


def check_rules(kind: ProviderKind, spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    """Every rule of ``kind`` that ``spec`` breaks, in field order of the spec."""
    return PLATFORMS[kind].rules(spec, ctx)


__all__ = ["Problem", "RuleContext", "check_rules"]
