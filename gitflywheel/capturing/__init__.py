"""Capture: work sessions made from what tools already export, so no session needs
hand-written JSON. Trades from broker statements (Interactive Brokers Flex, thinkorswim,
Tradervue's generic CSV) and conversations from chat exports (ChatGPT, Claude.ai, a
Markdown transcript), printed as session JSON for `gitflywheel ingest -`.

May import the session model and `recording.screenshots` (an image is judged as ingest
judges it); nothing here writes to a store. (The git capture of build sessions stays in
`hooks/capture.py`, the one reader of work repositories.)
"""
