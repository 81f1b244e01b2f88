package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/testkit/pulumimock"
	"tollgate/plans"
)

// Resource types, as the AWS and random providers name them.
const (
	tSecret        = "aws:secretsmanager/secret:Secret"
	tSecretVersion = "aws:secretsmanager/secretVersion:SecretVersion"
	tPassword      = "random:index/randomPassword:RandomPassword"
	tRole          = "aws:iam/role:Role"
	tRolePolicy    = "aws:iam/rolePolicy:RolePolicy"
	tAttachment    = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tLogGroup      = "aws:cloudwatch/logGroup:LogGroup"
	tFunction      = "aws:lambda/function:Function"
	tPermission    = "aws:lambda/permission:Permission"
	tRestAPI       = "aws:apigateway/restApi:RestApi"
	tDeployment    = "aws:apigateway/deployment:Deployment"
	tStage         = "aws:apigateway/stage:Stage"
	tMethodSetting = "aws:apigateway/methodSettings:MethodSettings"
	tUsagePlan     = "aws:apigateway/usagePlan:UsagePlan"
	tAPIKey        = "aws:apigateway/apiKey:ApiKey"
	tUsagePlanKey  = "aws:apigateway/usagePlanKey:UsagePlanKey"
	tAccount       = "aws:apigateway/account:Account"
)

// secretARN is the keyring secret's ARN: its name is autonamed.
var secretARN = "arn:aws:secretsmanager:" + testRegion + ":" + testAccount + ":secret:" + pulumimock.Autonamed("tollgate-dev-keyring") + "-AbCdEf"

// storedKeyring is the keyring the secret version holds, parsed as the
// authorizer parses it.
func storedKeyring(t *testing.T, m *mocks) authorizer.Keyring {
	t.Helper()
	v := m.One(t, tSecretVersion)
	kr, err := authorizer.ParseKeyring([]byte(v.Str("secretString")))
	if err != nil {
		t.Fatalf("the secret holds a keyring the authorizer refuses: %v", err)
	}
	return kr
}

// Promise 1: a secret and a version holding the keyring, digests only: a
// generated tollgate key per client unless a digest is supplied.
func TestSecretHoldsTheKeyring(t *testing.T) {
	args := testArgs(t)
	supplied := authorizer.Digest("tgk_supplied_elsewhere")
	args.KeyDigests = map[string]string{"reports": supplied}
	args.Routes = map[string][]string{"reports": {"GET /customers"}}
	m, a := mustRun(t, args)

	secret := m.One(t, tSecret)
	if got := secret.Inputs["recoveryWindowInDays"]; got != 0.0 {
		t.Errorf("recoveryWindowInDays = %v, want 0 so destroy and up can follow each other", got)
	}
	if _, ok := secret.Inputs["kmsKeyId"]; ok {
		t.Error("kmsKeyId set without a customer key")
	}
	v := m.One(t, tSecretVersion)
	if v.Str("secretId") != secretARN {
		t.Errorf("version's secretId = %q, want the secret %q", v.Str("secretId"), secretARN)
	}
	if !v.Secrets["secretString"] {
		t.Error("the keyring is not a secret in the state")
	}
	kr := storedKeyring(t, m)
	var ids []string
	for _, k := range kr.Keys {
		ids = append(ids, k.ID)
		if k.Key != "" || len(k.SHA256) != 64 {
			t.Errorf("key %s: the keyring holds %q, %q; want a digest only", k.ID, k.Key, k.SHA256)
		}
	}
	if !slices.Equal(ids, []string{"mobile", "reports"}) {
		t.Errorf("keyring ids = %q, want one key per client", ids)
	}
	if kr.Keys[1].SHA256 != supplied {
		t.Error("the supplied digest was not used")
	}
	if !slices.Equal(kr.Keys[1].Routes, []string{"GET /customers"}) || kr.Keys[0].Routes != nil {
		t.Errorf("routes = %q, %q; want reports limited to GET /customers", kr.Keys[0].Routes, kr.Keys[1].Routes)
	}
	pws := m.Of(tPassword)
	if len(pws) != 1 || pws[0].Name != "tollgate-dev-key-mobile" {
		t.Fatalf("random passwords = %v, want one, for mobile only", pws)
	}
	if pws[0].Inputs["length"] != 32.0 || pws[0].Inputs["special"] != false {
		t.Errorf("password inputs = %v, want 32 letters and digits", pws[0].Inputs)
	}
	keys := await[map[string]string](t, a.APIKeys)
	if len(keys) != 1 || !authorizer.CheckKey(keys["mobile"]) || authorizer.Digest(keys["mobile"]) != kr.Keys[0].SHA256 {
		t.Errorf("APIKeys = %v: want mobile's tollgate key, whose digest the keyring holds", keys)
	}
	// A generated key passes the default validation regex as a Bearer
	// token: API Gateway lets it reach the authorizer.
	if !regexp.MustCompile(api.BearerRegex).MatchString("Bearer " + keys["mobile"]) {
		t.Errorf("a generated key does not match the validation regex %s", api.BearerRegex)
	}
}

