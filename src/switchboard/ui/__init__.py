"""The web UI: server-rendered page shells (Jinja2) whose small vendored script talks to /client/api.

The UI has no code path of its own: every read and every action is a public API call made by the browser
with the login session (the `sessionkey` cookie plus the same value as a parameter).
"""
