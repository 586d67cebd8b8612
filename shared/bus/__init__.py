"""The message bus: RabbitMQ names and publishers, RPC entrypoints and client, events, the outbox relay."""
