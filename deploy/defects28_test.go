package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"tollgate/api"
	"tollgate/internal/testkit/pulumimock"
	"tollgate/plans"
)

// Issue 28, defect 2: an HTTP API's body names it as the stack does: a
// re-import sets the API's name, description and version from the
// document's info (the mocks check it: pulumimock reimported).
func TestHTTPAPIDocumentNamesTheAPI(t *testing.T) {
	m, _ := mustRun(t, httpArgs(t))
	a := m.One(t, tHTTPAPI)
	var doc struct {
		Info map[string]string `json:"info"`
	}
	if err := json.Unmarshal([]byte(a.Str("body")), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Info["title"] != a.Str("name") || doc.Info["description"] != a.Str("description") || doc.Info["version"] != a.Str("version") || a.Str("version") == "" {
		t.Errorf("info %v; the API: name %q, description %q, version %q", doc.Info, a.Str("name"), a.Str("description"), a.Str("version"))
	}
}

// Issue 28, defect 3: switching apiType, both ways, replaces every Lambda
// permission (their source ARNs name the new API), and a replacement must
// not be created beside its predecessor under the same statement id,
// which Lambda refuses (pulumimock.Conflicts).
func TestSwitchingAPITypeConverges(t *testing.T) {
	rest := testArgs(t)
	http := testArgs(t)
	http.Archives = rest.Archives
	http.Definition.UseHTTP()
	before, _ := mustRun(t, rest)
	after, _ := mustRun(t, http)
	for _, c := range [][2]*mocks{{before, after}, {after, before}} {
		if conflicts := pulumimock.Conflicts(c[0], c[1]); len(conflicts) > 0 {
			t.Errorf("replacements Lambda would refuse:\n%s", strings.Join(conflicts, "\n"))
		}
	}
	replaced := 0
	for key, change := range pulumimock.Diff(before, after) {
		if strings.HasPrefix(key, tPermission) && change == pulumimock.Replace {
			replaced++
		}
	}
	if replaced == 0 {
		t.Error("no permission is replaced: the mocks' APIs share an id, and the switch shows nothing")
	}
}

// Issue 28, defect 4: 300 routes on one function (API Gateway's default
// resource quota per API) deploy within Lambda's 20 KB policy quota, with
// the function's permissions still limited to this API.
func TestThreeHundredRoutesOnOneFunction(t *testing.T) {
	for _, typ := range []api.APIType{api.REST, api.HTTP} {
		t.Run(string(typ), func(t *testing.T) {
			args := testArgs(t)
			if typ == api.HTTP {
				args.Definition.UseHTTP()
			}
			for i := range 300 {
				args.Definition.Routes = append(args.Definition.Routes, api.Route{Method: "GET", Path: fmt.Sprintf("/items%03d/{id}", i), Function: "handler", Protected: true})
			}
			m, _ := mustRun(t, args)
			size := m.PolicySize("tollgate-dev-handler")
			t.Logf("%s API, %d routes on one function: its policy is %d bytes of Lambda's %d", typ, len(args.Definition.Routes), size, pulumimock.LambdaPolicyQuota)
			exec := "arn:aws:execute-api:" + testRegion + ":" + testAccount + ":" + pulumimock.APIID
			if typ == api.HTTP {
				exec = "arn:aws:execute-api:" + testRegion + ":" + testAccount + ":" + pulumimock.HTTPAPIID
			}
			for _, p := range m.Of(tPermission) {
				if !strings.HasPrefix(p.Str("sourceArn"), exec+"/") {
					t.Errorf("permission %s: source %s is not limited to this API", p.Str("statementId"), p.Str("sourceArn"))
				}
			}
		})
	}
	// Routes whose statements fit keep one each, naming its method and path.
	args := testArgs(t)
	for i := range 30 {
		args.Definition.Routes = append(args.Definition.Routes, api.Route{Method: "GET", Path: fmt.Sprintf("/items%03d/{id}", i), Function: "handler", Protected: true})
	}
	m, _ := mustRun(t, args)
	if n := len(m.Of(tPermission)); n != len(args.Definition.Routes)+1 {
		t.Errorf("%d routes on one function: %d permissions, want one per route and the authorizer's", len(args.Definition.Routes), n)
	}
}

// Issue 28, defect 5: the REST API's import fails on warnings rather than
// leave out what the importer does not understand, and the document states
// the endpoint configuration an overwrite would otherwise reset.
func TestRESTImportFailsOnWarnings(t *testing.T) {
	m, _ := mustRun(t, testArgs(t))
	rest := m.One(t, tRestAPI)
	if rest.Inputs["failOnWarnings"] != true {
		t.Errorf("REST API failOnWarnings = %v, want true", rest.Inputs["failOnWarnings"])
	}
	var doc struct {
		Servers []map[string]any `json:"servers"`
	}
	if err := json.Unmarshal([]byte(rest.Str("body")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0]["x-amazon-apigateway-endpoint-configuration"] == nil {
		t.Errorf("the document's servers %v state no endpoint configuration", doc.Servers)
	}
}

// Issue 28, defect 7: turning usage plans on makes the new deployment
// require API keys; it goes live only after the authorizer's warm
// instances are replaced (its configuration changes with the plan), and
// the authorizer's new configuration only after the keyring holding the
// usage keys: so no caller is refused for want of a usage key while warm
// authorizers still hold the keyring without them.
func TestUsagePlanOnWaitsForTheAuthorizer(t *testing.T) {
	off, _ := mustRun(t, testArgs(t))
	args := testArgs(t)
	args.Plans = onePlan(plans.Plan{})
	on, _ := mustRun(t, args)
	env := func(m *mocks) map[string]any {
		return m.Named(t, tFunction, "tollgate-dev-authorizer").Obj("environment")["variables"].(map[string]any)
	}
	if env(off)[envUsagePlan] != nil || env(on)[envUsagePlan] != "1" {
		t.Errorf("the authorizer's %s: %v without a plan, %v with one; want unset, then 1", envUsagePlan, env(off)[envUsagePlan], env(on)[envUsagePlan])
	}
	dependsOn := func(r pulumimock.Resource, name string) bool {
		return slices.ContainsFunc(r.RPC.GetDependencies(), func(u string) bool { return strings.HasSuffix(u, "::"+name) })
	}
	if d := on.One(t, tDeployment); !dependsOn(d, "tollgate-dev-authorizer") {
		t.Errorf("the deployment does not wait for the authorizer: %v", d.RPC.GetDependencies())
	}
	if f := on.Named(t, tFunction, "tollgate-dev-authorizer"); !dependsOn(f, "tollgate-dev-keyring") || !slices.ContainsFunc(f.RPC.GetDependencies(), func(u string) bool { return strings.Contains(u, "secretVersion:SecretVersion::tollgate-dev-keyring") }) {
		t.Errorf("the authorizer does not wait for the keyring's new version: %v", f.RPC.GetDependencies())
	}
}

// envUsagePlan is the authorizer's variable that changes with the plan.
const envUsagePlan = "TOLLGATE_USAGE_PLAN"
