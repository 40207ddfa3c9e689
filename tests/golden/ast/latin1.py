# -*- coding: latin-1 -*-
"""Café au lait."""


def café_name():
    return "naïve"


def after():
    """Still parsed."""
