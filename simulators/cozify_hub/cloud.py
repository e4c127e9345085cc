"""The Cozify cloud: e-mail code login, tokens, hub keys, LAN discovery and the relay."""

from collections import Counter
from collections.abc import Callable, Sequence
import json
import secrets
import time
from typing import Any

from aiohttp import web
from yarl import URL

from ..secrets import remember
from ..server import Handler, SessionTokens, answer_json_errors, json_error
from .faults import CozifyFault, FaultBoard
from .hub import DecoyServer, HubServer, Part, Signer, json_answer

LAN_IP_FORMS = ("url", "bare")


def _quoted(token: str) -> web.Response:
    """Answer a token as the cloud sends it: a JSON string (in double quotes)."""
    return web.Response(text=json.dumps(token), content_type="application/json")


class CloudServer(Part):
    """The cloud API under ``base`` (``/ui/0.2``): HTTP, or HTTPS with ``tls``."""

    CERT_STEM = "cozify-cloud"
    CERT_NAME = "Cozify cloud simulator"
    LOG_NAME = "Cozify cloud simulator"

    def __init__(
        self,
        board: FaultBoard,
        signer: Signer,
        hubs: Sequence[HubServer],
        *,
        email: str,
        base: str,
        token_lifetime: float,
        hub_key_lifetime: float,
        code_lifetime: float,
        lan_ip_form: str,
        lan_hubs: Sequence[int],
        decoy: DecoyServer | None,
    ) -> None:
        if lan_ip_form not in LAN_IP_FORMS:
            raise ValueError(f"lan_ip_form must be one of {', '.join(LAN_IP_FORMS)}")
        super().__init__(board)
        self.email = email
        self.base = "/" + base.strip("/") if base.strip("/") else ""
        self.token_lifetime = token_lifetime
        self.hub_key_lifetime = hub_key_lifetime
        self.code_lifetime = code_lifetime
        self.lan_ip_form = lan_ip_form
        self.lan_hubs = tuple(lan_hubs)
        self.requests: Counter[str] = Counter()
        """Requests by ``METHOD /path`` below the base (``{v}`` for the API version)."""
        self.last_code: str | None = None
        self.codes_sent = 0
        self.on_code: Callable[[str], None] | None = None
        self._hubs = list(hubs)
        self._decoy = decoy
        self._signer = signer
        self._tokens = SessionTokens()
        self._codes: dict[str, float] = {}

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: bool = False
    ) -> None:
        """Listen on ``host:port`` (0: a free port); HTTPS (self-signed) with ``tls``."""
        await self._start(host, port, tls_on=tls, cert_dir=None)

    # ---- accounts ---------------------------------------------------------------

    def mail_code(self) -> str:
        """Mail a new one-time code (as requestlogin does) and return it."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        while code in self._codes:
            code = f"{secrets.randbelow(1_000_000):06d}"
        remember(code)
        self._codes[code] = time.time() + self.code_lifetime
        self.last_code = code
        self.codes_sent += 1
        if self.on_code is not None:
            self.on_code(code)
        return code

    def expire_codes_now(self) -> None:
        """Refuse every code mailed so far."""
        self._codes.clear()

    def issue_token(self) -> str:
        """Issue a new cloud token (JWT: email, iat, exp) without a login."""
        return self._signer.issue(
            self._tokens, {"email": self.email}, self.token_lifetime
        )

    def expire_tokens_now(self) -> None:
        """Refuse (401) every cloud token issued so far (refreshsession too)."""
        self._tokens.expire_all()

    def _token(self, request: web.Request) -> str | None:
        """Return the request's valid cloud token (no "Bearer "), or None."""
        token = request.headers.get("Authorization")
        if not token or self._signer.claims(token) is None:
            return None
        if not self._tokens.valid(token):
            return None
        if self._board.take(CozifyFault.UNAUTHORIZED_ONCE):
            return None
        return token

    # ---- HTTP -------------------------------------------------------------------

    def _routes(self) -> list[web.RouteDef]:
        base = self.base
        return [
            web.post(f"{base}/user/requestlogin", self._request_login),
            web.post(f"{base}/user/emaillogin", self._email_login),
            web.get(f"{base}/user/hubkeys", self._hub_keys),
            web.get(f"{base}/user/refreshsession", self._refresh),
            web.post(f"{base}/user/refreshsession", self._refresh),
            web.put(f"{base}/user/logout", self._logout),
            web.get(f"{base}/hub/lan_ip", self._lan_ip),
            web.route("*", f"{base}/hub/remote/{{tail:.*}}", self._remote),
            web.post("/_sim/codes/expire", self._sim_expire_codes),
            web.get("/_sim/status", self._sim_status),
        ]

    async def _api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        inner = (
            path.removeprefix(self.base) if path.startswith(self.base + "/") else path
        )
        relay = inner.startswith("/hub/remote/")
        if relay:
            hub_path = inner.removeprefix("/hub/remote")
            label = "/hub/remote" + self._hubs[0].template(hub_path)
        else:
            label = inner
        self.requests[f"{request.method} {label}"] += 1
        failure = self._board.get(CozifyFault.HTTP_ERROR)
        if failure is not None and (
            path.startswith(failure["path"]) or inner.startswith(failure["path"])
        ):
            return json_error(int(failure["status"]), "unable to process request")
        if relay and self._board.get(CozifyFault.RELAY_REFUSED) is not None:
            return json_answer(
                {"message": "remote access requires a subscription"}, status=403
            )
        if not relay:
            slow = self._board.get(CozifyFault.SLOW_RESPONSE)
            if slow is not None:
                await self._sleep(float(slow["seconds"]))
        return await answer_json_errors(handler, request)

    async def _request_login(self, request: web.Request) -> web.StreamResponse:
        email = request.query.get("email")
        if not email:
            return json_error(400, "email is required")
        if email.strip().casefold() == self.email.casefold():
            self.mail_code()
        return json_answer(None)

    async def _email_login(self, request: web.Request) -> web.StreamResponse:
        fields: dict[str, Any]
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                return json_error(400, "body is not valid JSON")
            fields = body if isinstance(body, dict) else {}
        else:
            fields = dict(await request.post())
        email, code = fields.get("email"), fields.get("password")
        if not isinstance(email, str) or not isinstance(code, str):
            return json_error(400, "email and password are required")
        expiry = self._codes.get(code.strip())
        if email.strip().casefold() != self.email.casefold() or expiry is None:
            return web.Response(status=401, text="Invalid login")
        del self._codes[code.strip()]
        if expiry <= time.time():
            return web.Response(status=401, text="Code expired")
        return _quoted(self.issue_token())

    async def _hub_keys(self, request: web.Request) -> web.StreamResponse:
        if self._token(request) is None:
            return json_error(401, "invalid cloud token")
        return json_answer(
            {hub.hub_id: hub.issue_key(self.hub_key_lifetime) for hub in self._hubs}
        )

    async def _refresh(self, request: web.Request) -> web.StreamResponse:
        if self._token(request) is None:
            return json_error(401, "invalid cloud token")
        return _quoted(self.issue_token())

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        token = self._token(request)
        if token is not None:
            del self._tokens[token]
        return json_answer(None)

    async def _lan_ip(self, _request: web.Request) -> web.StreamResponse:
        servers: list[Part] = [self._hubs[index] for index in self.lan_hubs]
        if self._decoy is not None:
            servers.insert(0, self._decoy)
        if self.lan_ip_form == "bare":
            return json_answer([URL(server.url).host for server in servers])
        return json_answer([server.url for server in servers])

    async def _remote(self, request: web.Request) -> web.StreamResponse:
        if self._token(request) is None:
            return json_error(401, "invalid cloud token")
        key = request.headers.get("X-Hub-Key")
        claims = self._signer.claims(key) or {}
        hub = next((h for h in self._hubs if h.hub_id == claims.get("hub_id")), None)
        if hub is None or not hub.key_valid(key):
            return json_error(401, "invalid hub key")
        return await hub.answer(request, "/" + request.match_info["tail"], key)

    # ---- control ----------------------------------------------------------------

    async def _sim_expire_codes(self, _request: web.Request) -> web.StreamResponse:
        self.expire_codes_now()
        return web.json_response({"expired": True})

    async def _sim_status(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "faults": self.faults,
                "codes_sent": self.codes_sent,
                "requests": dict(self.requests),
                "hubs": {
                    hub.hub_id: {"url": hub.url, "online": hub.online}
                    for hub in self._hubs
                },
            }
        )
