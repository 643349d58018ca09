# The two commands of the README:  make book   and   make test
PY := .venv/bin/python
export PYTHONHASHSEED := 0

.PHONY: env book test test-full smoke build clean

env:
	@./scripts/setup-env.sh

## Run every chapter with the `book` profile (unchanged chapters are skipped) and build _build/html.
book: env
	$(PY) -m lib.runner book --profile book

## Unit tests, every chapter executed once with the `smoke` profile (checked as executed), a smoke build of the book.
test: env
	@./scripts/setup-browser.sh
	$(PY) -m pytest -q --durations=15

## Every chapter's `full` profile on small fixtures in the official datasets' layouts, one chapter at a time,
## then a pass/fail + time table (CHAPTERS="02 05" picks chapters; TIMEOUT=seconds per chapter, default 300).
test-full: env
	$(PY) scripts/make-official-fixtures.py test-full $(if $(CHAPTERS),--chapters $(CHAPTERS)) --timeout $(or $(TIMEOUT),300)

clean:
	rm -rf _build runs book/executed/smoke book/results/smoke
