"""Leaf helpers with no knowledge of cases, models or media: hashing, atomic files, ordered
parallel work, progress callables and one-line error text."""
