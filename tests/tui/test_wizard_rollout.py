"""The wizard's staged rollout option: the wave plan on the schedule step (checked as it
is typed, with the key named), the waves and wave 1's requests in review, and a submit
that records the rollout, sends wave 1 once and shows it in the campaigns view."""

from __future__ import annotations

from textual.widgets import Checkbox
from wizard_harness import (
    PROVIDER,
    error_text,
    go_next,
    idle_rows,
    next_button,
    pause,
    select_rows,
    set_value,
    start,
    wait_for,
    wizard,
    wizard_app,
)

from fota_tui.models import ProviderKind
from fota_tui.tui.screens.campaigns import CampaignsScreen

AX = ProviderKind.AOVX


async def test_a_staged_rollout_from_the_wizard() -> None:
    h = wizard_app(kinds=(AX,))
    async with h.app.run_test(size=(120, 44)) as pilot:
        await start(pilot, h.app)
        rows = idle_rows(h.app, PROVIDER[AX])[:10]
        select_rows(h.app, rows)
        await pilot.press("n")
        w = wizard(h.app)
        await go_next(pilot, w, "firmware")
        await set_value(pilot, w, "#aovx-url", "http://files.aovx.example/FOTA/103/A8_V3.2.0.bin")
        await go_next(pilot, w, "targets")
        await go_next(pilot, w, "schedule")
        assert not w.query_one("#sc-waves").display  # shown when chosen
        w.query_one("#sc-staged", Checkbox).value = True
        await pause(pilot)
        assert w.staged and w.query_one("#sc-waves").display
        # A plan that cannot work blocks Next, with the key named.
        await set_value(pilot, w, "#ro-success", "120")
        assert next_button(w).disabled
        assert "expected a percentage from 0 to 100 (got 120)" in error_text(w, "ro-success")
        await set_value(pilot, w, "#ro-success", "90")
        # Waves are checked against the devices chosen (10): these reach only 3.
        await set_value(pilot, w, "#ro-waves", "1, 2, 3")
        assert next_button(w).disabled
        assert "the last wave reaches 3 of the 10 devices" in error_text(w, "ro-waves")
        await set_value(pilot, w, "#ro-waves", "20% 100%")
        assert not next_button(w).disabled
        await go_next(pilot, w, "review")
        review = str(w.query_one("#review-body").render())
        assert "Staged rollout of 10 devices" in review
        assert (
            "wave 1: 2 devices (reaches 2)" in review and "wave 2: 8 devices (reaches 10)" in review
        )
        assert "Wave 1, sent when you submit:" in review and "2 of 2 eligible" in review
        await go_next(pilot, w, "confirm")
        confirm = str(w.query_one("#confirm-body").render())
        assert "10 devices in 2 waves; wave 1 (2 devices) is sent now" in confirm
        before = h.jobs(AX)
        submit = w.query_one("#wiz-next")
        submit.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(h.app.screen, CampaignsScreen))
        (rollout,) = h.app.rollouts.store.all()
        # The submission the review showed is the one sent.
        assert w.preview is not None and rollout.waves[0].batch_id == w.preview.batch_id
        assert rollout.waves[0].state == "running" and rollout.plan.success == 90
        assert w.submits == 1
        (job,) = h.jobs(AX) - before
        assert len(h.job(AX, job).targets) == 2
        first = h.app.screen.option_list.get_option_at_index(0)  # type: ignore[attr-defined]
        assert first.id == f"ro:{rollout.rollout_id}"
        assert any(t == "Rollout started" for t, _ in h.app.notifications_sent)
