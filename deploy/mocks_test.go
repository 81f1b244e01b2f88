package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"tollgate/api"
)

// Fake AWS identifiers the mocks give resources.
const (
	testRegion  = "eu-west-1"
	testAccount = "123456789012"
	testAPIID   = "a1b2c3d4e5"
)

// registered is one resource the program registered.
type registered struct {
	Type, Name string
	ID         string
	URN        string
	Inputs     map[string]any // secrets unwrapped
	Secrets    map[string]bool
	RPC        *pulumirpc.RegisterResourceRequest
}

func (r registered) str(key string) string { s, _ := r.Inputs[key].(string); return s }

func (r registered) obj(key string) map[string]any { m, _ := r.Inputs[key].(map[string]any); return m }

// mocks answers for AWS and records every resource, as a deploy would
// create it.
type mocks struct {
	mu        sync.Mutex
	resources []registered
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
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

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := registered{Type: args.TypeToken, Name: args.Name, Inputs: map[string]any{}, Secrets: map[string]bool{}, RPC: args.RegisterRPC}
	for k, v := range args.Inputs {
		r.Inputs[string(k)], r.Secrets[string(k)] = plain(v)
	}
	out := args.Inputs.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	id := args.Name + "-id"
	switch args.TypeToken {
	case "aws:apigateway/restApi:RestApi":
		id = testAPIID
		set("rootResourceId", "root-id")
		set("executionArn", "arn:aws:execute-api:"+testRegion+":"+testAccount+":"+testAPIID)
	case "aws:lambda/function:Function":
		arn := "arn:aws:lambda:" + testRegion + ":" + testAccount + ":function:" + r.str("name")
		set("arn", arn)
		set("invokeArn", "arn:aws:apigateway:"+testRegion+":lambda:path/2015-03-31/functions/"+arn+"/invocations")
	case "aws:secretsmanager/secret:Secret":
		id = "arn:aws:secretsmanager:" + testRegion + ":" + testAccount + ":secret:" + args.Name + "-AbCdEf"
		set("arn", id)
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", "arn:aws:logs:"+testRegion+":"+testAccount+":log-group:"+r.str("name"))
	case "aws:iam/role:Role":
		set("arn", "arn:aws:iam::"+testAccount+":role/"+args.Name)
		set("name", args.Name)
	case "aws:apigateway/stage:Stage":
		set("invokeUrl", "https://"+testAPIID+".execute-api."+testRegion+".amazonaws.com/"+r.str("stageName"))
	case "random:index/randomPassword:RandomPassword":
		// Deterministic, distinct per resource and per keepers, like a
		// real password would be per replacement.
		seed := sha256.Sum256([]byte(fmt.Sprint(args.Name, r.Inputs["keepers"])))
		n := int(r.Inputs["length"].(float64))
		pw := strings.Repeat(hex.EncodeToString(seed[:]), n/64+1)[:n]
		out["result"] = resource.MakeSecret(resource.NewPropertyValue(pw))
	}
	r.ID = id
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, out, nil
}

// of are the resources of one type, in the order they were registered.
func (m *mocks) of(typ string) []registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []registered
	for _, r := range m.resources {
		if r.Type == typ {
			rs = append(rs, r)
		}
	}
	return rs
}

// one is the only resource of a type; the test fails if there is not
// exactly one.
func (m *mocks) one(t *testing.T, typ string) registered {
	t.Helper()
	rs := m.of(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	return rs[0]
}

// named is the resource of a type with a logical name.
func (m *mocks) named(t *testing.T, typ, name string) registered {
	t.Helper()
	for _, r := range m.of(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %q", typ, name)
	return registered{}
}

// fakeArchives stand in for built functions: tests of the resources do
// not need real binaries (TestNewBuilds builds them).
func fakeArchives(t *testing.T, def *api.Definition) map[string]Archive {
	t.Helper()
	dir := t.TempDir()
	archives := map[string]Archive{}
	for name := range def.Functions {
		z, err := zipBootstrap([]byte("#!/bin/sh\necho " + name + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".zip")
		if err := os.WriteFile(path, z, 0o644); err != nil {
			t.Fatal(err)
		}
		archives[name] = Archive{Path: path, SHA256: "sha-of-" + name}
	}
	return archives
}

// testArgs are valid Args with fake archives.
func testArgs(t *testing.T) Args {
	def := api.Default()
	return Args{Definition: def, Clients: []string{"mobile", "reports"}, Archives: fakeArchives(t, &def)}
}

// run deploys args with the mocks, as "tollgate-dev", and returns what
// was registered and the component.
func run(t *testing.T, args Args) (*mocks, *API, error) {
	t.Helper()
	m := &mocks{}
	var a *API
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		a, err = New(ctx, "tollgate-dev", args)
		return err
	}, pulumi.WithMocks("tollgate", "dev", m))
	return m, a, err
}

// mustRun is run for args that must deploy.
func mustRun(t *testing.T, args Args) (*mocks, *API) {
	t.Helper()
	m, a, err := run(t, args)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, a
}

// await is the value of o once the program has finished.
func await[T any](t *testing.T, o pulumi.Output) T {
	t.Helper()
	ch := make(chan T, 1)
	o.ApplyT(func(v T) T { ch <- v; return v })
	return <-ch
}
