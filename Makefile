# The two commands a newcomer needs: `make run` and `make test`.
.PHONY: run test setup setup-test lint bench-nlu fuzz lock

run: setup
	.venv/bin/ventanilla run

test: setup-test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	.venv/bin/pytest

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench-nlu: setup
	.venv/bin/ventanilla bench nlu

# The API fuzz, longer than the one in `make test`: every operation as every role (ventanilla/fuzz.py)
fuzz: setup-test
	.venv/bin/ventanilla fuzz --examples 25

# Re-freeze both environments after changing requirements/*.in
lock:
	scripts/lock.sh
