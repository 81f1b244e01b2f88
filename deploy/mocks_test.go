package deploy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
	"tollgate/internal/testkit/pulumimock"
)

const (
	testRegion    = pulumimock.Region
	testAccount   = pulumimock.Account
	testAPIID     = pulumimock.APIID
	testHTTPAPIID = pulumimock.HTTPAPIID
)

type (
	mocks      = pulumimock.Mocks
	registered = pulumimock.Resource
)

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
	m := &pulumimock.Mocks{}
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
