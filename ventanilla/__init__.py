"""Ventanilla: settings, command line, process supervisor and shared database plumbing."""
