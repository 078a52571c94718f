"""Verizon ThingSpace Software Management (FOTA v1 and v3) as the simulator speaks it.

Follows docs/platforms/thingspace.md and seed pages 002 (v1 upgrades by status) and 003 (v3
campaign info). Paths mirror the real host below ``/api`` (``/api/ts/v1``, ``/api/m2m/v1``,
``/api/fota/v1``, ``/api/fota/v3``).

Auth [V]: OAuth client credentials (Basic ``app_key:app_secret``; the same token for an
hour) plus an M2M session (20 min sliding; the user locks after 5 consecutive failed
logins). Every FOTA call needs ``Authorization: Bearer`` and ``VZ-M2M-Token``.

Errors are ``{"errorCode", "errorMessage"}`` [V]; the code strings are not published, so
these are inferred [I] and kept stable:

=====  =========================  ==============================================
HTTP   errorCode                  when
=====  =========================  ==============================================
401    UnAuthorized               Bearer token missing, unknown, revoked or older than 1 h
400    MissingSessionToken        no ``VZ-M2M-Token`` header
400    SessionTokenExpired        session unknown, logged out or idle for 20 min
400    InvalidCredentials         login with a wrong username or password
400    UserLocked                 login after 5 consecutive failures (even if correct)
400    InvalidAccount             account in the path/body is not the user's account
400    MissingParameter           a required field/query parameter is absent
400    InvalidParameter           a field or path value has the wrong type or value
400    InvalidDate                startDate/endDate malformed, in the past or reversed
400    InvalidTimeWindow          hours outside 0-23 / 1-24 or window shorter than 4 h
400    InvalidDeviceList          deviceList empty or not an array of strings
400    FirmwareNotFound           firmwareName not in the account's list (for protocol)
400    FirmwareVersionMismatch    firmwareFrom/firmwareTo differ from the image
400    CampaignNotFound           unknown v3 campaign id
400    UpgradeNotFound            unknown v1 upgrade id
400    DeviceNotFound             device history for an IMEI not in the account
400    InvalidCampaignStatus      v3 change/cancel not allowed in the current status
400    InvalidUpgradeStatus       v1 change/cancel not allowed (e.g. already started)
400    InvalidRequestBody         body is not JSON / not an object
429    RateLimitExceeded          throttling (fault injection), with ``Retry-After``
=====  =========================  ==============================================

OAuth errors use the OAuth2 form ``{"error", "error_description"}``: 401
``invalid_client``, 400 ``invalid_request`` / ``unsupported_grant_type``.
"""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from fota_tui.models import ProviderKind
from fota_tui.sim.dialect import Dialect
from fota_tui.sim.dialects.thingspace import DEMO_CREDENTIALS
from fota_tui.sim.dialects.thingspace.auth import TokenStore
from fota_tui.sim.dialects.thingspace.common import ApiError, body_object, check_device
from fota_tui.sim.dialects.thingspace.seed import seed_account
from fota_tui.sim.dialects.thingspace.v1 import V1Api
from fota_tui.sim.dialects.thingspace.v3 import V3Api
from fota_tui.sim.dialects.thingspace.words import QUEUED_WORDS, touch
from fota_tui.sim.fleet import Phase, SimDevice, SimFleet, SimJob
from fota_tui.sim.http import SimRequest, SimResponse

Handler = Callable[[SimRequest], Any]
_HTTP_CODES = {400: "InvalidRequestBody", 404: "ResourceNotFound", 405: "MethodNotAllowed",
               500: "InternalServerError", 503: "ServiceUnavailable"}  # fmt: skip


