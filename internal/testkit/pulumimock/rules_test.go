package pulumimock

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	goodARN    = "arn:aws:iam::123456789012:role/r"
	goodDoc    = `{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{}}`
	goodPolicy = `{"Version":"2012-10-17","Statement":[]}`
)

// good are inputs each type's rules accept.
var good = map[string]map[string]any{
	"pulumi:providers:aws":                              {"region": "eu-west-1"},
	"random:index/randomPassword:RandomPassword":        {"length": 40.0},
	"aws:secretsmanager/secret:Secret":                  {"name": "tollgate-dev/keyring_1+=.@", "recoveryWindowInDays": 0.0, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/k"},
	"aws:secretsmanager/secretVersion:SecretVersion":    {"secretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s"},
	"aws:iam/role:Role":                                 {"name": "a+b=c,d.e@f-g_h", "description": "tollgate", "assumeRolePolicy": goodPolicy},
	"aws:iam/rolePolicy:RolePolicy":                     {"name": "p", "role": "r", "policy": goodPolicy},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {"role": "r", "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"},
	"aws:cloudwatch/logGroup:LogGroup":                  {"name": "/aws/lambda/x#1", "retentionInDays": 14.0},
	"aws:lambda/function:Function": {
		"name": strings.Repeat("f", 64), "role": goodARN, "handler": "bootstrap", "runtime": "provided.al2023",
		"architectures": []any{"arm64"}, "memorySize": 128.0, "timeout": 900.0, "reservedConcurrentExecutions": -1.0,
		"description": strings.Repeat("d", 256), "environment": map[string]any{"variables": map[string]any{"TOLLGATE_X": "1"}},
		"loggingConfig": map[string]any{"logFormat": "Text", "logGroup": "/aws/lambda/f"},
	},
	"aws:lambda/permission:Permission":             {"statementId": strings.Repeat("s", 100), "action": "lambda:InvokeFunction", "function": "f", "principal": "apigateway.amazonaws.com", "sourceArn": "arn:aws:execute-api:eu-west-1:123456789012:a1/*/GET/x"},
	"aws:apigateway/restApi:RestApi":               {"name": "api", "apiKeySource": "HEADER", "endpointConfiguration": map[string]any{"types": "REGIONAL"}, "putRestApiMode": "overwrite", "body": goodDoc},
	"aws:apigateway/deployment:Deployment":         {"restApi": "a1"},
	"aws:apigateway/stage:Stage":                   {"restApi": "a1", "deployment": "d1", "stageName": strings.Repeat("s", 128), "accessLogSettings": map[string]any{"destinationArn": "arn:aws:logs:eu-west-1:123456789012:log-group:/x", "format": "{}"}},
	"aws:apigateway/methodSettings:MethodSettings": {"restApi": "a1", "stageName": "dev", "methodPath": "*/*", "settings": map[string]any{"loggingLevel": "OFF"}},
	"aws:apigateway/usagePlan:UsagePlan": {"name": "plan", "quotaSettings": map[string]any{"limit": 1000.0, "offset": 0.0, "period": "DAY"},
		"throttleSettings": map[string]any{"burstLimit": 10.0, "rateLimit": 2.5},
		"apiStages": []any{map[string]any{"apiId": "a1", "stage": "dev", "throttles": []any{
			map[string]any{"path": "/orders/{id}/GET", "burstLimit": 5.0, "rateLimit": 1.0}, map[string]any{"path": "//ANY", "rateLimit": 1.0}}}}},
	"aws:apigateway/apiKey:ApiKey":             {"name": "k", "value": strings.Repeat("v", 20)},
	"aws:apigateway/usagePlanKey:UsagePlanKey": {"keyId": "k", "usagePlanId": "p", "keyType": "API_KEY"},
	"aws:apigateway/account:Account":           {"cloudwatchRoleArn": goodARN},
	"aws:apigatewayv2/api:Api": {
		"name": strings.Repeat("a", 128), "protocolType": "HTTP", "description": strings.Repeat("d", 1024), "body": goodDoc,
		"corsConfiguration": map[string]any{"maxAge": 86400.0},
	},
	"aws:apigatewayv2/stage:Stage": {
		"apiId": "a1", "name": "$default", "accessLogSettings": map[string]any{"destinationArn": "arn:aws:logs:eu-west-1:123456789012:log-group:/x", "format": "{}"},
		"defaultRouteSettings": map[string]any{"throttlingRateLimit": 10.0},
		"routeSettings":        []any{map[string]any{"routeKey": "GET /orders/{id}"}, map[string]any{"routeKey": "ANY /files/{path+}"}},
	},
}

// bad are planted values each checked rule must refuse, by type and
// property: at least one per rule with a Check.
var bad = map[string]map[string][]any{
	"pulumi:providers:aws":                       {"region": {"eu-west", "EU-WEST-1"}},
	"random:index/randomPassword:RandomPassword": {"length": {0.0, 1.5}},
	"aws:secretsmanager/secret:Secret": {
		"name": {"", "a b", "a#b", strings.Repeat("n", 513)}, "recoveryWindowInDays": {1.0, 6.0, 31.0}, "kmsKeyId": {"alias/mine"},
	},
	"aws:iam/role:Role": {
		"name": {"tollgate-dev-GET/hello", strings.Repeat("r", 65), ""}, "description": {"a “quote”", strings.Repeat("d", 1001)}, "assumeRolePolicy": {"{"},
	},
	"aws:iam/rolePolicy:RolePolicy": {
		"name": {strings.Repeat("p", 129), "a/b"}, "role": {goodARN, strings.Repeat("r", 129)}, "policy": {"not json"},
	},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {"role": {goodARN}, "policyArn": {"AmazonAPIGatewayPushToCloudWatchLogs", "arn:aws:iam::1234:policy/x"}},
	"aws:cloudwatch/logGroup:LogGroup":                  {"name": {"/aws/lambda/a b", strings.Repeat("l", 513), "a:b"}, "retentionInDays": {10.0, 2.0}},
	"aws:lambda/function:Function": {
		"name": {strings.Repeat("f", 65), "a/b", ""}, "role": {"role"}, "handler": {strings.Repeat("h", 129)},
		"runtime": {"go1.x", "provided"}, "architectures": {[]any{"arm"}, []any{"arm64", "x86_64"}, []any{}},
		"memorySize": {127.0, 10241.0}, "timeout": {0.0, 901.0}, "reservedConcurrentExecutions": {-2.0},
		"description": {strings.Repeat("d", 257)}, "environment.variables": {map[string]any{"1X": "v"}, map[string]any{"A-B": "v"}},
		"loggingConfig.logFormat": {"text", "XML"}, "loggingConfig.logGroup": {"a b"},
	},
	"aws:lambda/permission:Permission": {
		"statementId": {"tollgate-dev-GET/hello", strings.Repeat("s", 101), "a{b}"}, "action": {"lambda:Invoke-Function", "InvokeFunction"},
		"function": {strings.Repeat("f", 65), "a b"}, "sourceArn": {"execute-api:x", "arn:aws:execute-api:EU:123456789012:a1/*"},
	},
	"aws:apigateway/restApi:RestApi": {
		"apiKeySource": {"QUERY"}, "endpointConfiguration.types": {"regional", "GLOBAL"}, "putRestApiMode": {"replace"}, "body": {"{", "not a document"},
	},
	"aws:apigateway/stage:Stage": {
		"stageName": {"my stage", strings.Repeat("s", 129), "$default"}, "accessLogSettings.destinationArn": {"/aws/apigateway/x"}, "accessLogSettings.format": {""},
	},
	"aws:apigateway/methodSettings:MethodSettings": {"settings.loggingLevel": {"DEBUG", "off"}, "methodPath": {"/orders/GET", "orders/{id}/GET", "~1orders/FETCH", "~1orders"}},
	"aws:apigateway/usagePlan:UsagePlan": {
		"quotaSettings.period": {"YEAR"},
		"quotaSettings": {map[string]any{"period": "DAY"}, map[string]any{"limit": 10.0}, map[string]any{"limit": -1.0, "period": "DAY"},
			map[string]any{"limit": 1.5, "period": "DAY"}, map[string]any{"limit": 10.0, "offset": -2.0, "period": "WEEK"}},
		"throttleSettings": {map[string]any{}, map[string]any{"burstLimit": 2.5}, map[string]any{"rateLimit": -1.0}, map[string]any{"burstLimit": -1.0, "rateLimit": 1.0}},
		"apiStages": {
			[]any{map[string]any{"stage": "dev"}},
			[]any{map[string]any{"apiId": "a1", "stage": "dev", "throttles": []any{map[string]any{"path": "~1orders/GET", "rateLimit": 1.0}}}},
			[]any{map[string]any{"apiId": "a1", "stage": "dev", "throttles": []any{map[string]any{"path": "/orders", "rateLimit": 1.0}}}},
			[]any{map[string]any{"apiId": "a1", "stage": "dev", "throttles": []any{map[string]any{"path": "GET /orders", "rateLimit": 1.0}}}},
			[]any{map[string]any{"apiId": "a1", "stage": "dev", "throttles": []any{map[string]any{"path": "/orders/GET"}}}},
		},
	},
	"aws:apigatewayv2/api:Api": {
		"name": {"", strings.Repeat("a", 129)}, "protocolType": {"REST", "http"}, "description": {strings.Repeat("d", 1025)},
		"body": {"{"}, "corsConfiguration.maxAge": {86401.0, 1.5},
	},
	"aws:apigatewayv2/stage:Stage": {
		"name": {"my stage", strings.Repeat("s", 129), "default$"}, "accessLogSettings.destinationArn": {"/aws/apigateway/x"}, "accessLogSettings.format": {""},
		"defaultRouteSettings.loggingLevel": {"INFO"},
		"routeSettings":                     {[]any{map[string]any{"routeKey": "/orders"}}, []any{map[string]any{"routeKey": "FETCH /orders"}}, []any{map[string]any{"routeKey": "GET /x", "loggingLevel": "INFO"}}},
	},
	"aws:apigateway/apiKey:ApiKey":             {"value": {strings.Repeat("v", 19), strings.Repeat("v", 129)}},
	"aws:apigateway/usagePlanKey:UsagePlanKey": {"keyType": {"KEY"}},
	"aws:apigateway/account:Account":           {"cloudwatchRoleArn": {"role/x"}},
}

// set puts v at a dotted property of a copy of inputs.
func set(inputs map[string]any, prop string, v any) map[string]any {
	out := deepCopy(inputs)
	keys := strings.Split(prop, ".")
	m := out
	for _, k := range keys[:len(keys)-1] {
		next, _ := m[k].(map[string]any)
		if next == nil {
			next = map[string]any{}
		}
		m[k] = next
		m = next
	}
	if v == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = v
	}
	return out
}

