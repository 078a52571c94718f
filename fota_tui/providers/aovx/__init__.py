"""AOVX cloud: vehicle/asset tracker platform (``token`` header, ``{code, message, data}``)."""
