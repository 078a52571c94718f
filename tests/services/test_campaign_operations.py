"""Campaign operations against the simulator: cancel where the platform can, add/remove
devices (ThingSpace), retry the failed devices, and preview details (eligibility, masking,
groups, catalogue problems)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fota_tui.errors import ProviderUnsupported, UsageError
from fota_tui.models import CampaignSpec, CampaignState, ProviderKind, UpgradeState
from fota_tui.providers.base import PlannedRequest
from fota_tui.services.campaigns import CampaignService, open_session
from fota_tui.services.campaigns.eligibility import Ineligible
from fota_tui.services.campaigns.masking import MASK, mask_request
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import demo_profile
from fota_tui.sim.server import Simulator

TS, OC, ON, AX = (
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
)


async def no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
async def world(tmp_path):
    clock = ManualClock()
    sim = Simulator.build(clock=clock, devices=200)
    session = open_session(demo_profile(sim), tmp_path, transport=sim.transport(), now=clock.now)

    def service(kind: ProviderKind) -> CampaignService:
        svc = session.service(f"{kind.value}-demo")
        svc.client.options.sleep = no_sleep
        return svc

    yield sim, clock, service
    await session.aclose()


async def ts_spec(service: CampaignService, clock: ManualClock, count: int) -> CampaignSpec:
    busy = {u.device_id async for u in service.client.upgrades() if u.state.active}
    for fw in await service.firmware():
        ids = [
            d.device_id
            async for d in service.client.devices()
            if (d.make, d.model) == (fw.make, fw.model)
            and d.device_id not in busy
            and d.firmware != fw.version
        ]
        if len(ids) >= count and fw.protocol == "LWM2M":
            now = clock.now()
            return CampaignSpec(
                provider=service.name,
                firmware=fw.firmware_id,
                devices=ids[:count],
                start_at=now + timedelta(days=1),
                end_at=now + timedelta(days=8),
                options={"auto_assign_license": True},
            )
    raise AssertionError("no ThingSpace firmware with enough idle devices")


# --- cancel -------------------------------------------------------------------------


async def test_thingspace_cancel_before_start(world):
    sim, clock, service = world
    ts = service(TS)
    submission = await ts.submit(await ts.preview(await ts_spec(ts, clock, 2)))
    (campaign_id,) = submission.campaign_ids
    assert ts.can_cancel
    result = await ts.cancel(campaign_id)
    assert result.state is CampaignState.CANCELLED
    assert sim.fleet.jobs[TS][campaign_id].cancelled_at is not None
    (entry,) = ts.history()
    assert "cancelled (cancelled) by" in entry.events[-1].note
    with pytest.raises(UsageError, match="nothing to cancel"):
        await ts.cancel(campaign_id)


@pytest.mark.parametrize(("kind", "words"), [(OC, "no stop or cancel"), (AX, "withdrawn")])
async def test_cancel_is_refused_where_the_platform_cannot(world, kind, words):
    sim, _, service = world
    svc = service(kind)
    campaign = next(c for c in await svc.campaigns() if c.active)
    assert not svc.can_cancel
    with pytest.raises(ProviderUnsupported) as info:
        await svc.cancel(campaign.campaign_id)
    assert words in str(info.value) and kind.label in str(info.value)
    assert all(job.cancelled_at is None for job in sim.fleet.jobs[kind].values()
               if job.job_id == campaign.campaign_id)  # fmt: skip


async def test_onenet_cancel_cancels_the_waiting_commands(world):
    _, clock, service = world
    on = service(ON)
    busy = {u.device_id async for u in on.client.upgrades() if u.state.active}
    imeis = [d.imei or d.device_id async for d in on.client.devices() if d.device_id not in busy]
    spec = CampaignSpec(
        provider=on.name,
        firmware="coap://fw.example.com/p.bin",
        devices=imeis[:2],
        start_at=clock.now() + timedelta(hours=2),
        end_at=clock.now() + timedelta(days=1),
        execute_type="custom",
    )
    submission = await on.submit(await on.preview(spec))
    assert submission.outcome == "created"
    result = await on.cancel(submission.campaign_ids[0])
    assert "cancelled 4 waiting command(s)" in (result.provider_reason or "")
    detail = await on.campaign(submission.campaign_ids[0])
    assert {d.state for d in detail.devices} == {UpgradeState.CANCELLED}


# --- add / remove devices -----------------------------------------------------------


async def test_thingspace_add_and_remove_devices(world):
    sim, clock, service = world
    ts = service(TS)
    spec = await ts_spec(ts, clock, 3)
    first, extra = spec.devices[:2], spec.devices[2]
    submission = await ts.submit(await ts.preview(spec.model_copy(update={"devices": first})))
    (campaign_id,) = submission.campaign_ids
    assert ts.can_change_devices
    await ts.add_devices(campaign_id, [extra])
    job = sim.fleet.jobs[TS][campaign_id]
    assert extra in job.targets
    await ts.remove_devices(campaign_id, [first[0]])
    assert job.targets[first[0]].removed_at is not None
    notes = [e.note for e in ts.history()[0].events]
    assert any("added 1 device(s)" in n for n in notes)
    assert any("removed 1 device(s)" in n for n in notes)
    with pytest.raises(UsageError, match="no device ids"):
        await ts.add_devices(campaign_id, [" "])


async def test_add_devices_is_refused_elsewhere(world):
    _, _, service = world
    oc = service(OC)
    assert not oc.can_change_devices
    with pytest.raises(ProviderUnsupported, match="cannot change their devices"):
        await oc.add_devices("any", ["d"])


# --- retry failed -------------------------------------------------------------------


@pytest.mark.parametrize("kind", [TS, OC, AX, ON])
async def test_retry_failed_builds_a_spec_from_the_failed_devices(world, kind):
    _, _, service = world
    svc = service(kind)
    campaigns = await svc.campaigns()
    bad = (UpgradeState.FAILED, UpgradeState.EXPIRED)
    campaigns.sort(key=lambda c: -sum(c.counts.get(s, 0) for s in bad))  # likeliest first
    for campaign in campaigns:
        detail = await svc.campaign(campaign.campaign_id)
        failed = [
            d.device_id
            for d in detail.devices
            if d.state in (UpgradeState.FAILED, UpgradeState.EXPIRED)
        ]
        if failed:
            break
    else:
        pytest.skip(f"the seeded {kind.value} fleet has no failed campaign")
    spec = await svc.retry_failed(campaign.campaign_id)
    assert spec.devices == list(dict.fromkeys(failed)) and spec.provider == svc.name
    assert spec.name == f"Retry of {campaign.name or campaign.campaign_id}"
    assert spec.start_at is None and spec.end_at is None and spec.device_groups == []
    if kind in (TS, OC):  # the platform's firmware handle, found in its catalogue
        handles = {fw.firmware_id for fw in await svc.firmware()}
        assert spec.firmware in handles


async def test_retry_failed_uses_the_journal_for_our_own_campaigns(world):
    _, clock, service = world
    ts = service(TS)
    spec = await ts_spec(ts, clock, 2)
    spec = spec.model_copy(update={"start_at": clock.now()})
    submission = await ts.submit(await ts.preview(spec))
    (campaign_id,) = submission.campaign_ids
    with pytest.raises(UsageError, match="no failed devices"):
        await ts.retry_failed(campaign_id)
    clock.advance(9 * 86400)  # past the end date: devices still waiting have expired
    detail = await ts.campaign(campaign_id)
    if not any(d.state in (UpgradeState.FAILED, UpgradeState.EXPIRED) for d in detail.devices):
        pytest.skip("every device of the campaign succeeded")
    retry = await ts.retry_failed(campaign_id)
    assert retry.firmware == spec.firmware and retry.options == spec.options
    assert set(retry.devices) <= set(spec.devices)


# --- preview details ----------------------------------------------------------------


async def test_ineligible_devices_are_left_out_and_reported(world):
    _, clock, service = world
    ts = service(TS)
    spec = await ts_spec(ts, clock, 2)
    active = [u.device_id async for u in ts.client.upgrades() if u.state.active]
    busy = active[0]
    ghost = "353456789012348"  # a valid IMEI the platform does not know
    preview = await ts.preview(spec.model_copy(update={"devices": [*spec.devices, busy, ghost]}))
    assert preview.ok
    assert [d.device_id for d in preview.eligible] == spec.devices
    reasons = {d.device_id: {r.code for r in d.reasons} for d in preview.ineligible}
    assert Ineligible.IN_ACTIVE_CAMPAIGN in reasons[busy]
    assert reasons[ghost] == {Ineligible.UNKNOWN_DEVICE}
    assert preview.all_requests[0].body["deviceList"] == spec.devices
    assert any("2 of 4 devices are not eligible" in w for w in preview.warnings)


async def test_no_eligible_device_blocks(world):
    _, clock, service = world
    ts = service(TS)
    spec = await ts_spec(ts, clock, 1)
    preview = await ts.preview(spec.model_copy(update={"devices": ["353456789012348"]}))
    assert not preview.ok and preview.parts == () and preview.requests == ()
    assert [p.rule for p in preview.problems] == ["eligibility.none_eligible"]


async def test_unreadable_device_list_blocks(world):
    sim, clock, service = world
    ts = service(TS)
    spec = await ts_spec(ts, clock, 1)
    sim.faults.set(TS, error=1.0)
    try:
        preview = await ts.preview(spec)
    finally:
        sim.faults.clear(TS)
    assert not preview.ok
    assert "eligibility.unavailable" in {p.rule for p in preview.problems}
    assert any("firmware list" in w for w in preview.warnings)


async def test_preview_for_another_provider_is_refused(world):
    _, clock, service = world
    ts = service(TS)
    spec = (await ts_spec(ts, clock, 1)).model_copy(update={"provider": "elsewhere"})
    preview = await ts.preview(spec)
    assert [p.field for p in preview.problems] == ["provider"]


async def test_oceanconnect_groups_preview(world):
    sim, _, service = world
    oc = service(OC)
    busy = {u.device_id async for u in oc.client.upgrades() if u.state.active}
    idle = sorted(
        (
            g
            for g in sim.dialects[OC].groups.values()
            if g.device_ids and not set(g.device_ids) & busy
        ),
        key=lambda g: g.name,
    )[:2]
    assert idle, "the seed has device groups with idle members"
    group = idle[0]
    fw = next(
        f for f in await oc.firmware() if f.file_type == "firmware" and f.model == group.model
    )
    spec = CampaignSpec(
        provider=oc.name,
        firmware=fw.firmware_id,
        device_groups=[group.name],
        options={"device_type": fw.device_type, "model": fw.model, "manufacturer": fw.make},
    )
    preview = await oc.preview(spec)
    assert preview.ok and preview.devices == ()
    assert sorted(preview.group_members) == sorted(group.device_ids)
    (request,) = preview.all_requests
    assert request.body["targets"] == {
        "deviceGroups": [group.name],
        "deviceType": fw.device_type,
        "model": fw.model,
        "manufacturerName": fw.make,
    }
    unknown = await oc.preview(spec.model_copy(update={"device_groups": ["north", "south"]}))
    assert not unknown.ok
    assert {p.message for p in unknown.problems_for("device_groups")} == {
        "device_groups: no device group 'north'",
        "device_groups: no device group 'south'",
    }


def test_mask_request_hides_credentials():
    request = PlannedRequest(
        "POST",
        "https://u:pw@h.example/x?api-key=K1&imei=1",
        params={"token": "T1", "imei": "1"},
        body={"nested": [{"password": "P1", "ok": 1}], "sessionToken": "S1"},
    )
    masked = mask_request(request)
    text = repr(masked)
    assert not any(s in text for s in ("K1", "T1", "P1", "S1", ":pw@"))
    assert masked.params == {"token": MASK, "imei": "1"}
    assert masked.body["nested"][0]["ok"] == 1 and "imei=1" in masked.url


async def test_thingspace_preview_says_times_of_day_are_not_sent(world):
    _, clock, service = world
    ts = service(TS)
    spec = await ts_spec(ts, clock, 1)  # starts tomorrow at 08:00 UTC
    preview = await ts.preview(spec)
    assert preview.ok
    day = spec.start_at.strftime("%Y-%m-%d")
    assert any(w.startswith("start_at: ThingSpace takes dates only") and day in w
               for w in preview.warnings)  # fmt: skip
    assert preview.all_requests[0].body["startDate"] == day
