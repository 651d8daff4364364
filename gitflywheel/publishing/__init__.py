"""Publishing: the posts a store publishes, as a site, feeds, and blog exports.

`posts` (which sessions publish what), `site` (the static site), `cards` (each
session's card image, drawn by resvg), `projects` (a changelog per project), `feed`
(Atom), `markdown_html` (Markdown to inert HTML), `exports` (Hugo and Jekyll folders),
`site_branch` (a built site as a branch of the store), `build_memo` (what earlier
site builds made, so that a build redoes only what changed), `preview` (the site served
locally while the store changes). It imports everything below it
but remotes, hooks and the two doors.
"""
