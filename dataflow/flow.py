"""The Bytewax dataflow: thin adapters around the pure join in ``dataflow.join``.

Run it with ``python -m bytewax.run dataflow.flow``; settings come from the
environment (see ``dataflow.settings``).
"""

from __future__ import annotations

from collections.abc import Sequence

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.operators import StatefulBatchLogic
from bytewax.outputs import Sink

from connectors import sinks, sources
from connectors.serde import encode_dead_letter, encode_record
from dataflow.join import AssetLegs, LegEvent, Record, SpreadJoin
from dataflow.messages import ACTIVE_SPREADS, ASSETS, AssetEvent, DeadLetter, RawMessage, route
from dataflow.settings import Settings
from generators.streams import asset_values, seeded, spread_toggles


class AssetLegsLogic(StatefulBatchLogic[AssetEvent, tuple[str, LegEvent], tuple]):
    """Adapter: one asset's ``AssetLegs``. Never discarded: it holds the latest value."""

    def __init__(self, resume: tuple | None) -> None:
        self.legs = AssetLegs() if resume is None else AssetLegs.restore(resume)

    def on_batch(self, events: list[AssetEvent]) -> tuple[list[tuple[str, LegEvent]], bool]:
        apply = self.legs.apply
        out: list[tuple[str, LegEvent]] = []
        for event in events:
            out += apply(event)
        return out, StatefulBatchLogic.RETAIN

    def snapshot(self) -> tuple:
        return self.legs.snapshot()


class SpreadJoinLogic(StatefulBatchLogic[LegEvent, Record, dict]):
    """Adapter: one spread's ``SpreadJoin``, dropped while no activation is open."""

    def __init__(self, resume: dict | None) -> None:
        self.join = SpreadJoin() if resume is None else SpreadJoin.restore(resume)

    def on_batch(self, events: list[LegEvent]) -> tuple[list[Record], bool]:
        apply = self.join.apply
        out: list[Record] = []
        for event in events:
            out += apply(event)
        return out, self.join.idle

    def snapshot(self) -> dict:
        return self.join.snapshot()


def route_batch(messages: list[RawMessage]) -> list[tuple[str, AssetEvent | DeadLetter]]:
    out: list[tuple[str, AssetEvent | DeadLetter]] = []
    for message in messages:
        out += route(message)
    return out


def is_dead_letter(item: tuple[str, object]) -> bool:
    return type(item[1]) is DeadLetter


def drop_asset_key(batch: list[tuple[str, tuple[str, LegEvent]]]) -> list[tuple[str, LegEvent]]:
    return [spread_event for _asset, spread_event in batch]


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
    raise NotImplementedError(f"SPREADS_SOURCE={kind} is not available yet")


def build_sinks(settings: Settings) -> tuple[Sink, Sink]:
    """(records sink, dead-letter sink) for the configured endpoints."""
    sink, dlq = settings.sink, settings.dlq
    if sink.kind == "kafka" or dlq.kind == "kafka":
        raise NotImplementedError("Kafka sinks are not available yet")
    records = sinks.LinesSink(sink.path or sinks.LinesSink.STDOUT, encode_record)
    letters = sinks.LinesSink(dlq.path or sinks.LinesSink.STDERR, encode_dead_letter)
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
    # (asset, str | Toggle) for good messages; (stream, DeadLetter) for bad ones
    split = op.branch("split_dead_letters", routed, is_dead_letter)
    dead_letters = split.trues
    # (stream, DeadLetter)
    legs = op.stateful_batch("asset_legs", split.falses, AssetLegsLogic)
    # (asset, (spread, LegEvent))
    by_spread = op.flat_map_batch("key_by_spread", legs, drop_asset_key)
    # (spread, LegEvent)
    joined = op.stateful_batch("spread_join", by_spread, SpreadJoinLogic)
    # (spread, (spread, "A-<value>-B-<value>" | None))
    default_records, default_letters = (
        build_sinks(settings) if record_sink is None or dead_letter_sink is None else (None, None)
    )
    op.output("records", joined, record_sink or default_records)
    op.output("dead_letters", dead_letters, dead_letter_sink or default_letters)
    return flow


flow = build_flow(Settings.from_env())
