# challengectl — build, test and tool targets. `make test` is what CI runs.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/.bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X github.com/challengectl/challengectl/internal/app.version=$(VERSION) \
	-X github.com/challengectl/challengectl/internal/app.commit=$(COMMIT) \
	-X github.com/challengectl/challengectl/internal/app.date=$(DATE)

.PHONY: all build local ci-local test unit race fmt-check vet lint tools bench clean

all: build

## build: the challengectl binary into .bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/challengectl ./cmd/challengectl

## ci-local: the whole pipeline on this machine (build, local stack, smoke, loadtest)
ci-local:
	$(GO) run ./cmd/challengectl ci --target local

## tools: pinned test tools (OpenTofu, aws-lambda-rie, kumo) into .bin/
tools: $(BIN)/tofu $(BIN)/aws-lambda-rie $(BIN)/kumo

$(BIN)/tofu: tools/tofu/go.mod tools/tofu/go.sum
	cd tools/tofu && $(GO) build -o $(BIN)/tofu -ldflags "-X github.com/opentofu/opentofu/version.dev=no" github.com/opentofu/opentofu/cmd/tofu

$(BIN)/aws-lambda-rie: tools/rie/go.mod tools/rie/go.sum
	cd tools/rie && $(GO) build -o $(BIN)/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

$(BIN)/kumo: tools/kumo/go.mod tools/kumo/go.sum
	cd tools/kumo && $(GO) build -o $(BIN)/kumo github.com/sivchari/kumo/cmd/kumo

## fmt-check: fail when gofmt or tofu fmt would change a file
fmt-check: $(BIN)/tofu
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(BIN)/tofu fmt -check -recursive terraform

vet:
	$(GO) vet ./...

## lint: staticcheck and actionlint (the GitHub workflows), pinned in tools/
lint: $(BIN)/staticcheck $(BIN)/actionlint
	$(BIN)/staticcheck ./...
	$(BIN)/actionlint .github/workflows/*.yaml

$(BIN)/actionlint: tools/actionlint/go.mod tools/actionlint/go.sum
	cd tools/actionlint && $(GO) build -o $(BIN)/actionlint github.com/rhysd/actionlint/cmd/actionlint

$(BIN)/staticcheck: tools/staticcheck/go.mod tools/staticcheck/go.sum
	cd tools/staticcheck && $(GO) build -o $(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck

## test: everything CI checks
test: fmt-check vet lint tools
	CHALLENGECTL_REQUIRE_TOOLS=1 $(GO) test -count=1 -timeout 15m ./...

## race: the tests under the race detector (needs a C compiler). Not part of
## `test`: kumo, run in-process by several tests, has intermittent races of
## its own.
race: tools
	CHALLENGECTL_REQUIRE_TOOLS=1 $(GO) test -race -count=1 -timeout 20m ./...

## unit: the tests alone, with whatever tools are already built
unit:
	$(GO) test ./...

## bench: the benchmarks recorded in BENCHMARKS.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN) dist
