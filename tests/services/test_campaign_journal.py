"""The campaign journal: one private file per submission, atomic updates, audit fields,
GroupSource for platforms without job ids, and per-device eligibility."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest

from fota_tui.models import (
    CampaignSpec,
    Device,
    DeviceUpgrade,
    Firmware,
    ProviderKind,
    UpgradeState,
)
from fota_tui.services.campaigns.eligibility import Ineligible, check_eligibility
from fota_tui.services.campaigns.journal import Journal, current_user

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
AX = ProviderKind.AOVX


def spec(**changes) -> CampaignSpec:
    data = {"provider": "ax", "firmware": "http://h/f.bin", "devices": ["T1", "T2"]}
    return CampaignSpec.model_validate({**data, **changes})


@pytest.fixture
def journal(tmp_path) -> Journal:
    return Journal(tmp_path / "data", "lab", user="alice")


def test_begin_writes_a_private_entry_before_anything_is_sent(journal, tmp_path):
    entry = journal.begin(provider="ax", kind=AX, spec=spec(), now=NOW)
    (path,) = journal.folder.glob("*.json")
    assert path.parent == tmp_path / "data" / "journal" / "lab"
    assert path.name == f"20261122T080000000000Z-{entry.submission_id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["state"] == "sending" and data["user"] == "alice" and data["profile"] == "lab"
    assert data["spec"]["devices"] == ["T1", "T2"] and data["attempts"] == 0
    assert data["provider"] == "ax" and data["kind"] == "aovx"


def test_update_replaces_the_file_and_keeps_the_history(journal):
    entry = journal.begin(provider="ax", kind=AX, spec=spec(), now=NOW)
    later = NOW + timedelta(seconds=5)
    entry = journal.update(entry, now=later, note="sent", state="created", campaign_ids=["C1"])
    (reread,) = journal.entries()
    assert reread == entry
    assert [(e.state, e.note) for e in reread.events] == [
        ("sending", "recorded before sending"),
        ("created", "sent"),
    ]
    assert reread.updated_at == later and len(list(journal.folder.glob("*.json"))) == 1
    assert not list(journal.folder.glob("*.tmp"))


def test_listing_skips_unreadable_entries_and_says_so(journal):
    journal.begin(provider="ax", kind=AX, spec=spec(), now=NOW)
    (journal.folder / "20261122T090000000000Z-ft-0123456789ab.json").write_text("{not json")
    entries = journal.entries()
    assert len(entries) == 1 and len(journal.skipped) == 1


def test_unresolved_batch_and_lookup(journal):
    a = journal.begin(provider="ax", kind=AX, spec=spec(), now=NOW, batch_id="ft-aaaaaaaaaaaa")
    b = journal.begin(provider="other", kind=AX, spec=spec(), now=NOW)
    a = journal.update(a, now=NOW, state="created", campaign_ids=["C1"])
    assert [e.submission_id for e in journal.unresolved()] == [b.submission_id]
    assert journal.unresolved("ax") == []
    assert [e.submission_id for e in journal.batch("ft-aaaaaaaaaaaa")] == [a.submission_id]
    assert journal.for_campaign("ax", "C1") == a
    assert journal.for_campaign("other", "C1") is None
    assert journal.get(b.submission_id) == b


def test_groups_are_the_sent_submissions(journal):
    sent = journal.begin(provider="ax", kind=AX, spec=spec(name="N"), now=NOW)
    sent = journal.update(
        sent,
        now=NOW,
        state="created",
        first_sent_at=NOW,
        campaign_ids=["C1"],
        job_refs=["u1"],
        not_reached=["T2"],
    )
    later = NOW + timedelta(minutes=1)  # entries list in the order they were written
    never = journal.begin(provider="ax", kind=AX, spec=spec(), now=later)  # not sent yet
    failed = journal.begin(provider="ax", kind=AX, spec=spec(), now=later)
    journal.update(failed, now=later, state="failed", first_sent_at=later)
    unknown = journal.begin(provider="ax", kind=AX, spec=spec(), now=later)
    unknown = journal.update(unknown, now=later, state="unknown", first_sent_at=later)
    groups = journal.groups("ax")
    assert [g.campaign_id for g in groups] == ["C1", unknown.submission_id]
    group = groups[0]
    assert group.device_ids == ("T1",) and group.job_refs == ("u1",)
    assert (group.name, group.firmware, group.created_at) == ("N", "http://h/f.bin", NOW)
    assert journal.groups("other") == [] and never.first_sent_at is None


def test_held_devices_until_the_end_of_the_send(journal):
    entry = journal.begin(
        provider="ax", kind=AX, spec=spec(end_at=NOW + timedelta(days=1)), now=NOW
    )
    journal.update(entry, now=NOW, unconfirmed=["T2"])
    held = journal.held_devices("ax", NOW)
    assert list(held) == ["T2"] and entry.submission_id in held["T2"]
    assert journal.held_devices("ax", NOW + timedelta(days=2)) == {}


def test_current_user_is_the_os_user():
    assert current_user()


# --- eligibility --------------------------------------------------------------------


def device(device_id: str, **fields) -> Device:
    return Device(provider="ax", kind=AX, device_id=device_id, **fields)


FW = Firmware(
    provider="ax", kind=AX, firmware_id="F", name="F", version="2.0", make="Acme", model="M1"
)


@pytest.mark.parametrize(
    ("dev", "upgrades", "code"),
    [
        (None, [], Ineligible.UNKNOWN_DEVICE),
        (device("D", make="Acme", model="M2", firmware="1.0"), [], Ineligible.MODEL_MISMATCH),
        (device("D", make="Other", model="M1", firmware="1.0"), [], Ineligible.MODEL_MISMATCH),
        (device("D", make="Acme", model="M1", firmware="2.0"), [], Ineligible.ALREADY_ON_TARGET),
        (
            device("D", make="Acme", model="M1", firmware="1.0"),
            [DeviceUpgrade(provider="ax", kind=AX, device_id="D", campaign_id="C9",
                           state=UpgradeState.DOWNLOADING)],
            Ineligible.IN_ACTIVE_CAMPAIGN,
        ),
    ],
)  # fmt: skip
def test_each_ineligibility(dev, upgrades, code):
    devices = [dev] if dev else [device("OTHER")]
    (result,) = check_eligibility(spec(devices=["D"]), devices, upgrades, FW)
    assert not result.eligible and [r.code for r in result.reasons] == [code]
    assert result.reasons[0].message.startswith("D: ")


def test_eligible_device_and_finished_campaigns_do_not_count():
    dev = device("D", imei="359", make="acme", model="m1", firmware="1.0")
    done = DeviceUpgrade(
        provider="ax", kind=AX, device_id="D", campaign_id="C1", state=UpgradeState.SUCCEEDED
    )
    (by_id,) = check_eligibility(spec(devices=["D"]), [dev], [done], FW)
    (by_imei,) = check_eligibility(spec(devices=["359"]), [dev], [done], FW)
    assert by_id.eligible and by_imei.eligible and by_id.summary == "eligible"


def test_target_version_from_the_spec_when_no_catalogue():
    dev = device("D", firmware="A8_V3")
    (result,) = check_eligibility(spec(devices=["D"], options={"version": "A8_V3"}), [dev])
    assert [r.code for r in result.reasons] == [Ineligible.ALREADY_ON_TARGET]


def test_held_devices_count_as_busy():
    dev = device("D")
    (result,) = check_eligibility(spec(devices=["D"]), [dev], held={"D": "answer lost"})
    assert [r.code for r in result.reasons] == [Ineligible.IN_ACTIVE_CAMPAIGN]
