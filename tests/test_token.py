"""The shared bearer-token keeper: renewal margin, one login for many, one retry."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    InvalidAuth,
)
from custom_components.energy_gateways.transport.token import (
    Grant,
    TokenKeeper,
    call_with_token,
    renewal_margin,
)


class FakeLogin:
    """Hands out tokens t1, t2, ... with a given grant shape."""

    def __init__(self, lifetime: float | None = None) -> None:
        self.lifetime = lifetime
        self.expires_at: float | None = None
        self.calls = 0
        self.refuse = False

    async def __call__(self) -> Grant:
        self.calls += 1
        await asyncio.sleep(0)
        if self.refuse:
            raise InvalidAuth("login refused")
        return Grant(
            f"t{self.calls}", expires_at=self.expires_at, lifetime=self.lifetime
        )


@pytest.mark.parametrize(
    ("lifetime", "max_margin", "margin"),
    [(1800, 60, 60), (3600, 300, 300), (120, 300, 60), (0, 300, 0), (-5, 60, 0)],
)
def test_renewal_margin(lifetime: float, max_margin: float, margin: float) -> None:
    """min(max_margin, lifetime / 2), never negative."""
    assert renewal_margin(lifetime, max_margin) == margin


async def test_renews_before_expiry() -> None:
    """A 120 s token is renewed 60 s early; a 3600 s one 300 s early."""
    now = 1000.0
    login = FakeLogin(lifetime=120)
    keeper = TokenKeeper(
        login, max_margin=300, default_lifetime=3600, clock=lambda: now
    )
    assert keeper.token is None
    assert keeper.expiring()
    assert await keeper.valid() == "t1"
    assert keeper.expires_at == 1120.0
    now = 1060.0  # exactly at the margin: still good
    assert await keeper.valid() == "t1"
    now = 1060.5
    assert await keeper.valid() == "t2"
    assert keeper.logins == 2

    login.lifetime = None  # the default lifetime applies
    assert await keeper.login() == "t3"
    assert keeper.expires_at == now + 3600
    now += 3300
    assert await keeper.valid() == "t3"
    now += 1
    assert await keeper.valid() == "t4"
    assert "t4" not in repr(keeper)


async def test_absolute_expiry_wins() -> None:
    """An `exp` claim is used as is."""
    login = FakeLogin(lifetime=10)
    login.expires_at = 5000.0
    keeper = TokenKeeper(login, max_margin=60, default_lifetime=1800, clock=lambda: 0)
    await keeper.valid()
    assert keeper.expires_at == 5000.0


async def test_concurrent_callers_share_one_login() -> None:
    """Callers waiting on the lock get the token the first one fetched."""
    login = FakeLogin()
    keeper = TokenKeeper(login, max_margin=60, default_lifetime=1800)
    tokens = await asyncio.gather(*(keeper.valid() for _ in range(5)))
    assert tokens == ["t1"] * 5
    assert login.calls == 1
    # a stale token already replaced by another task is not renewed twice
    assert await keeper.renew(stale="t0") == "t1"
    assert await keeper.renew(stale="t1") == "t2"


async def test_refused_login_forgets_the_token() -> None:
    """InvalidAuth on login drops the old token; other errors keep it."""
    login = FakeLogin()
    keeper = TokenKeeper(login, max_margin=60, default_lifetime=1800)
    await keeper.valid()
    login.refuse = True
    with pytest.raises(InvalidAuth):
        await keeper.login()
    assert keeper.token is None
    assert keeper.expires_at is None
    login.refuse = False
    assert await keeper.valid() == "t3"
    keeper.forget()
    assert keeper.token is None


async def test_call_with_token_retries_once() -> None:
    """A refused token is renewed once; a second refusal propagates."""
    keeper = TokenKeeper(FakeLogin(), max_margin=60, default_lifetime=1800)
    seen: list[str] = []

    async def refuse_first(token: str) -> str:
        seen.append(token)
        if len(seen) == 1:
            raise InvalidAuth("401")
        return f"ok {token}"

    assert await call_with_token(keeper, refuse_first) == "ok t2"
    assert seen == ["t1", "t2"]

    async def always_refuse(token: str) -> str:
        seen.append(token)
        raise InvalidAuth("401")

    with pytest.raises(InvalidAuth):
        await call_with_token(keeper, always_refuse)
    assert seen[-2:] == ["t2", "t3"]

    async def unreachable(token: str) -> str:
        raise CannotConnect("down")

    with pytest.raises(CannotConnect):
        await call_with_token(keeper, unreachable)
    assert keeper.logins == 3
