"""The public API's contract: request bodies, queries and answers the gateway validates and documents,
and the services validate again because RPC callers are clients too.

One module per service (crm's messages to customers have their own), holding its schemas and the
vocabulary they use: statuses, kinds, reasons. A service's domain imports that vocabulary from here, so
the word a client sends and the word a rule checks are one constant. Nothing here imports `services`.
"""
