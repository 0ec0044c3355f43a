"""The Bytewax dataflow: thin adapters around the pure join in ``dataflow.join``.

Run it with ``python -m bytewax.run dataflow.flow``; settings come from the
environment (see ``dataflow.settings``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from typing import TypeVar

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.operators import StatefulBatchLogic
from bytewax.outputs import Sink

from connectors import sinks, sources
from connectors.serde import encode_dead_letter, encode_records
from dataflow.join import AssetLegs, LegEvent, Record, SpreadJoins
from dataflow.messages import ACTIVE_SPREADS, ASSETS, AssetEvent, DeadLetter, RawMessage, route
from dataflow.settings import Settings, SettingsError
from generators.streams import asset_values, seeded, spread_toggles

T = TypeVar("T")


# Items travel in per-key lists: each step emits one list per key and batch
# instead of one item per event, which divides Bytewax's per-item cost (the
# bulk of the flow's time) by the events per key in a batch. A list keeps its
# events in order, and lists of one key follow each other in order.


class AssetLegsLogic(StatefulBatchLogic[list[AssetEvent], list[tuple[str, LegEvent]], tuple]):
    """Adapter: one asset's ``AssetLegs``. Never discarded: it holds the latest value."""

    def __init__(self, resume: tuple | None) -> None:
        self.legs = AssetLegs() if resume is None else AssetLegs.restore(resume)

    def on_batch(
        self, batches: list[list[AssetEvent]]
    ) -> tuple[list[list[tuple[str, LegEvent]]], bool]:
        apply = self.legs.apply
        out: list[tuple[str, LegEvent]] = []
        for events in batches:
            for event in events:
                out += apply(event)
        return ([out] if out else []), StatefulBatchLogic.RETAIN

    def snapshot(self) -> tuple:
        return self.legs.snapshot()


class SpreadJoinsLogic(StatefulBatchLogic[list[tuple[str, LegEvent]], list[Record], dict]):
    """Adapter: the ``SpreadJoins`` of one first leg, dropped while none is open."""

    def __init__(self, resume: dict | None) -> None:
        self.joins = SpreadJoins() if resume is None else SpreadJoins.restore(resume)

    def on_batch(
        self, batches: list[list[tuple[str, LegEvent]]]
    ) -> tuple[list[list[Record]], bool]:
        apply = self.joins.apply
        out: list[Record] = []
        for events in batches:
            for spread, event in events:
                out += apply(spread, event)
        return ([out] if out else []), self.joins.idle

    def snapshot(self) -> dict:
        return self.joins.snapshot()


def group_by_key(pairs: Iterable[tuple[str, T]], into: dict[str, list[T]]) -> dict[str, list[T]]:
    """Append each ``(key, value)`` to ``into[key]``, keeping their order."""
    for key, value in pairs:
        group = into.get(key)
        if group is None:
            into[key] = [value]
        else:
            group.append(value)
    return into


def route_batch(messages: list[RawMessage]) -> list[tuple[str, list[AssetEvent] | DeadLetter]]:
    by_asset: dict[str, list[AssetEvent]] = {}
    letters: list[tuple[str, DeadLetter]] = []
    for message in messages:
        routed = route(message)
        if type(routed[0][1]) is DeadLetter:
            letters += routed  # type: ignore[arg-type]
        else:
            group_by_key(routed, by_asset)  # type: ignore[arg-type]
    return [*by_asset.items(), *letters]


def is_dead_letter(item: tuple[str, object]) -> bool:
    return type(item[1]) is DeadLetter


def key_by_first_leg(
    batch: list[tuple[str, list[tuple[str, LegEvent]]]],
) -> list[tuple[str, list[tuple[str, LegEvent]]]]:
    """Re-key leg events by their spread's asset_1 (``activation[1]``)."""
    by_first_leg: dict[str, list[tuple[str, LegEvent]]] = {}
    # group_by_key's loop, inlined: this runs once per leg event, the flow's
    # largest stream, where a generator feeding group_by_key cost 3% of a run.
    for _asset, spread_events in batch:
        for spread_event in spread_events:
            first_leg = spread_event[1][2][1]  # (spread, (kind, leg, activation, value))
            group = by_first_leg.get(first_leg)
            if group is None:
                by_first_leg[first_leg] = [spread_event]
            else:
                group.append(spread_event)
    return list(by_first_leg.items())


