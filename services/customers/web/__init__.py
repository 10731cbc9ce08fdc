"""The account pages under /account/ (policy 4.2.1): server-rendered, ru/kk/en, no scripts.

``app.py`` mounts them as a sub-app; ``entry.py`` and ``account.py`` hold the pages.
"""