func deepCopy(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, v := range out {
		if sub, ok := v.(map[string]any); ok {
			out[k] = deepCopy(sub)
		}
	}
	return out
}

// Every rule fires on a planted bad value (or a missing required
// property), and accepts the good inputs; every rule with a check has a
// planted value here.
func TestRulesFire(t *testing.T) {
	for _, typ := range slices.Sorted(maps.Keys(Provider)) {
		rules := Provider[typ]
		inputs, ok := good[typ]
		if !ok {
			t.Errorf("%s: no good inputs in this test", typ)
			continue
		}
		if err := rules.Check(inputs); err != nil {
			t.Errorf("%s: good inputs refused: %v", typ, err)
		}
		for _, r := range rules.Rules {
			if r.Source == "" {
				t.Errorf("%s %s: the rule cites no source", typ, r.Prop)
			}
			if r.Required {
				if err := rules.Check(set(inputs, r.Prop, nil)); err == nil || !strings.Contains(err.Error(), r.Prop+" is required") {
					t.Errorf("%s without %s: %v, want it required", typ, r.Prop, err)
				}
			}
			if r.Check == nil {
				continue
			}
			values := bad[typ][r.Prop]
			if len(values) == 0 {
				t.Errorf("%s %s: no planted bad value tests this rule", typ, r.Prop)
			}
			for _, v := range values {
				err := rules.Check(set(inputs, r.Prop, v))
				if err == nil || !strings.HasPrefix(err.Error(), r.Prop+":") || !strings.Contains(err.Error(), r.Source) {
					t.Errorf("%s %s = %v: %v, want the rule to refuse it, citing its source", typ, r.Prop, v, err)
				}
			}
		}
	}
}

