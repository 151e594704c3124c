"""Custom Rasa 3.6 graph components, named in config.yml as bot.components.<module>.<Class>.

Rasa must run with the project root on PYTHONPATH so that ``bot`` is importable.
"""
