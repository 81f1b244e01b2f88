# Builds tollgate's Lambda functions as `bootstrap` binaries for the
# provided.al2023 runtime, for both Lambda architectures, and runs the
# measurements. `make` or `make help` lists the targets: each is the
# `##` comment on its line.

.DEFAULT_GOAL := help

FUNCTIONS := authorizer handler
ARCHES    := arm64 amd64
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -buildvcs=false -ldflags="-s -w -buildid="

BINARIES := $(foreach a,$(ARCHES),$(foreach f,$(FUNCTIONS),dist/linux-$(a)/$(f)/bootstrap))

.PHONY: help lambdas sizes bench verify testtimes clean
help: ## list the targets
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  make %-8s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

lambdas: $(BINARIES) ## dist/linux-{arm64,amd64}/{authorizer,handler}/bootstrap

# Always rebuilt: go build is incremental and knows the real dependencies.
.PHONY: $(BINARIES)
$(BINARIES): dist/linux-%/bootstrap:
	@mkdir -p $(@D)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(word 1,$(subst /, ,$*)) \
		go build $(GOFLAGS_LAMBDA) -o $@ ./cmd/$(word 2,$(subst /, ,$*))

sizes: lambdas ## the size of each binary, in bytes
	@for b in $(BINARIES); do printf '%10d  %s\n' $$(stat -c %s $$b) $$b; done

bench: ## tollgate beside its peers, warm and cold (bench/README.md)
	go run ./bench/cmd/tollbench

verify: ## timing, fuzzing, faults and load; figures into VERIFY.md
	go run ./verify/cmd/tollverify -update

testtimes: ## how long the tests take, cold and warm (README's "The tests")
	go run ./verify/cmd/testtimes

clean: ## remove dist/ and the tests' lasting builds (.tollgate/testbin)
	rm -rf dist .tollgate/testbin
