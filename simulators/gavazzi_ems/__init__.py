"""Simulator of the Carlo Gavazzi EMS energy management gateway (EMS Webapi 1.0.0)."""

from .faults import EmsFault
from .simulator import EmsSimulator

__all__ = ["EmsFault", "EmsSimulator"]