def build_sources(settings: Settings) -> list[Source[RawMessage]]:
    kind = settings.source.kind
    if kind == "tape":
        return [sources.TapeSource(settings.source.path)]  # type: ignore[arg-type]
    if kind == "demo":
        seed = settings.seed

        def values_of(asset: str):
            return lambda: asset_values(asset, settings.rate, seeded(seed, ASSETS, asset))

        def toggles():
            return spread_toggles(
                settings.assets,
                seeded(seed, ACTIVE_SPREADS),
                initial=settings.initial_spreads,
                every=settings.toggle_every,
            )

        return [
            sources.GeneratorSource(
                ASSETS, {a: values_of(a) for a in settings.assets}, settings.duration
            ),
            sources.GeneratorSource(ACTIVE_SPREADS, {"control": toggles}, settings.duration),
        ]
    if kind == "kafka":
        from connectors.kafka.sources import build_sources as kafka_sources  # loads confluent-kafka

        return kafka_sources(settings)
    # Settings.from_env admits only the kinds above; a hand-made Settings may not.
    raise SettingsError(f"expected SPREADS_SOURCE to be demo, tape:PATH or kafka; got {kind!r}")


def build_sinks(settings: Settings) -> tuple[Sink, Sink]:
    """(records sink, dead-letter sink) for the configured endpoints."""
    sink, dlq = settings.sink, settings.dlq
    records = sinks.LinesSink(sink.path or sinks.LinesSink.STDOUT, encode_records)
    letters = sinks.LinesSink(dlq.path or sinks.LinesSink.STDERR, encode_dead_letter)
    if sink.kind == "kafka" or dlq.kind == "kafka":
        from connectors.kafka.sinks import kafka_sinks  # loads confluent-kafka

        return kafka_sinks(settings, records, letters)
    return records, letters


def build_flow(
    settings: Settings,
    *,
    inputs: Sequence[Source[RawMessage]] | None = None,
    record_sink: Sink | None = None,
    dead_letter_sink: Sink | None = None,
) -> Dataflow:
    """The whole flow. ``inputs`` and the sinks override the settings (for tests)."""
    flow = Dataflow("spread_join")
    streams = [
        op.input(f"in_{i}", flow, source)
        for i, source in enumerate(inputs if inputs is not None else build_sources(settings))
    ]
    raw = streams[0] if len(streams) == 1 else op.merge("merge_inputs", *streams)
    # RawMessage
    routed = op.flat_map_batch("parse_and_route", raw, route_batch)
    # (asset, [str | Toggle, ...]) for good messages; (stream, DeadLetter) for bad ones
    split = op.branch("split_dead_letters", routed, is_dead_letter)
    dead_letters = split.trues
    # (stream, DeadLetter)
    legs = op.stateful_batch("asset_legs", split.falses, AssetLegsLogic)
    # (asset, [(spread, LegEvent), ...])
    by_first_leg = op.flat_map_batch("key_by_first_leg", legs, key_by_first_leg)
    # (asset_1, [(spread, LegEvent), ...])
    joined = op.stateful_batch("spread_join", by_first_leg, SpreadJoinsLogic)
    # (asset_1, [(spread, "A-<value>-B-<value>" | None), ...])
    default_records, default_letters = (
        build_sinks(settings) if record_sink is None or dead_letter_sink is None else (None, None)
    )
    op.output("records", joined, record_sink or default_records)
    op.output("dead_letters", dead_letters, dead_letter_sink or default_letters)
    return flow


def tune_gc() -> None:
    """The flow allocates millions of short-lived tuples and lists that form no
    cycles; at CPython's default gen-0 threshold (700) the cycle collector runs
    thousands of times a second and took about 15% of a tape run. Collect less often."""
    gc.set_threshold(50_000, 20, 100)


tune_gc()
flow = build_flow(Settings.from_env())