// Expiry and disabling reach the keyring, per client.
func TestExpiryAndDisabling(t *testing.T) {
	args := testArgs(t)
	end := time.Date(2027, 6, 30, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	args.Expiry = map[string]time.Time{"reports": end}
	args.Disabled = []string{"mobile"}
	m, _ := mustRun(t, args)
	kr := storedKeyring(t, m)
	if !kr.Keys[0].Disabled || kr.Keys[0].Expires != nil || kr.Keys[1].Disabled || kr.Keys[1].Expires == nil || !kr.Keys[1].Expires.Equal(end) {
		t.Errorf("keyring = %+v, want mobile disabled and reports expiring at %s", kr.Keys, end)
	}
}

func TestSecretSettings(t *testing.T) {
	args := testArgs(t)
	args.RecoveryWindowInDays = 7
	args.KMSKeyARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	m, _ := mustRun(t, args)
	secret := m.One(t, tSecret)
	if secret.Inputs["recoveryWindowInDays"] != 7.0 || secret.Str("kmsKeyId") != args.KMSKeyARN {
		t.Errorf("secret inputs = %v, want a 7-day window and the customer key", secret.Inputs)
	}
}

// Promise 1, rotation: rotating one client replaces only its current
// slot; its key before that is kept as its previous key until
// PreviousUntil; other clients' keys and slots are untouched; the same
// rotation again changes nothing.
func TestRotationPerClientWithGrace(t *testing.T) {
	args := testArgs(t)
	m0, a0 := mustRun(t, args)
	keys0 := await[map[string]string](t, a0.APIKeys)

	until := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	args.Rotations = map[string]Rotation{"mobile": {N: 1, PreviousUntil: until}}
	m1, a1 := mustRun(t, args)
	keys1 := await[map[string]string](t, a1.APIKeys)
	kr0, kr1 := storedKeyring(t, m0), storedKeyring(t, m1)
	if keys1["mobile"] == keys0["mobile"] || kr1.Keys[0].SHA256 != authorizer.Digest(keys1["mobile"]) {
		t.Error("mobile's key did not change with its rotation")
	}
	if p := kr1.Keys[0].Previous; len(p) != 1 || p[0].SHA256 != kr0.Keys[0].SHA256 || !p[0].Until.Equal(until) {
		t.Errorf("mobile's previous keys = %+v, want its old key until %s", p, until)
	}
	if keys1["reports"] != keys0["reports"] || kr1.Keys[1].SHA256 != kr0.Keys[1].SHA256 || kr1.Keys[1].Previous != nil {
		t.Error("rotating mobile changed reports' key")
	}
	names := map[string]string{}
	for _, pw := range m1.Of(tPassword) {
		names[pw.Name] = pw.Obj("keepers")["rotation"].(string)
	}
	want := map[string]string{"tollgate-dev-key-mobile": "0", "tollgate-dev-key-mobile-b": "1", "tollgate-dev-key-reports": "0"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("passwords and their rotation keepers = %v, want %v", names, want)
	}

	// The next rotation replaces slot a, and slot b (the key before) is
	// the previous key now; without PreviousUntil it is not listed.
	args.Rotations = map[string]Rotation{"mobile": {N: 2}}
	m2, a2 := mustRun(t, args)
	keys2 := await[map[string]string](t, a2.APIKeys)
	if kr2 := storedKeyring(t, m2); kr2.Keys[0].Previous != nil || kr2.Keys[0].SHA256 != authorizer.Digest(keys2["mobile"]) {
		t.Errorf("after a rotation without grace: %+v", kr2.Keys[0])
	}
	if keys2["mobile"] == keys1["mobile"] || keys2["mobile"] == keys0["mobile"] {
		t.Error("the second rotation did not make a new key")
	}
	m3, _ := mustRun(t, args)
	if storedKeyring(t, m3).Keys[0].SHA256 != storedKeyring(t, m2).Keys[0].SHA256 {
		t.Error("the same rotation gave different keys: every up would rotate")
	}
}

// policyOf parses a role policy's document.
func policyOf(t *testing.T, r registered) policyDocument {
	t.Helper()
	var p policyDocument
	if err := json.Unmarshal([]byte(r.Str("policy")), &p); err != nil {
		t.Fatalf("%s policy: %v", r.Name, err)
	}
	return p
}

// Promise 2: least privilege.
func TestIAMIsLeastPrivilege(t *testing.T) {
	// With JWTs on, the authorizer reads the issuer's JWKS over HTTPS,
	// which needs no IAM permission: its policy is the same.
	jwtEnv := `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks","audiences":["orders-api"]}`
	for _, tc := range []struct{ kms, jwt string }{
		{"", ""},
		{"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", ""},
		{"", jwtEnv},
	} {
		kms := tc.kms
		args := testArgs(t)
		args.KMSKeyARN = kms
		if tc.jwt != "" {
			f := args.Definition.Functions["authorizer"]
			f.Env = map[string]string{authorizer.EnvJWT: tc.jwt}
			args.Definition.Functions["authorizer"] = f
		}
		m, _ := mustRun(t, args)
		env, _ := m.Named(t, tFunction, "tollgate-dev-authorizer").Obj("environment")["variables"].(map[string]any)
		if got, _ := env[authorizer.EnvJWT].(string); got != tc.jwt && !(tc.jwt == "" && env[authorizer.EnvJWT] == nil) {
			t.Errorf("%s = %v, want %q", authorizer.EnvJWT, env[authorizer.EnvJWT], tc.jwt)
		}

		for _, role := range m.Of(tRole) {
			var trust policyDocument
			if err := json.Unmarshal([]byte(role.Str("assumeRolePolicy")), &trust); err != nil {
				t.Fatal(err)
			}
			want := "lambda.amazonaws.com"
			if strings.Contains(role.Name, "apigateway") {
				want = "apigateway.amazonaws.com"
			}
			if len(trust.Statement) != 1 || !reflect.DeepEqual(trust.Statement[0].Principal, map[string]string{"Service": want}) ||
				!slices.Equal(trust.Statement[0].Action, []string{"sts:AssumeRole"}) {
				t.Errorf("%s trust policy = %+v, want only %s", role.Name, trust, want)
			}
		}
		for _, rp := range m.Of(tRolePolicy) {
			for _, s := range policyOf(t, rp).Statement {
				for _, r := range s.Resource {
					if r == "*" {
						t.Errorf("%s: statement %v has resource *", rp.Name, s)
					}
				}
				for _, a := range s.Action {
					if strings.Contains(a, "*") {
						t.Errorf("%s: action %q has a wildcard", rp.Name, a)
					}
				}
			}
		}

		authz := policyOf(t, m.Named(t, tRolePolicy, "tollgate-dev-authorizer"))
		want := []Statement{
			{Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				Resource: []string{"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/tollgate-dev-authorizer:*"}},
			{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{secretARN}},
		}
		if kms != "" {
			want = append(want, Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{kms},
				Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}})
		}
		if !reflect.DeepEqual(authz.Statement, want) {
			t.Errorf("authorizer policy (kms %q) =\n%+v\nwant\n%+v", kms, authz.Statement, want)
		}
		handler := policyOf(t, m.Named(t, tRolePolicy, "tollgate-dev-handler"))
		if !reflect.DeepEqual(handler.Statement, []Statement{{
			Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/tollgate-dev-handler:*"}}}) {
			t.Errorf("handler policy = %+v, want only its own logs", handler.Statement)
		}
		role := m.Named(t, tRole, "tollgate-dev-authorizer")
		if m.Named(t, tRolePolicy, "tollgate-dev-authorizer").Str("role") != role.ID {
			t.Error("the authorizer's policy is not on the authorizer's role")
		}
		if fn := m.Named(t, tFunction, "tollgate-dev-authorizer"); fn.Str("role") != "arn:aws:iam::123456789012:role/"+pulumimock.Autonamed("tollgate-dev-authorizer") {
			t.Errorf("authorizer role = %q, want its own role", fn.Str("role"))
		}
	}
}

// Promise 3: log groups owned by the stack, with retention.
func TestLogGroups(t *testing.T) {
	args := testArgs(t)
	args.LogRetentionDays = 30
	m, _ := mustRun(t, args)
	var names []string
	for _, lg := range m.Of(tLogGroup) {
		names = append(names, lg.Str("name"))
		if lg.Inputs["retentionInDays"] != 30.0 {
			t.Errorf("%s retention = %v, want 30", lg.Str("name"), lg.Inputs["retentionInDays"])
		}
	}
	sort.Strings(names)
	want := []string{"/aws/apigateway/tollgate-dev/dev/access", "/aws/lambda/tollgate-dev-authorizer", "/aws/lambda/tollgate-dev-handler"}
	if !slices.Equal(names, want) {
		t.Errorf("log groups = %q, want %q", names, want)
	}
	for _, fn := range m.Of(tFunction) {
		lc := fn.Obj("loggingConfig")
		if lc["logGroup"] != "/aws/lambda/"+fn.Str("name") {
			t.Errorf("%s logs to %v, want its own group", fn.Name, lc["logGroup"])
		}
	}
}

// Promise 4: the functions.
func TestFunctions(t *testing.T) {
	args := testArgs(t)
	args.ReservedConcurrency = map[string]int{"authorizer": 20}
	m, _ := mustRun(t, args)
	def := api.Default()
	for name, f := range def.Functions {
		fn := m.Named(t, tFunction, "tollgate-dev-"+name)
		if fn.Str("name") != "tollgate-dev-"+name || fn.Str("runtime") != "provided.al2023" || fn.Str("handler") != "bootstrap" {
			t.Errorf("%s: name %q runtime %q handler %q", name, fn.Str("name"), fn.Str("runtime"), fn.Str("handler"))
		}
		if got := fn.Inputs["architectures"]; !reflect.DeepEqual(got, []any{"arm64"}) {
			t.Errorf("%s architectures = %v, want [arm64]", name, got)
		}
		if fn.Inputs["memorySize"] != float64(f.MemoryMB) || fn.Inputs["timeout"] != f.Timeout.Seconds() {
			t.Errorf("%s memory %v timeout %v, want %d and %v", name, fn.Inputs["memorySize"], fn.Inputs["timeout"], f.MemoryMB, f.Timeout)
		}
		if fn.Str("sourceCodeHash") != args.Archives[name].SHA256 {
			t.Errorf("%s sourceCodeHash = %q, want the archive's", name, fn.Str("sourceCodeHash"))
		}
	}
	authz := m.Named(t, tFunction, "tollgate-dev-authorizer")
	if authz.Inputs["reservedConcurrentExecutions"] != 20.0 {
		t.Errorf("authorizer reserved concurrency = %v, want 20", authz.Inputs["reservedConcurrentExecutions"])
	}
	if _, ok := m.Named(t, tFunction, "tollgate-dev-handler").Inputs["reservedConcurrentExecutions"]; ok {
		t.Error("handler has reserved concurrency without configuring it")
	}
	env := authz.Obj("environment")["variables"].(map[string]any)
	want := map[string]any{}
	for k, v := range def.Functions["authorizer"].Env {
		want[k] = v
	}
	for k, v := range authorizer.Env(secretARN, def.Authorizer.TokenHeader()) {
		want[k] = v
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("authorizer environment = %v, want %v", env, want)
	}
	if env[authorizer.EnvSecretID] != secretARN || env[authorizer.EnvTokenHeader] != "Authorization" {
		t.Errorf("authorizer environment = %v, want the secret's ARN and the token header", env)
	}

	args.Arch = X86_64
	m, _ = mustRun(t, args)
	if got := m.Named(t, tFunction, "tollgate-dev-handler").Inputs["architectures"]; !reflect.DeepEqual(got, []any{"x86_64"}) {
		t.Errorf("architectures = %v, want [x86_64]", got)
	}
}

// deployedDocument is the REST API's body, and the routes, authorizer and
// gateway responses API Gateway reads from it, with each integration URI
// mapped back to the function whose invoke ARN it is.
func deployedDocument(t *testing.T, m *mocks) (string, api.Definition) {
	t.Helper()
	body := m.One(t, tRestAPI).Str("body")
	byURI := map[string]string{}
	for _, fn := range m.Of(tFunction) {
		byURI[invokeARN(strings.TrimPrefix(fn.Str("name"), "tollgate-dev-"))] = strings.TrimPrefix(fn.Str("name"), "tollgate-dev-")
	}
	def, err := api.ParseDocument([]byte(body), func(uri string) (string, error) {
		if fn, ok := byURI[uri]; ok {
			return fn, nil
		}
		return "", fmt.Errorf("%q is no function's invoke ARN", uri)
	})
	if err != nil {
		t.Fatalf("the REST API's body: %v", err)
	}
	return body, def
}

func invokeARN(fn string) string {
	return "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:tollgate-dev-" + fn + "/invocations"
}

// Promise 5: the REST API is the Definition's OpenAPI document, imported
// in overwrite mode, with the functions' invoke ARNs; no resource per
// route; Lambda permissions scoped to this API.
func TestRestAPI(t *testing.T) {
	args := testArgs(t)
	args.Definition.Routes = append(args.Definition.Routes,
		api.Route{Method: "GET", Path: "/orders/{id}", Function: "handler", Protected: true},
		api.Route{Method: "ANY", Path: "/files/{path+}", Function: "handler", Protected: true})
	m, a := mustRun(t, args)
	def := args.Definition

	rest := m.One(t, tRestAPI)
	if rest.Obj("endpointConfiguration")["types"] != "REGIONAL" || rest.Str("putRestApiMode") != "overwrite" ||
		rest.Str("apiKeySource") != "HEADER" || rest.Str("name") != "tollgate-dev" {
		t.Errorf("REST API = %v", rest.Inputs)
	}
	for _, typ := range []string{"aws:apigateway/resource:Resource", "aws:apigateway/method:Method", "aws:apigateway/integration:Integration", "aws:apigateway/authorizer:Authorizer", "aws:apigateway/response:Response"} {
		if n := len(m.Of(typ)); n != 0 {
			t.Errorf("%d %s: the document holds them", n, typ)
		}
	}
	body, got := deployedDocument(t, m)
	if !reflect.DeepEqual(got.SortedRoutes(), def.SortedRoutes()) {
		t.Errorf("the document's routes =\n%v\nwant\n%v", got.SortedRoutes(), def.SortedRoutes())
	}
	if !reflect.DeepEqual(got.Authorizer, def.Authorizer) {
		t.Errorf("the document's authorizer = %+v, want %+v", got.Authorizer, def.Authorizer)
	}
	want, err := def.Document(api.DocumentOptions{IntegrationURI: invokeARN, Title: "tollgate-dev", Description: "tollgate " + def.Name, Version: api.DefaultVersion})
	if err != nil {
		t.Fatal(err)
	}
	if body != string(want) {
		t.Error("the REST API's body is not the Definition's document with the functions' invoke ARNs")
	}
	if doc := await[string](t, a.Document); doc != body {
		t.Error("the Document output is not the REST API's body")
	}

	exec := "arn:aws:execute-api:eu-west-1:123456789012:" + testAPIID
	var sources []string
	ids := map[string]bool{}
	for _, p := range m.Of(tPermission) {
		if p.Str("action") != "lambda:InvokeFunction" || p.Str("principal") != "apigateway.amazonaws.com" {
			t.Errorf("permission %s = %v", p.Name, p.Inputs)
		}
		if ids[p.Str("statementId")] {
			t.Errorf("statement id %s is used twice", p.Str("statementId"))
		}
		ids[p.Str("statementId")] = true
		sources = append(sources, p.Str("function")+" "+p.Str("sourceArn"))
	}
	sort.Strings(sources)
	wantSources := []string{
		"tollgate-dev-authorizer " + exec + "/authorizers/*",
		"tollgate-dev-handler " + exec + "/*/*/files/*",
		"tollgate-dev-handler " + exec + "/*/GET/customers",
		"tollgate-dev-handler " + exec + "/*/GET/health",
		"tollgate-dev-handler " + exec + "/*/GET/hello",
		"tollgate-dev-handler " + exec + "/*/GET/orders/*",
		"tollgate-dev-handler " + exec + "/*/POST/orders",
	}
	if !slices.Equal(sources, wantSources) {
		t.Errorf("permissions =\n%s\nwant\n%s", strings.Join(sources, "\n"), strings.Join(wantSources, "\n"))
	}
}

// Defect: route permissions were named "<name>-GET/hello", and Pulumi
// autonamed their statement ids from that, which Lambda refuses. Every
// route's statement id is now set, valid, unique and stable.
func TestStatementIDs(t *testing.T) {
	routes := []api.Route{
		{Method: "GET", Path: "/hello"}, {Method: "ANY", Path: "/files/{path+}"}, {Method: "GET", Path: "/"},
		{Method: "GET", Path: "/a.b"}, {Method: "GET", Path: "/a_b"}, {Method: "GET", Path: "/a~b"},
		{Method: "DELETE", Path: "/" + strings.Repeat("segment/", 40) + "{id}"},
	}
	rule := pulumimock.Provider[tPermission]
	seen := map[string]api.Route{}
	for _, r := range routes {
		id := statementID(r)
		if err := rule.Check(map[string]any{"statementId": id, "action": "lambda:InvokeFunction", "function": "f", "principal": "apigateway.amazonaws.com"}); err != nil {
			t.Errorf("statementID(%s) = %q: %v", r, id, err)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s share statement id %q", r, other, id)
		}
		seen[id] = r
		if statementID(r) != id {
			t.Errorf("statementID(%s) is not stable", r)
		}
	}
	if got := statementID(api.Route{Method: "GET", Path: "/hello"}); !strings.HasPrefix(got, "route-GET-hello-") {
		t.Errorf("statementID(GET /hello) = %q, want it readable", got)
	}
}

func TestRequestAuthorizer(t *testing.T) {
	args := testArgs(t)
	a := &args.Definition.Authorizer
	a.Type, a.ValidationRegex, a.ResultTTL = api.Request, "", 0
	a.IdentitySources = []string{"method.request.header.X-Api-Key", "method.request.querystring.tenant"}
	m, _ := mustRun(t, args)
	_, got := deployedDocument(t, m)
	if !reflect.DeepEqual(got.Authorizer, args.Definition.Authorizer) {
		t.Errorf("the document's authorizer = %+v, want %+v", got.Authorizer, args.Definition.Authorizer)
	}
	env := m.Named(t, tFunction, "tollgate-dev-authorizer").Obj("environment")["variables"].(map[string]any)
	if env[authorizer.EnvTokenHeader] != "X-Api-Key" {
		t.Errorf("token header = %v, want X-Api-Key", env[authorizer.EnvTokenHeader])
	}
}

// deploymentTrigger is the deployment's redeployment hash for args.
func deploymentTrigger(t *testing.T, args Args) string {
	t.Helper()
	m, _ := mustRun(t, args)
	d := m.One(t, tDeployment)
	h, _ := d.Obj("triggers")["document"].(string)
	body, _ := deployedDocument(t, m)
	if h != api.DocumentHash([]byte(body)) {
		t.Fatalf("deployment triggers = %v, want the document's SHA-256", d.Inputs["triggers"])
	}
	return h
}

// Promise 6: the deployment is replaced exactly when the document
// changes, new before old; the stage has throttling, access logs and
// metrics.
func TestDeploymentAndStage(t *testing.T) {
	args := testArgs(t)
	m, _ := mustRun(t, args)
	d := m.One(t, tDeployment)
	if d.RPC.GetDeleteBeforeReplace() {
		t.Error("the deployment is deleted before its replacement exists")
	}
	if d.Str("restApi") != testAPIID {
		t.Errorf("deployment restApi = %q", d.Str("restApi"))
	}

	base := deploymentTrigger(t, args)
	if again := deploymentTrigger(t, args); again != base {
		t.Error("the same API gave another trigger: every up would redeploy")
	}
	stage := m.One(t, tStage)
	if stage.Str("stageName") != "dev" || stage.Str("deployment") != d.ID || stage.Str("restApi") != testAPIID {
		t.Errorf("stage = %v", stage.Inputs)
	}
	al := stage.Obj("accessLogSettings")
	if al["format"] != api.AccessLogFormat(api.DefaultAccessLog()) ||
		al["destinationArn"] != "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/tollgate-dev/dev/access" {
		t.Errorf("access log settings = %v", al)
	}
	var format map[string]string
	if err := json.Unmarshal([]byte(al["format"].(string)), &format); err != nil || format["requestId"] != "$context.requestId" {
		t.Errorf("access log format is not the JSON object of the definition: %v %v", format, err)
	}
	ms := m.One(t, tMethodSetting)
	want := map[string]any{"metricsEnabled": true, "loggingLevel": "OFF", "throttlingRateLimit": float64(DefaultRateLimit), "throttlingBurstLimit": float64(DefaultBurstLimit)}
	if ms.Str("methodPath") != "*/*" || ms.Str("stageName") != "dev" || !reflect.DeepEqual(ms.Obj("settings"), want) {
		t.Errorf("method settings = %v, want */* with %v", ms.Inputs, want)
	}

	args.Throttle = Throttle{RateLimit: 5.5, BurstLimit: 3}
	m, _ = mustRun(t, args)
	if s := m.One(t, tMethodSetting).Obj("settings"); s["throttlingRateLimit"] != 5.5 || s["throttlingBurstLimit"] != 3.0 {
		t.Errorf("throttle = %v, want 5.5/s burst 3", s)
	}
	if deploymentTrigger(t, args) != base {
		t.Error("changing the stage's throttle (not the API) replaced the deployment")
	}
}

// Account settings that coexist: the logging role is one per account,
// created by the first stack that finds none and used by the others; every
// stack sets the same role; nothing is deleted or reset on destroy.
func TestAccountLogsRole(t *testing.T) {
	args := testArgs(t)
	m, _ := mustRun(t, args)
	if n := len(m.Of(tAccount)); n != 0 || len(m.Invokes) != 0 {
		t.Errorf("%d account settings and invokes %q without AccountLogsRole", n, m.Invokes)
	}
	args.AccountLogsRole = true
	m, _ = mustRun(t, args)
	roleARN := "arn:aws:iam::123456789012:role/" + AccountLogsRoleName
	acct := m.One(t, tAccount)
	if acct.Inputs["resetOnDelete"] != false || acct.Str("cloudwatchRoleArn") != roleARN || !acct.RPC.GetRetainOnDelete() {
		t.Errorf("account = %v (retained %v), want the shared role, never reset, retained on destroy", acct.Inputs, acct.RPC.GetRetainOnDelete())
	}
	role := m.Named(t, tRole, "tollgate-dev-apigateway-logs-role")
	if role.Str("name") != AccountLogsRoleName || !role.RPC.GetRetainOnDelete() {
		t.Errorf("logging role = %v (retained %v), want %s, retained on destroy", role.Inputs, role.RPC.GetRetainOnDelete(), AccountLogsRoleName)
	}
	att := m.One(t, tAttachment)
	if att.Str("policyArn") != "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs" || !att.RPC.GetRetainOnDelete() {
		t.Errorf("policy attachment = %v", att.Inputs)
	}
	if !slices.ContainsFunc(m.One(t, tStage).RPC.GetDependencies(), func(u string) bool { return strings.HasSuffix(u, "::tollgate-dev-apigateway-account") }) {
		t.Error("the stage does not wait for the account's logging role")
	}

	// A second stack in the same account finds the role and creates none.
	other := &pulumimock.Mocks{Roles: map[string]string{AccountLogsRoleName: roleARN, "unrelated": "arn:aws:iam::123456789012:role/unrelated"}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "tollgate-prod", args)
		return err
	}, pulumi.WithMocks("tollgate", "prod", other))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range other.Of(tRole) {
		if r.Str("name") == AccountLogsRoleName {
			t.Error("a second stack creates the shared logging role again")
		}
	}
	if n := len(other.Of(tAttachment)); n != 0 {
		t.Errorf("a second stack attaches %d policies to the shared role", n)
	}
	if got := other.One(t, tAccount).Str("cloudwatchRoleArn"); got != roleARN {
		t.Errorf("the second stack sets %q, want the same role", got)
	}
}

