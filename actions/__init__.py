"""Custom actions, served to Rasa by rasa-sdk (`python -m rasa_sdk --actions actions`).

Actions stay thin: they read the tracker, call a service that knows nothing of Rasa, and utter.
"""
