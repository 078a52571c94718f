"""The campaigns view is a first-class list: problems first, filter, sorts, keys, counts."""

from __future__ import annotations

import pytest
from textual.widgets import Static
from tui_app_harness import settle, sim_app

from fota_tui.models import CampaignState
from fota_tui.services.campaign_query import (
    CAMPAIGN_SORTS,
    failed_count,
    parse_campaign_filter,
    sort_campaigns,
)
from fota_tui.services.query import QueryError
from fota_tui.tui.screens.campaigns import CampaignDetailScreen, CampaignsScreen
from fota_tui.tui.text import STATE_STYLES
from fota_tui.tui.widgets.status_header import StatusHeader


async def _campaigns(pilot: object, app: object) -> CampaignsScreen:
    await settle(pilot, app)  # type: ignore[arg-type]
    await pilot.press("c")  # type: ignore[attr-defined]
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, CampaignsScreen)
    return screen


async def test_problems_first_with_a_failed_column_and_counts_in_the_title() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        screen = await _campaigns(pilot, h.app)
        shown = screen.shown
        failing = [c for c in shown if failed_count(c)]
        assert failing and shown[: len(failing)] == failing
        fails = [failed_count(c) for c in failing]
        assert fails == sorted(fails, reverse=True)
        summary = str(screen.query_one("#campaign-summary", Static).render())
        assert f"Campaigns {len(shown)}" in summary
        assert f"{len(failing)} with failures" in summary and "problems first" in summary
        header = str(screen.query_one("#campaign-header", Static).render())
        assert "Fail+exp" in header
        first = str(screen.option_list.get_option_at_index(0).prompt)
        assert f" {failed_count(shown[0])} " in first


async def test_filter_bang_sort_and_vim_keys() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        screen = await _campaigns(pilot, h.app)
        total = len(screen.shown)
        await pilot.press("slash", *"state:partial")
        assert screen.shown and all(c.state is CampaignState.PARTIAL for c in screen.shown)
        await pilot.press("enter")  # keeps the filter, back to the list
        assert screen.option_list.has_focus and "filter state:partial" in str(
            screen.query_one("#campaign-summary", Static).render()
        )
        await pilot.press("escape")  # clears the filter first
        assert len(screen.shown) == total and isinstance(h.app.screen, CampaignsScreen)
        await pilot.press("slash", *"state:bogus")
        error = str(screen.query_one("#campaign-filter-error", Static).render())
        assert "unknown campaign state 'bogus'" in error  # named, with the valid words
        await pilot.press("escape")
        assert len(screen.shown) == total
        await pilot.press("exclamation_mark")
        assert screen.shown and all(failed_count(c) or not c.active for c in screen.shown)
        await pilot.press("exclamation_mark")
        assert len(screen.shown) == total
        await pilot.press("s")
        assert screen.order == CAMPAIGN_SORTS[1]
        assert [c.provider for c in screen.shown] == sorted(c.provider for c in screen.shown)
        await pilot.press("G")
        assert screen.option_list.highlighted == total - 1
        await pilot.press("k")
        assert screen.option_list.highlighted == total - 2
        await pilot.press("g", "j")
        assert screen.option_list.highlighted == 1
        await pilot.press("enter")
        assert isinstance(h.app.screen, CampaignDetailScreen)


def test_partial_has_its_own_colour() -> None:
    in_flight = {STATE_STYLES[s] for s in ("sending", "downloading", "in_progress")}
    assert STATE_STYLES["partial"] not in in_flight | {STATE_STYLES["succeeded"]}


async def test_campaign_filter_and_orders_headless() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        campaigns = h.app.session.campaigns()
    onenet = parse_campaign_filter("kind:onenet -state:terminal")
    assert all(c.kind.value == "onenet" and c.active for c in onenet.filter(campaigns))
    words = parse_campaign_filter('"cached commands"').filter(campaigns)
    assert words and all("cached commands" in (c.name or "").lower() for c in words)
    for order in CAMPAIGN_SORTS:  # deterministic whatever order they come in
        assert sort_campaigns(campaigns, order) == sort_campaigns(campaigns[::-1], order)
    for bad, named in (("colour:red", "colour"), ("state:", "state"), ("kind:zigbee", "kind")):
        with pytest.raises(QueryError) as caught:
            parse_campaign_filter(bad)
        assert caught.value.key == named


async def test_breadcrumbs_say_where_you_are() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        screen = await _campaigns(pilot, h.app)

        def crumbs() -> str:
            return str(h.app.screen.query_one(StatusHeader).query_one("#hdr-crumbs").render())

        assert crumbs() == " › Campaigns"
        first = screen.shown[0]
        await pilot.press("enter")
        await h.app.workers.wait_for_complete()
        await pilot.pause()
        assert crumbs() == f" › Campaigns › {first.name or first.campaign_id}"
        await pilot.press("enter")  # a device of it
        assert crumbs().startswith(f" › Campaigns › {first.name or first.campaign_id} › ")
        await pilot.press("d")  # straight back to the dashboard: no crumbs
        assert not h.app.screen.query_one(StatusHeader).query_one("#hdr-crumbs").display


async def test_a_name_oceanconnect_does_not_keep_is_labelled_and_shown_beside_its_own(
    app_paths: object,
) -> None:
    from fota_tui.models import ProviderKind
    from fota_tui.tui.screens.wizard import CampaignWizardScreen

    h = sim_app(app_paths)
    cfg = next(p for p in h.demo.profile.providers if p.kind is ProviderKind.OCEANCONNECT)
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        task = next(c for c in h.app.session.campaigns() if c.provider == cfg.name)
        journal = h.app.workspace.journal
        from fota_tui.models import CampaignSpec

        spec = CampaignSpec(provider=cfg.name, firmware="pkg", devices=["d1"], name="Q4 meters")
        entry = journal.begin(provider=cfg.name, kind=cfg.kind, spec=spec, now=h.clock.now())
        journal.update(entry, now=h.clock.now(), state="created", campaign_ids=[task.campaign_id])
        screen = await _campaigns(pilot, h.app)
        index = next(i for i, c in enumerate(screen.shown) if c.campaign_id == task.campaign_id)
        line = str(screen.option_list.get_option_at_index(index).prompt)
        assert "Q4 meters ·" in line
        await pilot.press("d")
        row = next(r for r in h.app.screen.table.rows if r.provider == cfg.name)  # type: ignore[attr-defined]
        h.app.screen.table.select([row.key])  # type: ignore[attr-defined]
        await pilot.press("n")
        await h.app.workers.wait_for_complete()
        wizard = h.app.screen
        assert isinstance(wizard, CampaignWizardScreen)
        label = str(wizard.query_one("#sc-name").parent.query_one(".wf-label").render())  # type: ignore[union-attr]
        assert "kept by fota-tui only" in label and "OceanConnect" in label
