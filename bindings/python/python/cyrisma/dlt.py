"""A dlt source over every customer instance: ``cyrisma.dlt.source(client)``.

Install with ``pip install "cyrisma[dlt]"``. The source has four resources, the history
dataset's tables: ``instances``, ``grades``, ``scans`` and ``findings``, each loaded with
``write_disposition="merge"`` on its key (``findings`` on the fingerprint, the same one
``cyrisma snapshot`` writes). It keeps one bookmark per instance in the pipeline's state (the
latest completed scan pulled of each scan type), so a second run loads only the scans that
completed since, and their findings; an instance that fails is logged and keeps its bookmark.
The pull is the one ``cyrisma tap`` runs (``cyrisma_fleet::Fleet::pull``), streamed one instance
at a time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.sources import DltResource, DltSource

from . import _cyrisma
from ._cyrisma import _pull, _pull_columns

__all__ = ["KEYS", "source"]

_log = logging.getLogger("cyrisma.dlt")

#: The data types of the dataset's columns in dlt's terms.
_DLT_TYPES = {"string": "text", "int64": "bigint", "int32": "bigint", "float64": "double", "bool": "bool"}


def _columns() -> dict[str, list[tuple[str, str, bool, bool]]]:
    return {
        stream: [(str(name), str(kind), bool(nullable), bool(key)) for name, kind, nullable, key in rows]
        for stream, rows in _pull_columns().items()
    }


#: Each resource's key, what ``merge`` matches rows on.
KEYS: dict[str, tuple[str, ...]] = {
    stream: tuple(name for name, _, _, key in columns if key) for stream, columns in _columns().items()
}


def _hints(stream: str) -> dict[str, dict[str, Any]]:
    return {
        name: {"data_type": _DLT_TYPES.get(kind, "text"), "nullable": nullable and not key}
        for name, kind, nullable, key in _columns()[stream]
    }


def _rows(stream: str) -> Any:
    def rows(batch: dict[str, Any]) -> list[dict[str, Any]]:
        selected: list[dict[str, Any]] = batch[stream]
        return selected

    rows.__name__ = stream
    return rows


def source(
    client: Any,
    *,
    instances: Sequence[str] | None = None,
    concurrency: int | None = None,
    name: str = "cyrisma",
) -> DltSource:
    """A dlt source pulling from every selected instance of ``client`` (a ``cyrisma.Client``).

    ``instances`` limits the pull to these instance ids (default: every instance that is not an
    organization and not suspended); ``concurrency`` is how many instances are pulled at once.
    The bookmarks live in the source's state (``bookmarks``), committed by dlt with the load.
    """
    if not isinstance(client, _cyrisma.Client):
        raise TypeError(f"cyrisma.dlt.source needs a cyrisma.Client, not {type(client).__name__}")
    wanted = list(instances) if instances is not None else None

    @dlt.source(name=name, max_table_nesting=0)
    def cyrisma() -> Iterator[DltResource]:
        @dlt.resource(name="pull", selected=False)
        def pull() -> Iterator[dict[str, Any]]:
            state = dlt.current.source_state()
            bookmarks: dict[str, Any] = state.setdefault("bookmarks", {})
            stream = _pull(client, json.dumps(bookmarks), instances=wanted, concurrency=concurrency)
            for batch in stream:
                yield batch
                bookmarks[batch["instance_id"]] = batch["bookmark"]
            result = stream.result or {}
            for failure in result.get("errors", []):
                _log.warning(
                    "instance %s failed, so its bookmark was kept (the next run pulls it again): %s",
                    failure["instance_id"],
                    failure["error"],
                )

        yield pull
        # dlt's overloads of `transformer` (1.31) match no call whose function is built at run
        # time, as `_rows(stream)` is: call it untyped.
        transformer: Any = dlt.transformer
        for stream in KEYS:
            yield transformer(
                _rows(stream),
                data_from=pull,
                name=stream,
                primary_key=list(KEYS[stream]),
                write_disposition="merge",
                columns=_hints(stream),
            )

    built: DltSource = cyrisma()
    return built
