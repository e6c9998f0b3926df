"""A small text library the corpus program vendored.py keeps beside it, not installed."""

import re


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def initials(name):
    return "".join(word[0].upper() for word in name.split())
