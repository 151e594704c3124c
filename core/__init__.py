"""The ground layer: what every feature stands on, importing no feature.

Settings, the database (one UTC datetime type, sessions, migrations), API errors, web helpers
(typed dependencies, the staff pages' shell), staff accounts and the audit log, the conversation
store with its inbox and outbox, the bus, per-conversation ordering, and the bot protocol that the
action server and the gateway share. Features (`connectors`, `handoff`, `knowledge_base`, …)
import from here; the top (`ventanilla`: app factory, CLI, supervisor, benchmarks) wires them.
"""
