"""Recording sessions: read inputs, plan each session's folder, commit it.

`inputs` (files, arrays, JSON Lines, folders, stdin), `screenshots` (which may be read),
`folder_plan` (a record in, every file of its folder out: pure), `workers` (planning on
the other cores), `ingest` and `rerender` (the commands), `batch` (what a batch
reports), `init` (creating and opening a store), `maintain` (packs and indexes). It
imports pipelines, rendering, queries, the session model and storage.
"""
