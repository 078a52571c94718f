"""The platform simulator: one seeded fleet, four dialects, faults, two ways to serve."""
