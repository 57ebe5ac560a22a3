"""The API key the tests' servers accept, and the header their clients send it in."""

from __future__ import annotations

from entrypoints.api.security import API_KEYS_VARIABLE, HEADER

TEST_API_KEY = "test-api-key-5b0c7d9e31f24a68"
KEYED = {HEADER: TEST_API_KEY}
KEY_ENVIRON = {API_KEYS_VARIABLE: TEST_API_KEY}
