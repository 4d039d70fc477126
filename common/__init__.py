"""What every package shares, and nothing else: the user-error base class and exit statuses,
the one strict YAML loader, atomic files, the two-stage Ctrl-C handler and the one window
toolkit.  Imports only numpy and yaml at module level (pyglet inside functions)."""