// Promise 7: gateway responses from the shared definition, in the
// document.
func TestGatewayResponses(t *testing.T) {
	for _, origin := range []string{"", "https://app.example.com"} {
		args := testArgs(t)
		if origin != "" {
			if err := args.Definition.AllowOrigin(origin); err != nil {
				t.Fatal(err)
			}
		}
		m, _ := mustRun(t, args)
		_, got := deployedDocument(t, m)
		if !reflect.DeepEqual(got.Responses, args.Definition.Responses) {
			t.Errorf("CORS %q: the document's gateway responses = %+v, want %+v", origin, got.Responses, args.Definition.Responses)
		}
		preflights := 0
		for _, r := range got.Routes {
			if r.Method == "OPTIONS" {
				preflights++
				if r.Protected {
					t.Errorf("preflight %s needs the authorizer; a browser's preflight carries no key", r)
				}
			}
		}
		env, _ := m.Named(t, tFunction, "tollgate-dev-handler").Obj("environment")["variables"].(map[string]any)
		if origin == "" && (preflights != 0 || len(env) != 0) {
			t.Errorf("CORS off: %d preflight methods, handler environment %v", preflights, env)
		}
		if origin != "" && (preflights != 4 || env["TOLLGATE_ALLOW_ORIGIN"] != origin) {
			t.Errorf("CORS on: %d preflight methods (want one per path, 4), handler environment %v", preflights, env)
		}
		authzEnv, _ := m.Named(t, tFunction, "tollgate-dev-authorizer").Obj("environment")["variables"].(map[string]any)
		if _, ok := authzEnv["TOLLGATE_ALLOW_ORIGIN"]; ok {
			t.Error("the authorizer, which answers no route, got the CORS origin")
		}
	}
}

