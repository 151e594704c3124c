"""Local fakes of what the gateway talks to (the providers' APIs, Rasa at the HTTP layer), served
on loopback: for the tests and benchmarks where the provider cannot be reached. Each speaks the
real HTTP API, so the real SDKs (`python-telegram-bot`, `twilio`) and the real signatures are
used against it."""
