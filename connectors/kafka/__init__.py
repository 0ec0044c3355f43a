"""Kafka mode: ``sources`` (Bytewax's KafkaSource, one per topic), ``sinks``
(delivery-checked producers) and ``admin`` (checks, topic creation, a watcher).

Imported only when a setting asks for Kafka, so the other modes never load
confluent-kafka.
"""
