# The two commands of the README:  make book   and   make test
PY := .venv/bin/python
export PYTHONHASHSEED := 0

.PHONY: env book test smoke build clean

env:
	@./scripts/setup-env.sh

## Run every chapter with the `book` profile (unchanged chapters are skipped) and build _build/html.
book: env
	$(PY) -m lib.runner book --profile book

## Unit tests, every chapter with the `smoke` profile + nbval, and a smoke build of the book.
test: env
	@./scripts/setup-browser.sh
	$(PY) -m pytest -q

clean:
	rm -rf _build runs book/executed/smoke book/results/smoke
