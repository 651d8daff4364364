"""Reading a store for people: list, show, find, log, export, and the index they answer from.

`sessions` answers `ls`, `show`, `which` and `log`; `export` writes a tree to a folder;
`index` is the SQLite cache beside the store that makes `ls` and `which` fast;
`provenance` derives a session's in-toto statement (`show ID provenance`). Nothing
here writes the store. It imports storage, the session model and the standalone modules.
"""
