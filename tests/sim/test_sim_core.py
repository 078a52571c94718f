"""The simulator core: timelines, cancellation, windows, faults, both ways of serving."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest

from fota_tui.errors import UsageError
from fota_tui.models import ProviderKind
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialect import Dialect
from fota_tui.sim.faults import FaultInjector, parse_spec
from fota_tui.sim.fleet import Phase, SimDevice, SimFirmware, SimFleet
from fota_tui.sim.http import SimRequest, SimResponse
from fota_tui.sim.seed import imei, seed_jobs
from fota_tui.sim.server import Simulator

KIND = ProviderKind.AOVX


class EchoDialect(Dialect):
    kind = KIND
    credentials: dict[str, str] = {}

    def __init__(self, fleet: SimFleet) -> None:
        super().__init__(fleet)
        self.expired = 0
        self.router.add("GET", "/jobs/{job_id}", self.job)
        self.router.add("POST", "/echo", self.echo)
        self.router.add("GET", "/boom", self.boom)

    def job(self, request: SimRequest) -> SimResponse:
        job = self.fleet.jobs[KIND].get(request.params["job_id"])
        if job is None:
            return self.error(404, 404, "no job")
        counts = job.counts(self.fleet.now())
        return SimResponse.json({"code": 200, "data": {k.value: v for k, v in counts.items()}})

    def echo(self, request: SimRequest) -> SimResponse:
        return SimResponse.json({"code": 200, "data": request.json()})

    def boom(self, request: SimRequest) -> SimResponse:
        raise RuntimeError("bug")

    def error(self, status: int, code: str | int, message: str) -> SimResponse:
        return SimResponse.json({"code": code, "message": message}, status=200)

    def throttled(self) -> SimResponse:
        return self.error(200, 429, "too many requests")

    def expire_tokens(self) -> None:
        self.expired += 1

    def seed(self, count: int, rng: random.Random) -> None:
        now = self.fleet.now()
        for i in range(count):
            self.fleet.add_device(
                SimDevice(
                    KIND,
                    f"T{i:04d}",
                    imei(rng),
                    f"dev {i}",
                    "Acme",
                    "M1",
                    "tracker",
                    "1.0",
                    online=i % 4 != 0,
                    created_at=now - timedelta(days=90),
                )
            )
        fw = SimFirmware(
            KIND,
            "fw2",
            "M1 2.0",
            "2.0",
            "1.0",
            "Acme",
            "M1",
            "tracker",
            "http://files/fw2.bin",
            now - timedelta(days=60),
        )
        self.fleet.firmware[KIND].append(fw)
        seed_jobs(
            self.fleet,
            list(self.fleet.devices[KIND].values()),
            [fw],
            rng,
            lambda: self.fleet.hex_id(32, upper=True),
        )


def make_sim(clock: ManualClock, faults: str | None = None) -> Simulator:
    fleet = SimFleet(clock, seed=3)
    dialect = EchoDialect(fleet)
    dialect.seed(400, random.Random(1))
    return Simulator(fleet, {KIND: dialect}, FaultInjector.from_spec(faults))


def test_imei_is_15_digits_with_luhn_check():
    value = imei(random.Random(5))
    digits = [int(c) for c in value]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
        for i, d in enumerate(reversed(digits))
    )
    assert len(value) == 15 and total % 10 == 0


def test_seeded_jobs_cover_every_terminal_and_active_phase():
    clock = ManualClock()
    sim = make_sim(clock)
    now = clock.now()
    seen = set()
    for job in sim.fleet.jobs[KIND].values():
        seen |= {p for p, n in job.counts(now).items() if n}
    assert {Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED, Phase.QUEUED, Phase.PENDING} <= seen
    assert seen & {Phase.SENDING, Phase.DOWNLOADING, Phase.INSTALLING}


def test_timelines_are_deterministic_and_move_with_the_clock():
    a, b = ManualClock(), ManualClock()
    sim_a, sim_b = make_sim(a), make_sim(b)
    job_id = next(iter(sim_a.fleet.jobs[KIND]))
    assert job_id == next(iter(sim_b.fleet.jobs[KIND]))
    before = sim_a.fleet.jobs[KIND][job_id].counts(a.now())
    assert before == sim_b.fleet.jobs[KIND][job_id].counts(b.now())
    running = next(j for j in sim_a.fleet.jobs[KIND].values() if j.name.startswith("Canary"))
    start = running.counts(a.now())
    a.advance(3600)
    assert running.counts(a.now()) != start


def test_cancel_freezes_terminal_targets_and_cancels_the_rest():
    clock = ManualClock()
    sim = make_sim(clock)
    job = next(j for j in sim.fleet.jobs[KIND].values() if j.name.startswith("November"))
    before = job.phases(clock.now())
    sim.fleet.cancel_job(job)
    after = job.phases(clock.now() + timedelta(days=1))
    for device_id, step in before.items():
        expected = step.phase if step.phase.terminal else Phase.CANCELLED
        assert after[device_id].phase is expected


def test_time_windows_hold_sending_until_the_window_opens():
    clock = ManualClock()
    sim = make_sim(clock)
    job = next(j for j in sim.fleet.jobs[KIND].values() if j.windows)
    for target in job.targets.values():
        sent = target.first_at(Phase.SENDING)
        if sent is not None:
            assert 0 <= sent.hour < 6


def test_fault_spec_parses_and_rejects_bad_items():
    assert parse_spec("oceanconnect:throttle=0.2,*:latency=1.5") == [
        (ProviderKind.OCEANCONNECT, "throttle", 0.2),
        (None, "latency", 1.5),
    ]
    for bad, words in [
        ("nope:error=0.1", "unknown platform"),
        ("aovx:bogus=1", "unknown fault"),
        ("aovx:error=2", "between 0 and 1"),
        ("aovx", "PLATFORM:FAULT=VALUE"),
        ("*:skew=1e20", "between -86400 and 86400 seconds"),
        ("*:late_listing=inf", "not a finite number"),
        ("*:skew=nan", "not a finite number"),
        ("*:latency=nan", "not a finite number"),
        ("*:latency=1e308", "between 0 and 60 seconds"),
        ("*:hostile=2", r"0 \(off\) or 1 \(on\)"),
    ]:
        with pytest.raises(UsageError, match=words):
            parse_spec(bad)


async def test_in_process_transport_routes_and_answers_in_the_dialect_envelope():
    sim = make_sim(ManualClock())
    base = sim.base_urls()[KIND]
    async with httpx.AsyncClient(transport=sim.transport(), base_url=base) as client:
        job_id = next(iter(sim.fleet.jobs[KIND]))
        assert (await client.get(f"/jobs/{job_id}")).json()["code"] == 200
        assert (await client.post("/echo", json={"a": 1})).json()["data"] == {"a": 1}
        assert (await client.post("/echo", content=b"{nope")).json()["code"] == 400
        assert (await client.get("/missing")).json()["code"] == 404
        assert (await client.delete("/echo")).json()["code"] == 405
        assert (await client.get("/boom")).json() == {
            "code": 500,
            "message": "Internal server error",
        }


async def test_faults_reset_malformed_throttle_and_scripted_reset_after():
    sim = make_sim(ManualClock())
    dialect = sim.dialects[KIND]
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_urls()[KIND]) as c:
        sim.faults.script(KIND, "reset", path_contains="/echo")
        with pytest.raises(httpx.ReadError):
            await c.post("/echo", json=1)
        assert (await c.post("/echo", json=1)).json()["data"] == 1
        sim.faults.set(KIND, malformed=1.0)
        with pytest.raises(ValueError):
            (await c.post("/echo", json=1)).json()
        sim.faults.clear(KIND)
        sim.faults.set(KIND, throttle=1.0)
        assert (await c.post("/echo", json=1)).json()["code"] == 429
        sim.faults.clear()
        sim.faults.set(KIND, token_expiry=1.0)
        await c.post("/echo", json=1)
        assert dialect.expired == 1  # type: ignore[attr-defined]
        sim.faults.clear()
        sim.faults.script(KIND, "reset_after", method="POST")
        with pytest.raises(httpx.ReadError):
            await c.post("/echo", json=2)
    assert sim.faults.injected["reset_after"] == 1


@pytest.mark.loopback
def test_loopback_server_serves_the_same_handlers_and_resets():
    sim = make_sim(ManualClock())
    with sim.serve() as server, httpx.Client(base_url=server.base_urls()[KIND]) as client:
        assert server.root.startswith("http://127.0.0.1:")
        assert client.post("/echo", json={"b": 2}).json()["data"] == {"b": 2}
        sim.faults.script(KIND, "reset")
        with pytest.raises(httpx.HTTPError):
            client.post("/echo", json=1)
        sim.faults.set(KIND, truncated=1.0)
        with pytest.raises(ValueError):
            client.post("/echo", json={"long": "x" * 100}).json()


def test_a_client_that_goes_away_leaves_no_traceback(capsys) -> None:  # type: ignore[no-untyped-def]
    from http.server import BaseHTTPRequestHandler

    from fota_tui.sim.server import _Server

    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    try:
        for error in (ConnectionResetError("reset by peer"), BrokenPipeError("broken pipe")):
            try:
                raise error
            except ConnectionError:
                server.handle_error(None, ("127.0.0.1", 1))
        assert "Traceback" not in capsys.readouterr().err
        try:
            raise ValueError("a real bug")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert "ValueError: a real bug" in capsys.readouterr().err  # still shown
    finally:
        server.server_close()
