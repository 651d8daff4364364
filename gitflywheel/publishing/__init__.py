"""Publishing: the posts a store publishes, as a site, feeds, and blog exports.

`posts` (which sessions publish what), `site` (the static site), `cards` (each
session's card image, drawn by resvg), `feed` (Atom),
`markdown_html` (Markdown to inert HTML), `exports` (Hugo and Jekyll folders),
`site_branch` (a built site as a branch of the store). It imports everything below it
but remotes, hooks and the two doors.
"""
