"""Pieces kept from multi-await 1.x: the select loop, ``with_value`` and ``cancel_all``."""
