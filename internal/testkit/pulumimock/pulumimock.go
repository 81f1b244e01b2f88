// Package pulumimock records what a Pulumi program registers, answering
// for the AWS and random providers the way they would: it autonames
// resources and refuses the values the provider refuses (Provider, each
// rule citing its source), and answers with fixed identifiers (ARNs,
// invoke URLs, generated passwords), so tests can assert on every
// resource's inputs and options as a deploy would send them, and a name
// or value AWS would refuse fails the test as it would fail a preview.
package pulumimock

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Fake AWS identifiers the mocks give resources.
const (
	Region  = "eu-west-1"
	Account = "123456789012"
	// APIID is a REST API's id, HTTPAPIID an HTTP API's: two APIs never
	// share an id, so a change of API (apiType) changes every ARN made
	// from it, as on AWS.
	APIID     = "a1b2c3d4e5"
	HTTPAPIID = "h6t7t8p9a0"
)

// Resource is one resource the program registered.
type Resource struct {
	Type, Name string
	ID         string
	URN        string
	Inputs     map[string]any // secrets unwrapped
	Secrets    map[string]bool
	RPC        *pulumirpc.RegisterResourceRequest
}

// Str is the string input key, or "".
func (r Resource) Str(key string) string { s, _ := r.Inputs[key].(string); return s }

// Obj is the object input key, or nil.
func (r Resource) Obj(key string) map[string]any { m, _ := r.Inputs[key].(map[string]any); return m }

// Mocks answers for AWS and random as their providers would, with
// fixed identifiers, and records every resource, as a deploy would create
// it. Use it with pulumi.WithMocks.
type Mocks struct {
	// Roles are the IAM roles the account already has, name to ARN, as
	// aws:iam/getRoles answers.
	Roles map[string]string

	// StackOutputs are other stacks' outputs (this one's own, from its
	// last update, among them), by fully qualified stack name, as a
	// pulumi:pulumi:StackReference reads them.
	StackOutputs map[string]map[string]any

	mu        sync.Mutex
	stored    stored
	Resources []Resource
	Invokes   []string
	// StackReads are the stacks read by stack references, by name.
	StackReads []string
}

// Call answers the invokes the program makes: aws:iam/getRoles, matching
// the name regex against Roles.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.Invokes = append(m.Invokes, args.Token)
	m.mu.Unlock()
	switch args.Token {
	case "aws:iam/getRoles:getRoles":
		re, err := regexp.Compile(args.Args["nameRegex"].StringValue())
		if err != nil {
			return nil, fmt.Errorf("getRoles: nameRegex: %w", err)
		}
		var names, arns []string
		for _, name := range slices.Sorted(maps.Keys(m.Roles)) {
			if re.MatchString(name) {
				names, arns = append(names, name), append(arns, m.Roles[name])
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "arns": arns, "id": Region}), nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// plain turns a property into Go values, unwrapping secrets.
func plain(v resource.PropertyValue) (any, bool) {
	switch {
	case v.IsSecret():
		p, _ := plain(v.SecretValue().Element)
		return p, true
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)], _ = plain(e)
		}
		return out, false
	case v.IsArray():
		var out []any
		for _, e := range v.ArrayValue() {
			p, _ := plain(e)
			out = append(out, p)
		}
		return out, false
	case v.IsAsset() || v.IsArchive():
		return v.V, false
	case v.IsNull() || v.IsComputed() || v.IsOutput():
		return nil, false
	}
	return v.Mappable(), false
}

