"""Rasa assistant of Ventanilla; custom graph components live in bot/components/."""
