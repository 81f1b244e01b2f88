package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// The tests step: the fault, bad-input and end-to-end tests, with -race.

var verifyTests = []struct{ pkg, pattern, what string }{
	{"./authorizer", "^(TestBadInput|TestBadSecret|TestOtherPartitions|TestLenientSchemeForms)$", "bad tokens, headers, events and secrets at the authorizer"},
	{"./internal/emulator/gateway", "^(TestBadRequests)$", "the same at the front door, through net/http and the gateway"},
	{"./authorizer", "^(TestSecretsManagerFaults)$", "Secrets Manager slow, 500, throttling, malformed, refusing; cold and on refresh"},
	{"./api", "^(TestAuthorizerTimeoutsNest)$", "fetch timeout < function timeout <= API Gateway's 10 s"},
	{"./internal/emulator/local", "^(TestAuthorizerCrashes|TestAuthorizerKilledUnderLoad|TestAuthorizerHangs|TestSecretsEndpointDownThenBack)$", "the authorizer's process killed or hung, Secrets Manager down, with the real binaries"},
}

var passRE = regexp.MustCompile(`(?m)^\s*--- PASS: (\S+)`)

func tests(ctx context.Context, root string, o options, b *strings.Builder) bool {
	ok := true
	fmt.Fprintln(b, "## Bad input and faults\n\nEach a test in the quick run too (`go test -race ./...`); here run again, with `-race`.\n\n| tests | what | passed | result |\n|---|---|---|---|")
	for _, t := range verifyTests {
		out, err := goCmd(ctx, root, []string{"TOLLGATE_REQUIRE_MOTO=1"}, "test", "-race", "-count=1", "-v", "-run", t.pattern, t.pkg)
		passed := len(passRE.FindAll(out, -1))
		result := "passed"
		if err != nil {
			result, ok = "**FAILED**", false
			fmt.Fprintf(os.Stderr, "%s %s:\n%s", t.pkg, t.pattern, lastLines(out, 40))
		}
		fmt.Fprintf(b, "| %s `%s` | %s | %d (with subtests) | %s |\n", strings.TrimPrefix(t.pkg, "./"), strings.Trim(t.pattern, "^$()"), t.what, passed, result)
	}
	fmt.Fprintln(b)
	return ok
}