// NewResource answers a registration as the provider would: it autonames
// the resource, checks its inputs against Provider's rules for its type
// (refusing a type with none), and answers with the resource's outputs.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := Resource{Type: args.TypeToken, Name: args.Name, Inputs: map[string]any{}, Secrets: map[string]bool{}, RPC: args.RegisterRPC}
	for k, v := range args.Inputs {
		r.Inputs[string(k)], r.Secrets[string(k)] = plain(v)
	}
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		// A read of a stack's outputs, not a resource of any provider
		// (sdk go/pulumi/stack_reference.go: outputs, secretOutputNames).
		name := r.Str("name")
		m.mu.Lock()
		m.StackReads = append(m.StackReads, name)
		m.mu.Unlock()
		return name, resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "outputs": m.StackOutputs[name], "secretOutputNames": []string{},
		}), nil
	}
	rules, known := Provider[args.TypeToken]
	if !args.Custom {
		// A component: the program's own, nothing a provider sees.
		rules, known = TypeRules{}, true
	}
	if !known {
		return "", nil, fmt.Errorf("%s %s: the mocks know no provider rules for this type; add them, with their sources, to pulumimock.Provider", args.TypeToken, args.Name)
	}
	if a := rules.Autoname; a != nil {
		if err := a.apply(args.Name, r.Inputs); err != nil {
			return "", nil, fmt.Errorf("%s %s: %w", args.TypeToken, args.Name, err)
		}
	}
	if err := rules.Check(r.Inputs); err != nil {
		return "", nil, fmt.Errorf("%s %s: %w", args.TypeToken, args.Name, err)
	}
	if err := rules.CheckOptions(args.RegisterRPC.GetReplaceOnChanges()); err != nil {
		return "", nil, fmt.Errorf("%s %s: %w", args.TypeToken, args.Name, err)
	}
	out := args.Inputs.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	if a := rules.Autoname; a != nil {
		set(a.Prop, r.Inputs[a.Prop])
	}
	id := args.Name + "-id"
	switch args.TypeToken {
	case "aws:apigateway/restApi:RestApi":
		id = APIID
		set("rootResourceId", "root-id")
		set("executionArn", "arn:aws:execute-api:"+Region+":"+Account+":"+APIID)
	case "aws:lambda/function:Function":
		arn := "arn:aws:lambda:" + Region + ":" + Account + ":function:" + r.Str("name")
		set("arn", arn)
		set("invokeArn", "arn:aws:apigateway:"+Region+":lambda:path/2015-03-31/functions/"+arn+"/invocations")
	case "aws:secretsmanager/secret:Secret":
		// Secrets Manager appends '-' and 6 random characters to the name.
		id = "arn:aws:secretsmanager:" + Region + ":" + Account + ":secret:" + r.Str("name") + "-AbCdEf"
		set("arn", id)
	case "aws:dynamodb/table:Table":
		// The provider's id of a table is its name
		// (tf internal/service/dynamodb/table.go: d.SetId(tableName)).
		id = r.Str("name")
		set("arn", "arn:aws:dynamodb:"+Region+":"+Account+":table/"+id)
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", "arn:aws:logs:"+Region+":"+Account+":log-group:"+r.Str("name"))
	case "aws:sns/topic:Topic":
		id = "arn:aws:sns:" + Region + ":" + Account + ":" + r.Str("name")
		set("arn", id)
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		id = r.Str("name")
		set("arn", "arn:aws:cloudwatch:"+Region+":"+Account+":alarm:"+id)
	case "aws:iam/role:Role":
		// The provider's id of a role is its name
		// (tf internal/service/iam/role.go: d.SetId(roleName)).
		id = r.Str("name")
		set("arn", "arn:aws:iam::"+Account+":role/"+id)
	case "aws:lambda/permission:Permission":
		id = r.Str("statementId")
	case "aws:apigatewayv2/api:Api":
		id = HTTPAPIID
		set("apiEndpoint", "https://"+HTTPAPIID+".execute-api."+Region+".amazonaws.com")
		set("executionArn", "arn:aws:execute-api:"+Region+":"+Account+":"+HTTPAPIID)
		set("arn", "arn:aws:apigateway:"+Region+"::/apis/"+HTTPAPIID)
	case "aws:apigatewayv2/stage:Stage":
		// tf internal/conns APIGatewayV2InvokeURL: the $default stage is
		// served at the root.
		id = r.Str("name")
		stage := r.Str("name")
		if stage == "$default" {
			stage = ""
		}
		set("invokeUrl", "https://"+HTTPAPIID+".execute-api."+Region+".amazonaws.com/"+stage)
		set("executionArn", "arn:aws:execute-api:"+Region+":"+Account+":"+HTTPAPIID+"/"+r.Str("name"))
	case "aws:apigateway/stage:Stage":
		set("invokeUrl", "https://"+APIID+".execute-api."+Region+".amazonaws.com/"+r.Str("stageName"))
	case "random:index/randomPassword:RandomPassword":
		// Deterministic, distinct per resource and per keepers, like a
		// real password would be per replacement.
		seed := sha256.Sum256([]byte(fmt.Sprint(args.Name, r.Inputs["keepers"])))
		n := int(r.Inputs["length"].(float64))
		pw := strings.Repeat(hex.EncodeToString(seed[:]), n/64+1)[:n]
		out["result"] = resource.MakeSecret(resource.NewPropertyValue(pw))
	}
	r.ID = id
	if err := m.store(r); err != nil {
		return "", nil, fmt.Errorf("%s %s: %w", args.TypeToken, args.Name, err)
	}
	m.mu.Lock()
	m.Resources = append(m.Resources, r)
	m.mu.Unlock()
	return id, out, nil
}

// Of are the resources of one type, in the order they were registered.
func (m *Mocks) Of(typ string) []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []Resource
	for _, r := range m.Resources {
		if r.Type == typ {
			rs = append(rs, r)
		}
	}
	return rs
}

// One is the only resource of a type; the test fails if there is not
// exactly one.
func (m *Mocks) One(t *testing.T, typ string) Resource {
	t.Helper()
	rs := m.Of(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	return rs[0]
}

// Named is the resource of a type with a logical name.
func (m *Mocks) Named(t *testing.T, typ, name string) Resource {
	t.Helper()
	for _, r := range m.Of(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %q", typ, name)
	return Resource{}
}
