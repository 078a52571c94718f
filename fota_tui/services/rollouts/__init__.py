"""Staged rollouts: a campaign split into waves, each started only when the one before
succeeded (see ``plan.py`` for the wave plan, ``engine.py`` for the decisions,
``drivers.py`` for what advances them headless, ``record.py`` for what is kept)."""
