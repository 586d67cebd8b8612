# The two commands: `make run` (whole stack with demo data) and `make test` (every test).
.PHONY: setup run test test-fast bench bench-smoke lint clean

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/pitlane run --demo

test: setup
	.venv/bin/python -m pytest -p no:cacheprovider

test-fast: setup
	.venv/bin/python -m pytest -p no:cacheprovider tests/unit

bench: setup
	.venv/bin/python -m bench

clean:
	rm -rf .test-logs .pytest_cache
