# Developer entry points. CI runs `make test` through .ci/run.

.PHONY: run build test fuzz bench bench-ldap lint

# run builds first, so the server starts at once and later runs, tokens
# and CLI calls (bin/scimgate ...) reuse the binary instead of compiling
# it again; the first build compiles SQLite and takes a while, so it says so.
run: build
	@echo "make run: starting bin/scimgate serve (on :8080 and ./scimgate.db unless SCIMGATE_LISTEN, SCIMGATE_DB say otherwise; Ctrl-C stops it)"
	bin/scimgate serve

build:
	@echo "make: building bin/scimgate (the first build compiles SQLite: a minute or two)"
	go build -o bin/scimgate ./cmd/scimgate

# TEST_DEPS is the hook for test prerequisites.
TEST_DEPS :=
# TEST_ENV wraps the one `go test` run with the integration labs: it
# installs and starts the Samba AD lab when it can (root + apt), passes its
# details in SCIMGATE_TEST_LDAP_*, stops it afterwards even when tests fail,
# and keeps go test's exit status. Elsewhere the LDAP tests skip and one
# line says why. See scripts/test-env.sh.
TEST_ENV := scripts/test-env.sh
# PG_ENV does the same for a throwaway PostgreSQL (root + apt, cluster in a
# temporary folder, loopback only): it sets SCIMGATE_TEST_POSTGRES, so the
# store's conformance suite and the replica tests also run on PostgreSQL,
# and removes the server afterwards. Elsewhere one line says they skip.
# See scripts/postgres.sh.
PG_ENV := scripts/postgres.sh run
# CHROMIUM_ENV installs Debian's chromium when it is missing (root + apt)
# and passes its path in SCIMGATE_TEST_CHROMIUM for the console's browser
# tests; elsewhere one line says they skip. See scripts/chromium.sh.
CHROMIUM_ENV := scripts/chromium.sh run

# -race needs cgo, which go-sqlite3 needs anyway.
test: $(TEST_DEPS)
	go vet ./...
	$(PG_ENV) $(CHROMIUM_ENV) $(TEST_ENV) go test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz

# Every fuzz target runs as a plain test (its seed corpus) in `go test`;
# here each also fuzzes for FUZZTIME. Failing inputs land in testdata/fuzz.
FUZZTIME ?= 5s
FUZZ_TARGETS := ./scim:FuzzFilterCompile ./scim:FuzzPatchPipeline \
	./api:FuzzPatchUser ./api:FuzzPatchGroup ./api:FuzzListUsersFilter \
	./scim:FuzzBlankedParse ./scim:FuzzValidatePatchAsLibrary ./scim/strictjson:FuzzDecodeBody \
	./sources/ldap:FuzzDecodeValue \
	./sources/csv:FuzzReadCSV
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

bench:
	go test -run '^$$' -bench . -benchmem ./...

# The LDAP source against 10,000 users and 500 groups in the Samba AD lab,
# next to ldapsearch's own export rate (seeding takes a few minutes).
bench-ldap:
	SCIMGATE_LAB_USERS=10000 SCIMGATE_LAB_TEAMS=492 SCIMGATE_LAB_EXCLUSIVE=1 SCIMGATE_LDAP_BENCH=1 \
		$(TEST_ENV) go test -run '^TestLabBenchmark$$' -count=1 -v -timeout 30m ./sources/ldap/

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l reports:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
