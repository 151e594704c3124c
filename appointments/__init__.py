"""Appointments (Cita Médica): the affiliate registry, the schedule, the booking rules and their
API. The bot's booking dialogue calls the API (actions/)."""
