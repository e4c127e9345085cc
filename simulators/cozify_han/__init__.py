"""Simulator of the Cozify HAN reader (electricity meter H1/P1 port reader)."""

from .faults import HanFault
from .simulator import HanSimulator

__all__ = ["HanFault", "HanSimulator"]
