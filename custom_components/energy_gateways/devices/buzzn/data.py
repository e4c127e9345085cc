"""What the integration knows about one BUZZN account and its group."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import (
    Challenge,
    ChallengeStatus,
    CommunitySaving,
    Disaggregation,
    Hint,
    LiveMessage,
    PerCapita,
    Profile,
    Saving,
)


@dataclass(slots=True)
class MemberValues:
    """One group member's latest live values (energy guarded: never lower)."""

    energy: float | None = None
    """kWh."""
    power: float | None = None
    """W."""


@dataclass(slots=True)
class BuzznData:
    """The account's profile, the latest live values and the polled ones."""

    profile: Profile
    live: LiveMessage | None = None
    """The newest decoded live message (diagnostics)."""
    energy: float | None = None
    """Own consumption total (kWh), never 0 and never lower than before."""
    power: float | None = None
    """Own power (W)."""
    group_power: float | None = None
    """Sum of the members' power (W); None until a member reports one."""
    group_production: float | None = None
    """The group's production power (W)."""
    members: dict[str, MemberValues] = field(default_factory=dict)
    saving: Saving | None = None
    community: CommunitySaving | None = None
    per_capita: PerCapita | None = None
    disaggregation: Disaggregation | None = None
    challenges: list[Challenge] = field(default_factory=list)
    challenge: ChallengeStatus | None = None
    hints: list[Hint] = field(default_factory=list)

    @property
    def own_member_id(self) -> str:
        """The account's id as the live messages name it."""
        return str(self.profile.id)
