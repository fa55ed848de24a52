"""Fixtures for the semantic-layer tests: the fixture manifest and a tiny in-memory lake."""

from __future__ import annotations

import duckdb
import pytest
from semantic_data import MANIFEST, Dataset, load_dataset, make_dataset

from semantic.manifest import Manifest, load_manifest


@pytest.fixture(scope="session")
def data() -> Dataset:
    return make_dataset()


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return load_manifest(MANIFEST)


@pytest.fixture(scope="session")
def con(data: Dataset):
    connection = duckdb.connect(config={"threads": 1})
    load_dataset(connection, data)
    yield connection
    connection.close()
