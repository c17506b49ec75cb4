"""Browser tests: their fixtures (live server, browser, page, committed_db) are in
tests/conftest.py, shared with the browser tests of each app."""
