"""The SimPy world: state, the daily step, shipments and trade gates."""
from .world import ReplicationOutput, World, run_replication

__all__ = ["World", "ReplicationOutput", "run_replication"]
