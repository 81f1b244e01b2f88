package deploy

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"tollgate/api"
	"tollgate/internal/testkit/pulumimock"
	"tollgate/plans"
)

// updateBase is the stack the updates start from: the default API with a
// path parameter, two clients.
func updateBase(t *testing.T) Args {
	args := testArgs(t)
	args.Definition.Routes = append(slices.Clone(args.Definition.Routes), api.Route{Method: "GET", Path: "/orders/{id}", Function: "handler", Protected: true})
	return args
}

// Updates that work: each change is diffed as `pulumi up` would diff it
// (pulumimock.Diff, with the provider's ForceNew properties). A change to
// the API yields a new deployment of exactly the new document and
// nothing else does; no replacement is one AWS would refuse
// (pulumimock.Conflicts); the functions and the REST API are never
// replaced.
func TestUpdates(t *testing.T) {
	type want struct {
		redeploy bool
		changes  map[string]pulumimock.Change // besides the deployment's and the REST API's
	}
	const (
		pw      = "random:index/randomPassword:RandomPassword "
		version = "aws:secretsmanager/secretVersion:SecretVersion tollgate-dev-keyring"
		perm    = "aws:lambda/permission:Permission tollgate-dev-"
		authz   = "aws:lambda/function:Function tollgate-dev-authorizer"
	)
	getOrder := api.Route{Method: "GET", Path: "/orders/{id}"}
	renamed := api.Route{Method: "GET", Path: "/orders/{orderId}"}
	more := api.Route{Method: "PUT", Path: "/more", Function: "handler", Protected: true}
	cases := []struct {
		name   string
		change func(a *Args)
		want   want
	}{
		// A first rotation creates each client's slot b (its new key) and
		// keeps slot a (the key it replaces).
		{"rotate", func(a *Args) { a.Rotation++ }, want{changes: map[string]pulumimock.Change{
			pw + "tollgate-dev-key-mobile-b": pulumimock.Create, pw + "tollgate-dev-key-reports-b": pulumimock.Create, version: pulumimock.Replace}}},
		{"rotate one client with grace", func(a *Args) {
			a.Rotations = map[string]Rotation{"reports": {N: 1, PreviousUntil: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}}
		}, want{changes: map[string]pulumimock.Change{pw + "tollgate-dev-key-reports-b": pulumimock.Create, version: pulumimock.Replace}}},
		{"add a client", func(a *Args) { a.Clients = append(slices.Clone(a.Clients), "web") }, want{changes: map[string]pulumimock.Change{
			pw + "tollgate-dev-key-web": pulumimock.Create, version: pulumimock.Replace}}},
		{"remove a client", func(a *Args) { a.Clients = a.Clients[:1] }, want{changes: map[string]pulumimock.Change{
			pw + "tollgate-dev-key-reports": pulumimock.Delete, version: pulumimock.Replace}}},
		{"add a route", func(a *Args) { a.Definition.Routes = append(a.Definition.Routes, more) }, want{redeploy: true, changes: map[string]pulumimock.Change{
			perm + statementID(more): pulumimock.Create}}},
		{"remove a route", func(a *Args) { a.Definition.Routes = a.Definition.Routes[:len(a.Definition.Routes)-1] }, want{redeploy: true, changes: map[string]pulumimock.Change{
			perm + statementID(getOrder): pulumimock.Delete}}},
		{"rename a path parameter", func(a *Args) { a.Definition.Routes[len(a.Definition.Routes)-1].Path = renamed.Path }, want{redeploy: true, changes: map[string]pulumimock.Change{
			perm + statementID(getOrder): pulumimock.Delete, perm + statementID(renamed): pulumimock.Create}}},
		{"change the TTL", func(a *Args) { a.Definition.Authorizer.ResultTTL = time.Minute }, want{redeploy: true}},
		{"switch to REQUEST", func(a *Args) {
			a.Definition.Authorizer.Type, a.Definition.Authorizer.ValidationRegex = api.Request, ""
			a.Definition.Authorizer.IdentitySources = []string{"method.request.header.X-Api-Key"}
		}, want{redeploy: true, changes: map[string]pulumimock.Change{authz: pulumimock.Update}}},
		{"plans on", func(a *Args) { a.Plans = onePlan(plans.Plan{}) }, want{redeploy: true, changes: map[string]pulumimock.Change{
			"aws:apigateway/usagePlan:UsagePlan tollgate-dev-plan-free": pulumimock.Create,
			"aws:apigateway/apiKey:ApiKey tollgate-dev-api-key-mobile":  pulumimock.Create, "aws:apigateway/apiKey:ApiKey tollgate-dev-api-key-reports": pulumimock.Create,
			"aws:apigateway/usagePlanKey:UsagePlanKey tollgate-dev-usage-plan-key-mobile":  pulumimock.Create,
			"aws:apigateway/usagePlanKey:UsagePlanKey tollgate-dev-usage-plan-key-reports": pulumimock.Create,
			pw + "tollgate-dev-usage-key-mobile":                                           pulumimock.Create, pw + "tollgate-dev-usage-key-reports": pulumimock.Create,
			// Its warm instances replaced, before the deployment that
			// requires the usage keys (issue 28, defect 7).
			authz:   pulumimock.Update,
			version: pulumimock.Replace}}},
	}
	// Undoing these is refused: a rotation is one way (issue 26, defect 4).
	oneWay := map[string]bool{"rotate": true, "rotate one client with grace": true}
	base := updateBase(t)
	before, _ := mustRun(t, base)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := updateBase(t)
			args.Archives = base.Archives
			args.Definition.Routes = slices.Clone(args.Definition.Routes)
			tc.change(&args)
			after, _ := mustRun(t, args)
			checkUpdate(t, before, after, tc.want.redeploy, tc.want.changes)
			if !oneWay[tc.name] {
				// And back again, as an operator undoing it would.
				checkUpdate(t, after, before, tc.want.redeploy, reverse(tc.want.changes))
				return
			}
			// Back again would make the key rotated out current again:
			// refused, against the generations the rotation deployed.
			back := updateBase(t)
			back.Archives = base.Archives
			back.DeployedGenerations = map[string]int{}
			for _, c := range args.Clients {
				back.DeployedGenerations[c] = args.generation(c)
			}
			if m, _, err := run(t, back); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "a rotation cannot be undone") || len(m.Resources) != 0 {
				t.Errorf("undoing it: %v (%d resources), want a configuration error before any resource", err, len(m.Resources))
			}
		})
	}
}

