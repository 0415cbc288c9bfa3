"""What the map knows: the locality's layers, the proposal store and routing rules (no Flask)."""
