"""Built-in generators for the demo: asset values and spread toggles.

Pure and timed: each yields ``(seconds_from_start, payload_bytes)`` pairs, in
time order, from an injected random generator, so tests are exact. Wall clocks
live in the source that plays them (``connectors.sources``).
"""
