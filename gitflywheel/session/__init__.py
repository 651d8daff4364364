"""The work session as data: its models, the record made of it, its manifest and facts.

`models` (pydantic, the JSON Schema's source), `records` (parsed JSON to a validated,
canonical record), `manifest` (what a session folder holds), `facts` (what its
templates show), `artifacts` (what a pipeline hands to rendering), `versions` (pipeline
and filter-set ids), `durations`. Pure data and validation: it imports only storage's
layout and the top-level standalone modules.
"""
