package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"tollgate/deploy"
	"tollgate/deploy/iampolicy"
)

// The deploying identity's policy (go run ./cmd/iampolicy) covers every
// resource type and invoke of the dev stack's plans, REST and HTTP, and
// of a stack with every optional resource (a usage plan, reserved
// concurrency, the key table); and it lists no type the program never registers.
func TestDeployerPolicyCoversThePlans(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both functions")
	}
	registered := map[string]bool{}
	for _, extra := range []map[string]string{
		nil,
		{"tollgate:apiType": "http", "tollgate:plans": "{}", "tollgate:defaultPlan": ""},
		{"tollgate:authorizerReservedConcurrency": "10", "tollgate:throttleRateLimit": "20", "tollgate:alarmEmail": "ops@example.com"},
		{"tollgate:keyStore": "dynamodb"},
	} {
		cfg := devStack(t)
		maps.Copy(cfg, extra)
		m, _, _, err := runProgram(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range m.Resources {
			registered[r.Type] = true
		}
		for _, tok := range m.Invokes {
			registered[tok] = true
		}
		if len(m.StackReads) > 0 { // the mocks answer stack references apart
			registered["pulumi:pulumi:StackReference"] = true
		}
	}
	delete(registered, deploy.TypeToken) // the component: no AWS call
	covered := iampolicy.DeployerTypes()
	for _, typ := range slices.Sorted(maps.Keys(registered)) {
		if !slices.Contains(covered, typ) {
			t.Errorf("the program registers %s, which iampolicy.DeployerNeeds does not cover", typ)
		}
	}
	for _, typ := range covered {
		if !registered[typ] {
			t.Errorf("iampolicy.DeployerNeeds covers %s, which no plan registers", typ)
		}
	}
	t.Logf("%d types and invokes: %s", len(registered), strings.Join(slices.Sorted(maps.Keys(registered)), ", "))
}