// Autonaming: the logical name, '-', 7 hex digits; refused past the
// maximum, as the engine refuses it at preview.
func TestAutoname(t *testing.T) {
	a := &Autoname{Prop: "name", Max: 64}
	in := map[string]any{}
	if err := a.apply(strings.Repeat("r", 56), in); err != nil {
		t.Fatalf("a 56-character logical name: %v", err)
	}
	if got := in["name"].(string); len(got) != 64 || !strings.HasPrefix(got, strings.Repeat("r", 56)+"-") || got != Autonamed(strings.Repeat("r", 56)) {
		t.Errorf("autoname = %q, want 56 characters, '-', 7 hex digits", got)
	}
	err := a.apply("tollgate-a-stack-name-of-twenty-seven-apigateway-logs-role", map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "plus 7 random chars is longer than maximum length 64") {
		t.Errorf("a 58-character logical name: %v, want the engine's refusal", err)
	}
	set := map[string]any{"name": "mine"}
	if err := a.apply(strings.Repeat("r", 100), set); err != nil || set["name"] != "mine" {
		t.Errorf("a set name was autonamed: %v %v", set, err)
	}
}

// The mocks refuse a type they know no rules for, and a resource whose
// inputs break a rule; they autoname one that sets no name.
func TestNewResourceAppliesTheProvider(t *testing.T) {
	m := &Mocks{}
	if _, _, err := m.NewResource(pulumi.MockResourceArgs{TypeToken: "aws:apigateway/method:Method", Name: "m", Custom: true}); err == nil {
		t.Error("a type without rules was accepted")
	}
	_, _, err := m.NewResource(pulumi.MockResourceArgs{TypeToken: "aws:lambda/permission:Permission", Name: "tollgate-dev-GET/hello", Custom: true,
		Inputs: resource.NewPropertyMapFromMap(map[string]any{"action": "lambda:InvokeFunction", "function": "f", "principal": "apigateway.amazonaws.com"})})
	if err == nil || !strings.Contains(err.Error(), "statementId") {
		t.Errorf("a permission autonamed from %q: %v, want the statement id refused", "tollgate-dev-GET/hello", err)
	}
	id, out, err := m.NewResource(pulumi.MockResourceArgs{TypeToken: "aws:iam/role:Role", Name: "tollgate-dev-handler", Custom: true,
		Inputs: resource.NewPropertyMapFromMap(map[string]any{"assumeRolePolicy": goodPolicy})})
	if err != nil || id != Autonamed("tollgate-dev-handler") || out["name"].StringValue() != id {
		t.Errorf("role = %q %v %v, want autonamed, its id its name", id, out, err)
	}
	if _, _, err := m.NewResource(pulumi.MockResourceArgs{TypeToken: "tollgate:index:API", Name: "c"}); err != nil {
		t.Errorf("a component: %v", err)
	}
}

