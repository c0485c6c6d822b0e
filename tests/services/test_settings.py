"""Service settings: arguments over environment over defaults, and refusals of unusable values."""

from __future__ import annotations

import pytest

from crowdsense.chain.accounts import dev_signer
from crowdsense.errors import InputError
from crowdsense.services.settings import DEFAULT_DATABASE_URL, Settings


def test_defaults_without_arguments_or_environment():
    settings = Settings.from_env(environ={})
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///.crowdsense/service.sqlite"
    assert (settings.max_blob_bytes, settings.timestamp_window, settings.writers) == (1 << 20, 300, frozenset())


def test_environment_is_read_and_arguments_win():
    env = {"CROWDSENSE_DATABASE_URL": "postgresql://u@h/db", "CROWDSENSE_TIMESTAMP_WINDOW": "60",
           "CROWDSENSE_MAX_BLOB_BYTES": "2048",
           "CROWDSENSE_SERVICE_WRITERS": f"{dev_signer(1).address.lower()}, {dev_signer(2).address}"}
    settings = Settings.from_env(environ=env)
    assert settings.database_url == "postgresql://u@h/db" and settings.timestamp_window == 60
    assert settings.max_blob_bytes == 2048
    assert settings.writers == {dev_signer(1).address, dev_signer(2).address}
    assert Settings.from_env(timestamp_window=5, environ=env).timestamp_window == 5


@pytest.mark.parametrize("kwargs, fragment", [
    ({"timestamp_window": 0}, r"timestamp_window = 0 is not usable: expected an integer in 1\.\.86400"),
    ({"max_blob_bytes": 10**9}, r"max_blob_bytes = 1000000000 is not usable"),
    ({"writers": ["0x12"]}, r"writer '0x12' is not an address"),
    ({"domain": "a b"}, r"service domain 'a b' is not usable"),
    ({"environ": {"CROWDSENSE_TIMESTAMP_WINDOW": "soon"}},
     r"timestamp_window \(\$CROWDSENSE_TIMESTAMP_WINDOW\) = 'soon' is not usable"),
])
def test_unusable_values_are_refused(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        Settings.from_env(**{"environ": {}, **kwargs})
