"""What ``test_fuzz.py`` knows about each platform: one module per adapter, each with the
same names.

- ``KIND``, ``PLATFORM`` (routes, quiet answers, extra ops), ``make``, ``OPTIONS``, ``KEYS``
- ``SHAPES``: wire models and the normalizers that consume them
- ``FUNCTION_VALUES`` (strategies by name) and ``check_functions(**values)``: the
  status/time/package helpers
- ``DECODE_EXAMPLES``, ``STATUSES``, ``check_decode(body, outcome, value)`` (the 2xx oracle
  of ``_decode``), ``error_envelope(body)``, ``decode(status, body)``
- ``TAXONOMY`` (error-envelope body -> error) and ``NOT_ENVELOPES`` (protocol errors);
  empty where the platform has no error envelope
- ``PAGERS`` ((target route, op) pairs) and ``NO_RECORDS`` (ops that give no records)
- ``FIXED_BUGS`` and ``KNOWN_BUGS`` (open ones: strict-xfail reproducers)
"""

from . import aovx, oceanconnect, onenet, thingspace

PLATFORMS = (aovx, oceanconnect, onenet, thingspace)
