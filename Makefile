# Developer entry points. CI runs `make test` through .ci/run.

.PHONY: run build test bench lint

run:
	go run ./cmd/scimgate serve

build:
	go build -o bin/scimgate ./cmd/scimgate

# TEST_DEPS is the hook for test prerequisites.
# test dependencies (samba, postgres) are installed by scripts/ once sources need them
TEST_DEPS :=

# -race needs cgo, which go-sqlite3 needs anyway.
test: $(TEST_DEPS)
	go vet ./...
	go test -race -count=1 ./...

bench:
	go test -run '^$$' -bench . -benchmem ./...

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l reports:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
