// Command tollgate is the Pulumi program: `pulumi up` builds the Lambda
// functions and deploys a REST API guarded by tollgate's authorizer, with
// its keys in Secrets Manager; `pulumi destroy` removes it. It reads the
// stack's configuration (see Pulumi.yaml and docs/deploying.md), builds, and hands the
// rest to the deploy package's component.
package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/deploy"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := program(ctx, "")
		return err
	})
}

// program reads and checks the configuration and builds the functions
// into buildDir (default .tollgate/build/<arch> in the module) before it
// creates anything, so a mistake or a compile error leaves the stack
// untouched; then it creates the AWS provider from the stack's aws:*
// settings and default tags, the API, and the stack's outputs, which it
// returns.
func program(ctx *pulumi.Context, buildDir string) (pulumi.Map, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	args := cfg.Args
	if args.DeployedGenerations, err = deployedGenerations(ctx); err != nil {
		return nil, err
	}
	if err := args.Validate(); err != nil { // again, against what is deployed
		return nil, err
	}
	args.BuildDir = buildDir
	if err := args.Build(ctx.Context()); err != nil {
		return nil, err
	}
	provider, err := newProvider(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a, err := deploy.New(ctx, cfg.Name, args, pulumi.Provider(provider))
	if err != nil {
		return nil, err
	}
	outputs := pulumi.Map{
		"url":       a.URL,
		"routeUrls": a.RouteURLs,
		"secretArn": a.SecretARN,
		"keyTable":  a.KeyTableName,
		"apiKeys":   a.APIKeys,
		"revokeNow": a.RevokeNow,
		"usage":     a.Usage,
		"dashboard": a.Dashboard,
		"curl":      a.Curl,
		"openapi":   a.Document,
		// Read back at the next update (deployedGenerations).
		keyGenerationsOutput: a.KeyGenerations,
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return outputs, nil
}

// keyGenerationsOutput is the stack output that records each client's key
// generation (deploy.API.KeyGenerations).
const keyGenerationsOutput = "keyGenerations"

// deployedGenerations reads the key generations the stack's last update
// deployed, through a stack reference to the stack itself (its outputs are
// those of its last completed update; pulumi/pulumi#3722 shows a stack
// reading its own), so that the update can refuse to undo a rotation
// (deploy.Args.DeployedGenerations). It waits for the read: the check
// comes before anything is built or created. A stack with no such output
// (a first deploy, or one from before it) has none.
func deployedGenerations(ctx *pulumi.Context) (map[string]int, error) {
	self := ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()
	ref, err := pulumi.NewStackReference(ctx, "tollgate-deployed", &pulumi.StackReferenceArgs{Name: pulumi.String(self)})
	if err != nil {
		return nil, fmt.Errorf("reading the stack's last outputs (%s): %w", self, err)
	}
	d, err := ref.GetOutputDetails(keyGenerationsOutput)
	if err != nil {
		return nil, fmt.Errorf("reading the stack's last outputs (%s): %w", self, err)
	}
	raw, ok := d.Value.(map[string]any)
	if d.Value != nil && !ok {
		return nil, fmt.Errorf("the stack's %s output is %T, not a map of generations", keyGenerationsOutput, d.Value)
	}
	out := map[string]int{}
	for c, v := range raw {
		n, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("the stack's %s output: client %q: %T, not a number", keyGenerationsOutput, c, v)
		}
		out[c] = int(n)
	}
	return out, nil
}
