"""Simulator of a Cozify account: the Cozify cloud, its hubs and a HAN reader decoy."""

from .faults import CozifyFault
from .simulator import CozifySimulator

__all__ = ["CozifyFault", "CozifySimulator"]
