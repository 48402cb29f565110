# Fixtures for end-to-end tests; see tests/e2e/servers.py for the list and their scopes.
from tests.e2e.servers import *  # noqa: F403