// Promise 10: the outputs.
func TestOutputs(t *testing.T) {
	m, a := mustRun(t, testArgs(t))
	base := "https://" + testAPIID + ".execute-api.eu-west-1.amazonaws.com/dev"
	if got := await[string](t, a.URL); got != base {
		t.Errorf("URL = %q, want %q", got, base)
	}
	routes := await[map[string]string](t, a.RouteURLs)
	want := map[string]string{
		"GET /hello": base + "/hello", "GET /customers": base + "/customers",
		"POST /orders": base + "/orders", "GET /health": base + "/health",
	}
	if !reflect.DeepEqual(routes, want) {
		t.Errorf("RouteURLs = %v, want %v", routes, want)
	}
	if got := await[string](t, a.SecretARN); got != secretARN {
		t.Errorf("SecretARN = %q", got)
	}
	keys := await[map[string]string](t, a.APIKeys)
	kr := storedKeyring(t, m)
	if len(keys) != 2 || authorizer.Digest(keys["mobile"]) != kr.Keys[0].SHA256 || authorizer.Digest(keys["reports"]) != kr.Keys[1].SHA256 {
		t.Errorf("APIKeys = %v, want the keys whose digests the keyring holds", keys)
	}
	if !pulumi.IsSecret(a.APIKeys) {
		t.Error("APIKeys is not a secret output")
	}
	if got, want := await[string](t, a.RevokeNow), "go run ./cmd/tollkeys refresh -region eu-west-1 -api-id "+testAPIID+" -stage dev -function tollgate-dev-authorizer"; got != want {
		t.Errorf("RevokeNow = %q, want %q", got, want)
	}
	curl := await[string](t, a.Curl)
	wantCurl := `curl -i -H "Authorization: Bearer $(pulumi stack output --show-secrets --json apiKeys | jq -r '.["mobile"]')" ` + base + "/hello"
	if curl != wantCurl {
		t.Errorf("Curl =\n%s\nwant\n%s", curl, wantCurl)
	}
}

