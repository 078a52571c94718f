"""ThingSpace's two tokens on the fleet clock (docs/platforms/thingspace.md).

- OAuth client credentials: one token per app key, valid 1 h from first issue; asking
  again within the hour returns the same token with the remaining ``expires_in``.
- M2M session: ``sessionToken`` with a 20-minute sliding inactivity expiry; 5 consecutive
  failed logins lock the user, and a locked user keeps failing even with the right password.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fota_tui.sim.clock import Clock

OAUTH_TTL = timedelta(hours=1)
SESSION_IDLE = timedelta(minutes=20)
LOCKOUT_AFTER = 5


@dataclass
class _Session:
    username: str
    last_used: datetime


@dataclass
class TokenStore:
    clock: Clock
    app_key: str
    app_secret: str
    passwords: dict[str, str]  # username → password (tests may change it)
    oauth: dict[str, datetime] = field(default_factory=dict)  # token → expiry
    current: str | None = None  # the app's token within its hour
    sessions: dict[str, _Session] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)  # consecutive failed logins
    locked: set[str] = field(default_factory=set)
    token_issues: int = 0
    login_attempts: int = 0

    # -- OAuth -----------------------------------------------------------------
    def client_ok(self, key: str, secret: str) -> bool:
        return key == self.app_key and secret == self.app_secret

    def issue_oauth(self) -> tuple[str, int]:
        """The app's token and its remaining seconds (same token within the hour)."""
        now = self.clock.now()
        if self.current is not None and self.oauth.get(self.current, now) > now:
            return self.current, int((self.oauth[self.current] - now).total_seconds())
        token = str(uuid.uuid4())
        self.oauth[token] = now + OAUTH_TTL
        self.current = token
        self.token_issues += 1
        return token, int(OAUTH_TTL.total_seconds())

    def oauth_ok(self, token: str | None) -> bool:
        return token is not None and self.oauth.get(token, self.clock.now()) > self.clock.now()

    def revoke(self, token: str) -> bool:
        if self.oauth.pop(token, None) is None:
            return False
        if self.current == token:
            self.current = None
        return True

    # -- M2M session -----------------------------------------------------------
    def login(self, username: str, password: str) -> str | None:
        """A new session token, or None (counted towards the lockout)."""
        self.login_attempts += 1
        if username in self.locked:
            return None
        if self.passwords.get(username) != password:
            self.failed[username] = self.failed.get(username, 0) + 1
            if self.failed[username] >= LOCKOUT_AFTER:
                self.locked.add(username)
            return None
        self.failed[username] = 0
        token = str(uuid.uuid4())
        self.sessions[token] = _Session(username, self.clock.now())
        return token

    def session_ok(self, token: str | None, touch: bool = True) -> bool:
        session = self.sessions.get(token or "")
        now = self.clock.now()
        if session is None or now - session.last_used >= SESSION_IDLE:
            return False
        if touch:
            session.last_used = now  # sliding expiry
        return True

    def logout(self, token: str) -> bool:
        return self.sessions.pop(token, None) is not None

    def expire_all(self) -> None:
        self.oauth.clear()
        self.current = None
        self.sessions.clear()
