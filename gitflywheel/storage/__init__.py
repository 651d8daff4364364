"""The store in git: objects, packs, trees, commits, refs, locks, and where things live.

Owns everything that touches git: reading and writing objects and packs (`store`,
`packs`, `trees`, `commits`, and `signing`, which signs each commit as git's
configuration asks and checks signatures), history (`ancestry`, `treediff`), the rules of a tree
entry (`treecheck`) and of objects that come from elsewhere (`objectcheck`,
`quarantine`), talking to remotes (`transport`, `remote_url`), the paths of the tree
(`layout`) and of the git directory (`gitdir`), and the one lock helper (`locks`).
It is the only folder that imports dulwich; above it, callers get bytes, ids and
frozen dataclasses. It imports only the top-level standalone modules.
"""
