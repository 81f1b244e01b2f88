// Command tollgate is the Pulumi program: `pulumi up` builds the Lambda
// functions and deploys a REST API guarded by tollgate's authorizer, with
// its keys in Secrets Manager; `pulumi destroy` removes it. It reads the
// stack's configuration (see Pulumi.yaml and README), builds, and hands the
// rest to the deploy package's component.
package main

import (
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
		"apiKeys":   a.APIKeys,
		"revokeNow": a.RevokeNow,
		"curl":      a.Curl,
		"openapi":   a.Document,
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return outputs, nil
}