class ThingSpaceDialect(Dialect):
    kind = ProviderKind.THINGSPACE
    credentials: ClassVar[dict[str, str]] = dict(DEMO_CREDENTIALS)
    retry_after = 2  # seconds, sent with 429

    def __init__(self, fleet: SimFleet) -> None:
        super().__init__(fleet)
        c = self.credentials
        self.account = c["account"]
        self.tokens = TokenStore(
            fleet.clock, c["app_key"], c["app_secret"], {c["username"]: c["password"]}
        )
        # Page sizes are not published except v3's maxPageSize; tests may lower them.
        self.page_sizes = {"v1_reports": 20, "v1_devices": 1000, "v3_campaigns": 50,
                           "v3_devices": 1000}  # fmt: skip
        self.typo_cursor = "alternate"  # lastSeenUpgrdadeId: "alternate" | "always" | "never"
        self.typo_value = "uuid"  # what the typo field holds: "uuid" (seed page) | "int"
        # "lenient" accepts every status word as a listing filter; "schema" refuses words
        # outside the SDK's enum and lists those campaigns under their enum neighbour.
        self.listing_filter = "lenient"
        self._v3_count = 0
        self._numbers: tuple[int, list[tuple[int, SimDevice]]] = (-1, [])
        self.v1, self.v3 = V1Api(self), V3Api(self)
        self._routes()

    def _routes(self) -> None:
        add, v1, v3 = self.router.add, "/api/fota/v1", "/api/fota/v3"
        add("POST", "/api/ts/v1/oauth2/token", self._token)
        add("POST", "/api/ts/v1/oauth2/revoke", self._revoke)
        add("POST", "/api/m2m/v1/session/login", self._login)
        add("POST", "/api/m2m/v1/session/logout", self._logout)
        upgrade = v1 + "/upgrades/{account}/upgrade/{upgrade_id}"
        campaign = v3 + "/campaigns/{account}/{campaign_id}"
        firmware_campaign = v3 + "/campaigns/firmware/{account}/{campaign_id}"
        for method, path, handler in (
            ("GET", v1 + "/firmware/{account}", self.v1.firmware),
            ("POST", v1 + "/upgrades", self.v1.create),
            ("GET", upgrade, self.v1.detail),
            ("PUT", upgrade, self.v1.change_devices),
            ("DELETE", upgrade, self.v1.cancel),
            ("GET", v1 + "/reports/{account}/status/{status}/index/{start}", self.v1.by_status),
            ("GET", v1 + "/reports/{account}/devices/{device_id}", self.v1.history),
            ("GET", v1 + "/devices/{account}/index/{start}", self.v1.devices),
            ("GET", v3 + "/firmware/{account}", self.v3.firmware),
            ("POST", v3 + "/campaigns/firmware/{account}", self.v3.create),
            ("PUT", firmware_campaign, self.v3.change_devices),
            ("PUT", firmware_campaign + "/dates", self.v3.change_dates),
            ("GET", campaign, self.v3.info),
            ("DELETE", campaign, self.v3.cancel),
            ("GET", v3 + "/reports/{account}/firmware/campaigns", self.v3.by_status),
            ("GET", v3 + "/reports/{account}/campaigns/{campaign_id}/devices", self.v3.devices),
            ("GET", v3 + "/reports/{account}/devices/{device_id}", self.v3.history),
        ):
            add(method, path, self._fota(handler))

    # -- the platform's answers ------------------------------------------------
    def error(self, status: int, code: str | int, message: str) -> SimResponse:
        name = code if isinstance(code, str) else _HTTP_CODES.get(code, "BadRequest")
        return SimResponse.json({"errorCode": name, "errorMessage": message}, status=status)

    def throttled(self) -> SimResponse:
        response = self.error(429, "RateLimitExceeded", "Too many requests, retry later")
        response.headers["retry-after"] = str(self.retry_after)
        return response

    def expire_tokens(self) -> None:
        self.tokens.expire_all()

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> SimResponse:
        return SimResponse.json({"error": error, "error_description": description}, status)

    # -- auth ------------------------------------------------------------------
    @staticmethod
    def _bearer(request: SimRequest) -> str | None:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def _unauthorized(self) -> ApiError:
        return ApiError("UnAuthorized", "Access token is missing, invalid or expired", 401)

    def _client(self, request: SimRequest) -> bool:
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        key, _, secret = decoded.partition(":")
        return self.tokens.client_ok(key, secret)

    def _token(self, request: SimRequest) -> SimResponse:
        if not self._client(request):
            return self._oauth_error(401, "invalid_client", "Client authentication failed")
        form = request.form()
        grant = form.get("grant_type")
        if not grant:
            return self._oauth_error(400, "invalid_request", "Missing parameter: grant_type")
        if grant != "client_credentials":
            return self._oauth_error(400, "unsupported_grant_type", f"{grant} is not supported")
        token, expires_in = self.tokens.issue_oauth()
        return SimResponse.json(
            {
                "access_token": token,
                "scope": form.get("scope") or "am_application_scope default",
                "token_type": "Bearer",
                "expires_in": expires_in,
            }
        )

    def _revoke(self, request: SimRequest) -> SimResponse:
        if not self._client(request):
            return self._oauth_error(401, "invalid_client", "Client authentication failed")
        token = request.form().get("token", "")
        self.tokens.revoke(token)
        return SimResponse(200, b"", {"revokedtoken": token})

    def _login(self, request: SimRequest) -> SimResponse:
        if not self.tokens.oauth_ok(self._bearer(request)):
            return self._api_error(self._unauthorized())
        try:
            body = body_object(request.json())
        except ApiError as exc:
            return self._api_error(exc)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return self.error(400, "MissingParameter", "username and password are required")
        was_locked = username in self.tokens.locked
        token = self.tokens.login(username, password)
        if token is None and was_locked:
            return self.error(
                400, "UserLocked", "User is locked after 5 failed logins; contact Verizon support"
            )
        if token is None:
            return self.error(400, "InvalidCredentials", "Invalid username or password")
        return SimResponse.json({"sessionToken": token})

    def _logout(self, request: SimRequest) -> SimResponse:
        if not self.tokens.oauth_ok(self._bearer(request)):
            return self._api_error(self._unauthorized())
        session = request.header("vz-m2m-token") or ""
        if not self.tokens.logout(session):
            return self.error(400, "SessionTokenExpired", "Session token is invalid or expired")
        return SimResponse.json({"sessionToken": session})

    def _api_error(self, exc: ApiError) -> SimResponse:
        return self.error(exc.status, exc.code, exc.message)

    def _fota(self, handler: Handler) -> Callable[[SimRequest], SimResponse]:
        def run(request: SimRequest) -> SimResponse:
            try:
                if not self.tokens.oauth_ok(self._bearer(request)):
                    raise self._unauthorized()
                session = request.header("vz-m2m-token")
                if not session:
                    raise ApiError("MissingSessionToken", "VZ-M2M-Token header is required")
                if not self.tokens.session_ok(session):
                    raise ApiError(
                        "SessionTokenExpired", "Session token is invalid or expired; log in again"
                    )
                account = request.params.get("account")
                if account is not None and account != self.account:
                    raise ApiError(
                        "InvalidAccount", f"Account {account} is not valid for this user"
                    )
                return SimResponse.json(handler(request))
            except ApiError as exc:
                return self._api_error(exc)

        return run

    # -- helpers the v1/v3 handlers share ----------------------------------------
    def new_campaign_id(self) -> str:
        """v3 ids look like the seed page's time-based UUID (``…-11ec-8c44-…``)."""
        h = self.fleet.hex_id(32)
        return f"{h[:8]}-{h[8:12]}-11ec-8{h[13:16]}-{h[20:]}"

    def job_meta(self, api: str, **extra: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {"api": api, "rev": 0}
        if api == "v3":
            self._v3_count += 1
            meta["queued_word"] = QUEUED_WORDS[self._v3_count % 2]
            meta["history_key"] = "id" if self._v3_count % 3 == 0 else "campaignId"
        return meta | extra

    def typo_page(self, page_number: int) -> bool:
        if self.typo_cursor == "always":
            return True
        return self.typo_cursor == "alternate" and page_number % 2 == 1

    def account_device(self, device_id: str) -> SimDevice:
        device = self.fleet.device(self.kind, device_id)
        if device is None:
            raise ApiError("DeviceNotFound", f"Device {device_id} not found in account")
        return device

    def devices_by_number(self) -> list[tuple[int, SimDevice]]:
        devices = self.fleet.devices[self.kind]
        if self._numbers[0] != len(devices):
            ordered = sorted((int(d.device_id), d) for d in devices.values())
            self._numbers = (len(devices), ordered)
        return self._numbers[1]

    def last_upgrade(self, device: SimDevice, now: datetime) -> tuple[str, datetime | None]:
        """Current firmware and when the newest successful upgrade finished."""
        best: tuple[datetime, str] | None = None
        for job in self.fleet.jobs_of_device(self.kind, device.device_id):
            target = job.targets.get(device.device_id)
            if target is None:
                continue
            step = target.step_at(now, job.cancelled_at)
            if step.phase is Phase.SUCCEEDED and (best is None or step.at > best[0]):
                best = (step.at, job.firmware.version)
        return (best[1], best[0]) if best else (device.firmware, None)

    def change_targets(self, job: SimJob, kind: str, devices: list[str]) -> list[dict[str, str]]:
        """Append/remove devices; per-device results with the capitalised ``Reason``."""
        live = {t.device_id for t in job.live_targets(self.fleet.now())}
        results, accepted = [], []
        for device_id in devices:
            if kind == "append":
                why = (
                    "Device is already in the campaign"
                    if device_id in live
                    else check_device(self.fleet, job.firmware, device_id,
                                      auto_license=bool(job.meta.get("auto_assign")), job=job)
                )  # fmt: skip
                status = "AddDeviceFailed" if why else "AddDeviceSucceed"
                reason = why or "Device added"
            else:
                why = None if device_id in live else "Device is not in the campaign"
                status = "RemoveDeviceFailed" if why else "RemoveDeviceSucceed"
                reason = why or "Device removed"
            if why is None:
                accepted.append(device_id)
            results.append({"deviceId": device_id, "status": status, "Reason": reason})
        if kind == "append":
            self.fleet.add_targets(job, accepted)
        else:
            self.fleet.remove_targets(job, accepted)
        touch(job)
        return results

    # -- seeding ---------------------------------------------------------------
    def seed(self, count: int, rng: random.Random) -> None:
        seed_account(self, count, rng)