// reverse is changes undone.
func reverse(changes map[string]pulumimock.Change) map[string]pulumimock.Change {
	out := maps.Clone(changes)
	for k, c := range out {
		switch c {
		case pulumimock.Create:
			out[k] = pulumimock.Delete
		case pulumimock.Delete:
			out[k] = pulumimock.Create
		}
	}
	return out
}

func checkUpdate(t *testing.T, before, after *mocks, redeploy bool, want map[string]pulumimock.Change) {
	t.Helper()
	if c := pulumimock.Conflicts(before, after); len(c) > 0 {
		t.Errorf("replacements AWS would refuse:\n%s", strings.Join(c, "\n"))
	}
	diff := pulumimock.Diff(before, after)
	const (
		deployment = tDeployment + " tollgate-dev-deployment"
		restAPI    = tRestAPI + " tollgate-dev-api"
	)
	if redeploy {
		if diff[deployment] != pulumimock.Replace || diff[restAPI] != pulumimock.Update {
			t.Errorf("deployment %q, REST API %q: want a new deployment of the REST API updated in place", diff[deployment], diff[restAPI])
		}
		body, _ := deployedDocument(t, after)
		if got := after.One(t, tDeployment).Obj("triggers")["document"]; got != api.DocumentHash([]byte(body)) {
			t.Errorf("the new deployment's trigger %v is not the new document's hash", got)
		}
	} else if diff[deployment] != "" || diff[restAPI] != "" {
		t.Errorf("deployment %q, REST API %q: the API did not change, nothing should be redeployed", diff[deployment], diff[restAPI])
	}
	delete(diff, deployment)
	delete(diff, restAPI)
	// The stage follows its deployment.
	if redeploy && diff[tStage+" tollgate-dev-stage"] == pulumimock.Update {
		delete(diff, tStage+" tollgate-dev-stage")
	}
	if !maps.Equal(diff, want) {
		t.Errorf("changes =\n%v\nwant\n%v", diff, want)
	}
	for key, c := range diff {
		if strings.HasPrefix(key, tFunction) && c == pulumimock.Replace {
			t.Errorf("%s replaced", key)
		}
	}
}
