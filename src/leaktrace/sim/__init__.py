"""Scenario simulator: a ministry network with one leak, at any scale, deterministic per seed."""

from leaktrace.sim.config import SimulationConfig
from leaktrace.sim.run import SimulationResult, simulate

__all__ = ["SimulationConfig", "SimulationResult", "simulate"]
