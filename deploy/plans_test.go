package deploy

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/testkit/pulumimock"
	"tollgate/plans"
)

// onePlan is a stack with one plan, free, every client's.
func onePlan(p plans.Plan) plans.Set {
	return plans.Set{Plans: map[string]plans.Plan{"free": p}, Default: "free"}
}

// twoPlans are the plans of the tests below: free, the default, with a
// quota per week and a throttle of its own on POST /orders; partner, for
// reports, with a quota per month.
func twoPlans() plans.Set {
	return plans.Set{Default: "free", Plans: map[string]plans.Plan{
		"free": {RateLimit: 2, BurstLimit: 4, Quota: &plans.Quota{Limit: 1000, Period: plans.Week},
			Routes: map[string]api.Throttle{"POST /orders": {RateLimit: 1, BurstLimit: 2}}},
		"partner": {RateLimit: 100, BurstLimit: 200, Quota: &plans.Quota{Limit: 1000000, Period: plans.Month}, Clients: []string{"reports"}},
	}}
}

// Issue 30: each plan is a usage plan on the stage, each client's API key
// is on its plan, and the keyring holds the key values the authorizer
// returns.
func TestPlans(t *testing.T) {
	args := testArgs(t)
	m, a := mustRun(t, args)
	if got := await[string](t, a.Usage); got != "" {
		t.Errorf("usage output without plans = %q, want none", got)
	}
	for _, typ := range []string{tUsagePlan, tAPIKey, tUsagePlanKey} {
		if n := len(m.Of(typ)); n != 0 {
			t.Errorf("%d %s without plans", n, typ)
		}
	}
	for _, k := range storedKeyring(t, m).Keys {
		if k.UsageKey != "" {
			t.Errorf("key %s has a usage key without plans", k.ID)
		}
	}

	args.Plans = twoPlans()
	m, a = mustRun(t, args)
	if got, want := await[string](t, a.Usage), "go run ./cmd/tollkeys usage -region eu-west-1 -api-id "+testAPIID+" -stage dev"; got != want {
		t.Errorf("usage output = %q, want %q", got, want)
	}
	if got := m.One(t, tRestAPI).Str("apiKeySource"); got != "AUTHORIZER" {
		t.Errorf("apiKeySource = %q, want AUTHORIZER", got)
	}
	byName := map[string]registered{}
	for _, p := range m.Of(tUsagePlan) {
		byName[p.Str("name")] = p
	}
	free, partner := byName["tollgate-dev-free"], byName["tollgate-dev-partner"]
	if len(byName) != 2 || free.ID == "" || partner.ID == "" {
		t.Fatalf("usage plans %v, want tollgate-dev-free and tollgate-dev-partner", maps.Keys(byName))
	}
	if q := free.Obj("quotaSettings"); q["limit"] != 1000.0 || q["period"] != "WEEK" {
		t.Errorf("free quota = %v", q)
	}
	if th := free.Obj("throttleSettings"); th["rateLimit"] != 2.0 || th["burstLimit"] != 4.0 {
		t.Errorf("free throttle = %v", th)
	}
	if q := partner.Obj("quotaSettings"); q["limit"] != 1000000.0 || q["period"] != "MONTH" {
		t.Errorf("partner quota = %v", q)
	}
	stages := free.Inputs["apiStages"].([]any)
	st, _ := stages[0].(map[string]any)
	if len(stages) != 1 || st["apiId"] != testAPIID || st["stage"] != "dev" {
		t.Errorf("free api stages = %v", stages)
	}
	throttles, _ := st["throttles"].([]any)
	if len(throttles) != 1 || throttles[0].(map[string]any)["path"] != "/orders/POST" || throttles[0].(map[string]any)["rateLimit"] != 1.0 {
		t.Errorf("free route throttles = %v, want /orders/POST at 1/s", throttles)
	}
	if _, has := partner.Inputs["apiStages"].([]any)[0].(map[string]any)["throttles"]; has {
		t.Error("partner has route throttles it does not declare")
	}
	// The default plan takes over the single plan of earlier versions.
	if len(free.RPC.GetAliases()) != 1 || len(partner.RPC.GetAliases()) != 0 {
		t.Errorf("aliases: free %v, partner %v; want the default plan aliased to the earlier usage-plan", free.RPC.GetAliases(), partner.RPC.GetAliases())
	}

	apiKeys := map[string]registered{}
	for _, k := range m.Of(tAPIKey) {
		apiKeys[k.ID] = k
		if !k.Secrets["value"] {
			t.Errorf("%s value is not secret", k.Name)
		}
	}
	kr := storedKeyring(t, m)
	usage := map[string]string{} // usage key → client
	for _, k := range kr.Keys {
		if len(k.UsageKey) < authorizer.MinUsageKeyLength {
			t.Errorf("key %s usage key too short", k.ID)
		}
		usage[k.UsageKey] = k.ID
	}
	wantPlan := map[string]string{"mobile": free.ID, "reports": partner.ID}
	planKeys := m.Of(tUsagePlanKey)
	if len(planKeys) != len(args.Clients) {
		t.Errorf("%d usage plan keys, want one per client", len(planKeys))
	}
	for _, pk := range planKeys {
		k, ok := apiKeys[pk.Str("keyId")]
		client := usage[k.Str("value")]
		if !ok || client == "" || pk.Str("usagePlanId") != wantPlan[client] || pk.Str("keyType") != "API_KEY" {
			t.Errorf("usage plan key %v: client %q, want its key on plan %s", pk.Inputs, client, wantPlan[client])
		}
		if !pk.RPC.GetDeleteBeforeReplace() {
			t.Errorf("%s: replaced create-first, which AWS refuses (one plan per stage)", pk.Name)
		}
	}

	body, _ := deployedDocument(t, m)
	var doc struct {
		Paths map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range args.Definition.Routes {
		op := doc.Paths[r.Path][strings.ToLower(r.Method)]
		keyRequired := false
		for _, req := range op.Security {
			if _, ok := req[api.APIKeySecurityScheme]; ok {
				keyRequired = true
			}
		}
		if keyRequired != r.Protected {
			t.Errorf("%s requires an API key: %v, want %v (protected methods only)", r, keyRequired, r.Protected)
		}
	}

	// Usage keys do not rotate with the keys: they name the client.
	args.Rotation = 1
	m2, _ := mustRun(t, args)
	if storedKeyring(t, m2).Keys[0].UsageKey != kr.Keys[0].UsageKey {
		t.Error("rotation changed a usage key")
	}
}

// Issue 30: moving a client to another plan replaces its key's
// association, deleting the old one first, and changes nothing else; a
// plan's numbers change in place.
func TestPlanUpdates(t *testing.T) {
	const (
		planKey = tUsagePlanKey + " tollgate-dev-usage-plan-key-"
		plan    = tUsagePlan + " tollgate-dev-plan-"
	)
	cases := []struct {
		name   string
		change func(s *plans.Set)
		want   map[string]pulumimock.Change
	}{
		{"move a client", func(s *plans.Set) {
			p := s.Plans["partner"]
			p.Clients = []string{"mobile", "reports"}
			s.Plans["partner"] = p
		}, map[string]pulumimock.Change{planKey + "mobile": pulumimock.Replace}},
		{"change a quota", func(s *plans.Set) {
			p := s.Plans["free"]
			p.Quota = &plans.Quota{Limit: 10, Period: plans.Day}
			s.Plans["free"] = p
		}, map[string]pulumimock.Change{plan + "free": pulumimock.Update}},
		{"add a route throttle", func(s *plans.Set) {
			p := s.Plans["partner"]
			p.Routes = map[string]api.Throttle{"GET /customers": {RateLimit: 5, BurstLimit: 5}}
			s.Plans["partner"] = p
		}, map[string]pulumimock.Change{plan + "partner": pulumimock.Update}},
		{"a new plan for a client", func(s *plans.Set) {
			s.Plans["gold"] = plans.Plan{RateLimit: 50, BurstLimit: 50, Clients: []string{"mobile"}}
		}, map[string]pulumimock.Change{plan + "gold": pulumimock.Create, planKey + "mobile": pulumimock.Replace}},
	}
	base := testArgs(t)
	base.Plans = twoPlans()
	before, _ := mustRun(t, base)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := testArgs(t)
			args.Archives = base.Archives
			args.Plans = twoPlans()
			tc.change(&args.Plans)
			after, _ := mustRun(t, args)
			checkUpdate(t, before, after, false, tc.want)
			checkUpdate(t, after, before, false, reverse(tc.want))
			for _, r := range after.Of(tUsagePlanKey) {
				if tc.want[tUsagePlanKey+" "+r.Name] == pulumimock.Replace && !r.RPC.GetDeleteBeforeReplace() {
					t.Errorf("%s replaced without deleting first", r.Name)
				}
			}
		})
	}
}
