"""Simulator of the BUZZN broker (myBUZZN app backend): REST, /live and Socket.IO 2."""

from .faults import BuzznFault
from .simulator import BuzznSimulator

__all__ = ["BuzznFault", "BuzznSimulator"]
