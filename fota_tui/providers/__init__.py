"""Platform adapters behind one contract (see base.py)."""
