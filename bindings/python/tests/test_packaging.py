"""The installed package: an abi3 extension for CPython 3.10+, type information, exports."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import cyrisma
import cyrisma._cyrisma as native


def test_abi3_extension_and_typing_files() -> None:
    extension = Path(native.__file__)
    assert ".abi3." in extension.name or extension.suffix == ".pyd"
    package = Path(cyrisma.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_cyrisma.pyi").exists()


def test_version_matches_the_distribution() -> None:
    assert cyrisma.__version__ == importlib.metadata.version("cyrisma")


def test_exports() -> None:
    for name in cyrisma.__all__:
        assert hasattr(cyrisma, name), name
    assert cyrisma.Client.__module__ == "cyrisma._cyrisma"
    assert cyrisma.AsyncClient.__module__ == "cyrisma._async"
    assert callable(cyrisma.webhooks.verify)
