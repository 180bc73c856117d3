"""Settings for the whole test run."""

import nengo
import pytest


@pytest.fixture(autouse=True, scope="session")
def no_decoder_cache():
    """The tests build without Nengo's on-disk decoder cache (``~/.cache/nengo``):
    a cache file written under another numpy (the core venv's numpy 2) cannot be
    read under numpy 1, and a test must not depend on what earlier runs left."""
    old = nengo.rc.get("decoder_cache", "enabled")
    nengo.rc.set("decoder_cache", "enabled", "False")
    yield
    nengo.rc.set("decoder_cache", "enabled", old)
