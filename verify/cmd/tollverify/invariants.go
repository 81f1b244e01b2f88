package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"

	"tollgate/internal/testkit/property"
)

// The invariants step: the promises docs/security-model.md states, each a seeded property
// test that go test runs with a few dozen generated cases, run here with
// many more (property.EnvCases).

var invariants = []struct{ pkg, test, promise string }{
	{"./internal/emulator/gateway", "TestInvariantCacheNeverChangesAnAnswer",
		"the result cache never changes an answer, and no key or JWT passes its route limit (REST TOKEN and REQUEST, HTTP)"},
	{"./authorizer", "TestInvariantRemovedKeyBound",
		"no removed key is accepted past its bound, under freezes, thaws, deadlines and slow, failed and hung fetches"},
	{"./authorizer", "TestInvariantNewIssuerKeyBound",
		"a key an issuer publishes is accepted within 10 s, whatever made-up kids others send"},
	{"./authorizer", "TestInvariantSteadyTrafficNeverWaits",
		"with the extension, an environment invoked at least every TTL less the refresh margin never waits for a refresh"},
	{"./authorizer", "TestInvariantTableAnswersAsTheKeyring",
		"a key table answers every request as the keyring holding the same keys does: route limits, expiry, grace, disabled clients, unknown and malformed keys"},
	{"./internal/emulator/gateway", "TestInvariantPlanLimits",
		"a key on a usage plan never passes its quota in a period, nor its burst plus its rate over any span, and its quota resets at the period's end"},
}

// summaryRE reads the line property.Run logs: "property NAME: 40 cases,
// 0 failed; requests 2400, …".
var summaryRE = regexp.MustCompile(`property [^:]+: (\d+) cases, (\d+) failed(?:; (.*))?`)

func invariantsStep(ctx context.Context, root string, o options, b *strings.Builder) bool {
	ok := true
	fmt.Fprintf(b, "## Invariants\n\nEach promise as a property over generated cases (`%s=%d go test -run '^Test$' PKG`; go test runs a few dozen of each). A failing case names its seed (`%s`), which reproduces it.\n\n",
		property.EnvCases, o.invariantCases, property.EnvSeed)
	fmt.Fprintln(b, "| test | promise | cases | failed | what the cases did | result |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|")
	for _, inv := range invariants {
		env := []string{fmt.Sprintf("%s=%d", property.EnvCases, o.invariantCases)}
		out, err := goCmd(ctx, root, env, "test", "-count=1", "-v", "-run", "^"+inv.test+"$", inv.pkg)
		cases, failed, did := "?", "?", ""
		if m := summaryRE.FindSubmatch(out); m != nil {
			cases, failed, did = string(m[1]), string(m[2]), string(m[3])
		}
		result := "passed"
		if err != nil {
			result, ok = "**FAILED**", false
			fmt.Fprintf(os.Stderr, "%s %s:\n%s", inv.pkg, inv.test, lastLines(out, 40))
		}
		fmt.Fprintf(b, "| %s `%s` | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(inv.pkg, "./"), inv.test, inv.promise, cases, failed, did, result)
	}
	fmt.Fprintln(b)
	return ok
}