// register registers one resource with m, as the program would.
func register(m *Mocks, typ, name string, inputs map[string]any) error {
	_, _, err := m.NewResource(pulumi.MockResourceArgs{TypeToken: typ, Name: name, Custom: true, Inputs: resource.NewPropertyMapFromMap(inputs)})
	return err
}

// Issue 28: the mocks model what AWS stores. A stage's method setting is
// keyed as API Gateway keys it (~1 for each / of the resource path), by a
// method the API has; a function's policy stays within Lambda's quota;
// an HTTP API's body says in its info what the stack names it.
func TestStoredSide(t *testing.T) {
	m := &Mocks{}
	body := `{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{"/orders/{id}":{"get":{}},"/":{"x-amazon-apigateway-any-method":{}}}}`
	if err := register(m, "aws:apigateway/restApi:RestApi", "api", map[string]any{"name": "api", "body": body}); err != nil {
		t.Fatal(err)
	}
	settings := func(path string) error {
		return register(m, "aws:apigateway/methodSettings:MethodSettings", "s-"+path, map[string]any{"restApi": APIID, "stageName": "dev", "methodPath": path})
	}
	for _, ok := range []string{"*/*", "~1orders~1{id}/GET", "~1/ANY"} {
		if err := settings(ok); err != nil {
			t.Errorf("method settings %q: %v", ok, err)
		}
	}
	for _, no := range []string{"orders/{id}/GET", "~1orders~1{id}/POST", "~1orders/GET"} {
		if err := settings(no); err == nil {
			t.Errorf("method settings %q, a key no method has, accepted", no)
		}
	}

	perm := func(i int, fn string) error {
		return register(m, "aws:lambda/permission:Permission", fmt.Sprintf("p%d", i), map[string]any{
			"statementId": fmt.Sprintf("route-GET-path-%d-0123abcd", i), "action": "lambda:InvokeFunction", "function": fn,
			"principal": "apigateway.amazonaws.com", "sourceArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/GET/path/" + strconv.Itoa(i)})
	}
	var err error
	n := 0
	for ; err == nil && n < 1000; n++ {
		err = perm(n, "big")
	}
	if err == nil || !strings.Contains(err.Error(), "20480") || n < 50 || n > 90 {
		t.Errorf("permissions on one function: refused at the %dth (%v); want Lambda's 20 KB quota reached after 50 to 90", n, err)
	}
	if size := m.PolicySize("big"); size > LambdaPolicyQuota || size < LambdaPolicyQuota-400 {
		t.Errorf("PolicySize = %d", size)
	}
	if err := perm(0, "other"); err != nil {
		t.Errorf("another function's policy: %v", err)
	}

	for _, c := range []struct {
		info string
		ok   bool
	}{
		{`{"title":"tollgate-dev","description":"d","version":"1.0"}`, true},
		{`{"title":"tollgate-dev"}`, true},
		{`{"title":"tollgate","description":"d","version":"1.0"}`, false},
		{`{"title":"tollgate-dev","description":"other"}`, false},
		{`{"title":"tollgate-dev","version":"2"}`, false},
	} {
		err := register(m, "aws:apigatewayv2/api:Api", "http", map[string]any{"name": "tollgate-dev", "protocolType": "HTTP", "description": "d", "version": "1.0",
			"body": `{"openapi":"3.0.1","info":` + c.info + `,"paths":{}}`})
		if (err == nil) != c.ok {
			t.Errorf("HTTP API with info %s: %v, want accepted %v", c.info, err, c.ok)
		}
	}
}

