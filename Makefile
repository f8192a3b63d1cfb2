# The two commands README.md promises: `make run` and `make test`.
.PHONY: run test bench fuzz load

run:
	go run ./cmd/chatpay

# Postgres-backed tests skip when 127.0.0.1:5432 is unreachable, unless
# CHATPAY_REQUIRE_SERVICES=1 (as in CI), which turns a missing service into a failure.
test:
	go test -count=1 -race -timeout 20m ./...

bench:
	go test -run '^$$' -bench . -benchmem ./...

# Each fuzz target for 20 s (go test -fuzz runs one target per invocation).
fuzz:
	@for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done
