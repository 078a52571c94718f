"""Each platform's campaign rules as pure functions: spec + context → problems."""

from __future__ import annotations

from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.services.campaigns.problems import Problem
from fota_tui.services.campaigns.rules import aovx, oceanconnect, onenet, thingspace
from fota_tui.services.campaigns.rules.common import Rule, RuleContext

RULES: dict[ProviderKind, Rule] = {
    ProviderKind.THINGSPACE: thingspace.check,
    ProviderKind.OCEANCONNECT: oceanconnect.check,
    ProviderKind.ONENET: onenet.check,
    ProviderKind.AOVX: aovx.check,
}

OPTIONS: dict[ProviderKind, tuple[str, ...]] = {
    ProviderKind.THINGSPACE: thingspace.OPTIONS,
    ProviderKind.OCEANCONNECT: oceanconnect.OPTIONS,
    ProviderKind.ONENET: onenet.OPTIONS,
    ProviderKind.AOVX: aovx.OPTIONS,
}


def check_rules(kind: ProviderKind, spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    """Every rule of ``kind`` that ``spec`` breaks, in field order of the spec."""
    return RULES[kind](spec, ctx)


__all__ = ["OPTIONS", "RULES", "Problem", "RuleContext", "check_rules"]