// Issue 30: an API key is on one usage plan per stage. The mocks refuse a
// second association with a plan of the same stage, in one deploy, and a
// move between plans that creates the new association before it deletes
// the old one.
func TestOnePlanPerStage(t *testing.T) {
	m := &Mocks{}
	for _, stage := range []string{"dev", "prod"} {
		if err := register(m, "aws:apigateway/stage:Stage", "stage-"+stage, map[string]any{"restApi": "a1", "deployment": "d1", "stageName": stage}); err != nil {
			t.Fatal(err)
		}
	}
	if err := register(m, "aws:apigateway/usagePlan:UsagePlan", "early", map[string]any{"name": "early",
		"apiStages": []any{map[string]any{"apiId": "a1", "stage": "test"}}}); err == nil || !strings.Contains(err.Error(), "has not made") {
		t.Errorf("a plan on a stage not made: %v, want refused", err)
	}
	plan := func(name, stage string) {
		t.Helper()
		if err := register(m, "aws:apigateway/usagePlan:UsagePlan", name, map[string]any{"name": name,
			"apiStages": []any{map[string]any{"apiId": "a1", "stage": stage}}}); err != nil {
			t.Fatal(err)
		}
	}
	plan("free", "dev")
	plan("gold", "dev")
	plan("prod", "prod")
	key := func(name, planID string) error {
		return register(m, "aws:apigateway/usagePlanKey:UsagePlanKey", name, map[string]any{"keyId": "k1", "usagePlanId": planID, "keyType": "API_KEY"})
	}
	if err := key("k1-free", "free-id"); err != nil {
		t.Fatal(err)
	}
	if err := key("k1-prod", "prod-id"); err != nil {
		t.Errorf("the key on a plan of another stage: %v", err)
	}
	if err := key("k1-gold", "gold-id"); err == nil || !strings.Contains(err.Error(), "one usage plan for each stage") {
		t.Errorf("the key on a second plan of stage dev: %v, want refused", err)
	}

	// A move: the same association, on another plan.
	run := func(planID string, deleteFirst bool) *Mocks {
		m := &Mocks{}
		_, _, err := m.NewResource(pulumi.MockResourceArgs{TypeToken: "aws:apigateway/usagePlanKey:UsagePlanKey", Name: "usage-plan-key-c", Custom: true,
			Inputs:      resource.NewPropertyMapFromMap(map[string]any{"keyId": "k1", "usagePlanId": planID, "keyType": "API_KEY"}),
			RegisterRPC: &pulumirpc.RegisterResourceRequest{DeleteBeforeReplace: deleteFirst},
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if c := Conflicts(run("free-id", false), run("gold-id", false)); len(c) != 1 || !strings.Contains(c[0], "same keyId") {
		t.Errorf("a move created before the old association is deleted: conflicts %v, want one", c)
	}
	if c := Conflicts(run("free-id", true), run("gold-id", true)); len(c) != 0 {
		t.Errorf("a move deleting first: conflicts %v, want none", c)
	}
}

// Issue 30: a REST API reading keys from its authorizer (AUTHORIZER) says
// so in its document, has a Lambda authorizer and a method that requires
// an API key; each missing part is refused.
func TestKeySourceAuthorizer(t *testing.T) {
	doc := func(source, security string) string {
		return `{"openapi":"3.0.1","info":{"title":"t","version":"1"},"x-amazon-apigateway-api-key-source":"` + source + `",` +
			`"components":{"securitySchemes":{"tollgate":{"type":"apiKey","name":"Authorization","in":"header","x-amazon-apigateway-authorizer":{"type":"token"}},` +
			`"api_key":{"type":"apiKey","name":"x-api-key","in":"header"}}},` +
			`"paths":{"/hello":{"get":{"security":[` + security + `]}}}}`
	}
	for _, c := range []struct {
		name, source, body string
		ok                 bool
	}{
		{"keys required", "AUTHORIZER", doc("AUTHORIZER", `{"tollgate":[],"api_key":[]}`), true},
		{"header source", "HEADER", doc("HEADER", `{"tollgate":[]}`), true},
		{"the document says HEADER", "AUTHORIZER", doc("HEADER", `{"tollgate":[],"api_key":[]}`), false},
		{"no method requires a key", "AUTHORIZER", doc("AUTHORIZER", `{"tollgate":[]}`), false},
	} {
		err := register(&Mocks{}, "aws:apigateway/restApi:RestApi", "api", map[string]any{"name": "api", "apiKeySource": c.source, "body": c.body})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.ok)
		}
	}
}
