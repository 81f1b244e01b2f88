# Builds tollgate's Lambda functions as `bootstrap` binaries for the
# provided.al2023 runtime, for both Lambda architectures.
#
#   make lambdas    dist/linux-{arm64,amd64}/{authorizer,handler}/bootstrap
#   make sizes      the size of each binary, in bytes
#   make bench      tollgate beside its peers, warm and cold (bench/README.md)
#   make verify     timing, fuzzing, faults and load; figures into VERIFY.md
#   make clean

FUNCTIONS := authorizer handler
ARCHES    := arm64 amd64
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -buildvcs=false -ldflags="-s -w -buildid="

BINARIES := $(foreach a,$(ARCHES),$(foreach f,$(FUNCTIONS),dist/linux-$(a)/$(f)/bootstrap))

.PHONY: lambdas sizes bench verify clean
lambdas: $(BINARIES)

# Always rebuilt: go build is incremental and knows the real dependencies.
.PHONY: $(BINARIES)
$(BINARIES): dist/linux-%/bootstrap:
	@mkdir -p $(@D)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(word 1,$(subst /, ,$*)) \
		go build $(GOFLAGS_LAMBDA) -o $@ ./cmd/$(word 2,$(subst /, ,$*))

sizes: lambdas
	@for b in $(BINARIES); do printf '%10d  %s\n' $$(stat -c %s $$b) $$b; done

bench:
	go run ./bench/cmd/tollbench

verify:
	go run ./verify/cmd/tollverify -update

clean:
	rm -rf dist