// Bad arguments stop New before it registers anything.
func TestBadArgsCreateNothing(t *testing.T) {
	cases := []struct {
		name   string
		change func(a *Args)
		want   string
	}{
		{"ttl above 3600", func(a *Args) { a.Definition.Authorizer.ResultTTL = 3601 * time.Second }, "result TTL"},
		{"negative ttl", func(a *Args) { a.Definition.Authorizer.ResultTTL = -time.Second }, "result TTL"},
		{"unknown authorizer type", func(a *Args) { a.Definition.Authorizer.Type = "JWT" }, `type "JWT"`},
		{"no clients", func(a *Args) { a.Clients = nil }, "no clients"},
		{"bad regex", func(a *Args) { a.Definition.Authorizer.ValidationRegex = "^Bearer (" }, "validation regex"},
		{"unknown arch", func(a *Args) { a.Arch = "riscv64" }, `architecture "riscv64"`},
		{"unknown key store", func(a *Args) { a.KeyStore = "redis" }, `key store "redis": want "secret" or "dynamodb"`},
		{"bad stage name", func(a *Args) { a.Definition.Stage = "dev stage" }, `stage "dev stage"`},
		{"digest not hex", func(a *Args) { a.KeyDigests = map[string]string{"mobile": "short"} }, "sha256 is not 64 hex digits"},
		{"digest for an unknown client", func(a *Args) { a.KeyDigests = map[string]string{"web": authorizer.Digest("k")} }, `"web"`},
		{"same digest twice", func(a *Args) {
			a.KeyDigests = map[string]string{"mobile": authorizer.Digest("k"), "reports": authorizer.Digest("k")}
		}, "same key"},
		{"empty route list", func(a *Args) { a.Routes = map[string][]string{"reports": {}} }, `client "reports": empty route list`},
		{"regex refusing tollgate keys", func(a *Args) { a.Definition.Authorizer.ValidationRegex = "^Bearer [0-9a-f]+$" }, "refuses tollgate keys"},
		{"regex refusing JWTs, raw scheme", func(a *Args) {
			f := a.Definition.Functions["authorizer"]
			f.Env = map[string]string{authorizer.EnvTokenScheme: "none", authorizer.EnvJWT: `{"issuer":"i","jwksUrl":"https://x/jwks","audiences":["a"]}`}
			a.Definition.Functions["authorizer"] = f
			a.Definition.Authorizer.ValidationRegex = `^tgk_[0-9A-Za-z]+$`
		}, "refuses JWTs"},
		{"rotation of an unknown client", func(a *Args) { a.Rotations = map[string]Rotation{"web": {N: 1}} }, `"web"`},
		{"negative rotation", func(a *Args) { a.Rotations = map[string]Rotation{"mobile": {N: -1}} }, "rotation -1"},
		{"expiry of an unknown client", func(a *Args) { a.Expiry = map[string]time.Time{"web": time.Now()} }, `"web"`},
		{"unknown client disabled", func(a *Args) { a.Disabled = []string{"web"} }, `disabling is asked for "web"`},
		{"bad client route", func(a *Args) { a.Routes = map[string][]string{"mobile": {"FETCH /x"}} }, `key "mobile": route #1: unknown method`},
		{"duplicate client", func(a *Args) { a.Clients = []string{"a", "a"} }, "twice"},
		{"recovery window", func(a *Args) { a.RecoveryWindowInDays = 3 }, "recovery window 3"},
		{"alias instead of key", func(a *Args) { a.KMSKeyARN = "arn:aws:kms:eu-west-1:123456789012:alias/mine" }, "not an alias"},
		{"log retention", func(a *Args) { a.LogRetentionDays = 10 }, "log retention 10"},
		{"negative concurrency", func(a *Args) { a.ReservedConcurrency = map[string]int{"handler": -1} }, "reserved concurrency"},
		{"unknown function concurrency", func(a *Args) { a.ReservedConcurrency = map[string]int{"nope": 1} }, "no such function"},
		{"negative throttle", func(a *Args) { a.Throttle.RateLimit = -1 }, "throttle"},
		{"quota period", func(a *Args) { a.Plans = onePlan(plans.Plan{Quota: &plans.Quota{Limit: 1, Period: "YEAR"}}) }, `quota period "YEAR"`},
		{"half a plan throttle", func(a *Args) { a.Plans = onePlan(plans.Plan{RateLimit: 5}) }, "plan free: throttle 5 requests/s, burst 0"},
		{"unknown default plan", func(a *Args) { a.Plans = plans.Set{Plans: map[string]plans.Plan{"free": {}}, Default: "gold"} }, `defaultPlan "gold"`},
		{"client on two plans", func(a *Args) {
			a.Plans = plans.Set{Plans: map[string]plans.Plan{"free": {Clients: []string{"mobile"}}, "gold": {Clients: []string{"mobile", "reports"}}}}
		}, `client "mobile" is on two plans, free and gold`},
		{"quota without a period", func(a *Args) { a.Plans = onePlan(plans.Plan{Quota: &plans.Quota{Limit: 10}}) }, "without a period"},
		{"plan route not in the API", func(a *Args) {
			a.Plans = onePlan(plans.Plan{Routes: map[string]api.Throttle{"GET /nope": {RateLimit: 1, BurstLimit: 1}}})
		}, `route "GET /nope" is not a route of the API`},
		{"missing archive", func(a *Args) { delete(a.Archives, "handler") }, `no archive for function "handler"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := testArgs(t)
			args.Archives = maps.Clone(args.Archives)
			tc.change(&args)
			m, _, err := run(t, args)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an ErrConfig naming %q", err, tc.want)
			}
			if err := args.Validate(); !errors.Is(err, ErrConfig) {
				t.Errorf("Validate = %v, want ErrConfig", err)
			}
			if n := len(m.Resources); n != 0 {
				t.Errorf("%d resources registered before the error, want none", n)
			}
		})
	}
}

func TestBadComponentName(t *testing.T) {
	m := &pulumimock.Mocks{}
	args := testArgs(t)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := New(ctx, strings.Repeat("n", 51), args)
		return err
	}, pulumi.WithMocks("tollgate", "dev", m))
	if !errors.Is(err, ErrConfig) || len(m.Resources) != 0 {
		t.Errorf("New with a 51-character name = %v, %d resources; want ErrConfig and none", err, len(m.Resources))
	}
}

// The variables the authorizer package states (authorizer.Env) win over a
// function's own: a stale TOLLGATE_SECRET_ID in the definition cannot
// point the authorizer at another secret.
func TestAuthorizerVariablesWinOverTheFunctions(t *testing.T) {
	args := testArgs(t)
	f := args.Definition.Functions["authorizer"]
	f.Env = map[string]string{authorizer.EnvSecretID: "ignored", authorizer.EnvLogLevel: "debug"}
	args.Definition.Functions["authorizer"] = f
	m, _ := mustRun(t, args)
	env := m.Named(t, tFunction, "tollgate-dev-authorizer").Obj("environment")["variables"].(map[string]any)
	if env[authorizer.EnvSecretID] != secretARN || env[authorizer.EnvLogLevel] != "debug" {
		t.Errorf("authorizer environment = %v, want the secret's ARN and the function's own log level", env)
	}
}

// A route with its own throttle gets the stage's method settings for its
// method path ("{resource_path}/{http_method}", leading slash trimmed:
// pulumi-aws sdk apigateway/methodSettings.go MethodPath), each waiting
// for the one before: each is an UpdateStage of the same stage (terraform-
// provider-aws internal/service/apigateway/method_settings.go).
func TestRouteThrottles(t *testing.T) {
	args := testArgs(t)
	base := deploymentTrigger(t, args)
	def := &args.Definition
	def.Routes = append(def.Routes,
		api.Route{Method: "GET", Path: "/orders/{id}", Function: "handler", Protected: true, Throttle: &api.Throttle{RateLimit: 2.5, BurstLimit: 4}},
		api.Route{Method: "ANY", Path: "/files/{path+}", Function: "handler", Protected: true, Throttle: &api.Throttle{RateLimit: 1, BurstLimit: 1}})
	m, _ := mustRun(t, args)
	all := m.Of(tMethodSetting)
	if len(all) != 3 {
		t.Fatalf("%d method settings, want the stage's and one per throttled route", len(all))
	}
	want := map[string]map[string]any{
		// Keyed as the stage keys them: each / of the resource path ~1
		// (issue 28, defect 1).
		"~1files~1{path+}/ANY": {"metricsEnabled": true, "loggingLevel": "OFF", "throttlingRateLimit": 1.0, "throttlingBurstLimit": 1.0},
		"~1orders~1{id}/GET":   {"metricsEnabled": true, "loggingLevel": "OFF", "throttlingRateLimit": 2.5, "throttlingBurstLimit": 4.0},
	}
	byPath := map[string]pulumimock.Resource{}
	for _, r := range all {
		byPath[r.Str("methodPath")] = r
	}
	for path, settings := range want {
		r, ok := byPath[path]
		if !ok {
			t.Errorf("no method settings for %s; have %v", path, slices.Collect(maps.Keys(byPath)))
			continue
		}
		if !reflect.DeepEqual(r.Obj("settings"), settings) || r.Str("stageName") != "dev" {
			t.Errorf("%s: %v, want %v on stage dev", path, r.Inputs, settings)
		}
	}
	// Sorted routes: /files before /orders; each waits for the one before,
	// the first for the stage's.
	dependsOn := func(r pulumimock.Resource, name string) bool {
		return slices.ContainsFunc(r.RPC.GetDependencies(), func(u string) bool { return strings.HasSuffix(u, "::"+name) })
	}
	if files := byPath["~1files~1{path+}/ANY"]; !dependsOn(files, "tollgate-dev-method-settings") {
		t.Errorf("the first route's settings do not wait for the stage's: %v", files.RPC.GetDependencies())
	}
	if orders := byPath["~1orders~1{id}/GET"]; !dependsOn(orders, byPath["~1files~1{path+}/ANY"].Name) {
		t.Errorf("the second route's settings do not wait for the first's: %v", orders.RPC.GetDependencies())
	}
	// A throttle is the stage's setting, not the API's: adding one to an
	// existing route makes no new deployment.
	args = testArgs(t)
	args.Definition.Routes[0].Throttle = &api.Throttle{RateLimit: 1, BurstLimit: 1}
	if deploymentTrigger(t, args) != base {
		t.Error("a route's throttle replaced the deployment")
	}
}

// A function's description stays within Lambda's 256 characters however
// long its package's import path.
func TestFunctionDescription(t *testing.T) {
	if got := functionDescription("tollgate-dev", "./cmd/handler"); got != "tollgate tollgate-dev: ./cmd/handler" {
		t.Errorf("short = %q", got)
	}
	long := functionDescription("tollgate-dev", "example.com/"+strings.Repeat("é", 300))
	if n := utf8.RuneCountInString(long); n != maxFunctionDescription || !strings.HasSuffix(long, "…") || !utf8.ValidString(long) {
		t.Errorf("long = %d characters, %q…", n, long[:40])
	}
}
