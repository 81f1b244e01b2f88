package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/deploy"
)

// providerSettings are the names of the AWS provider's settings, as the
// stack sets them (aws:profile, aws:assumeRole, …): the pulumi tags of the
// provider's arguments.
func providerSettings() []string {
	t := aws.ProviderArgs{}.ElementType()
	var keys []string
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("pulumi"), ","); k != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// newProvider is the AWS provider every resource is created with. Pulumi
// configures the default provider from the stack's aws:* settings; an
// explicit provider reads none of them (pulumi/pulumi-aws#1307), so each
// one the stack sets (aws:profile, aws:assumeRole, aws:sharedCredentialsFiles,
// aws:allowedAccountIds, …) is passed on here as the CLI passes it to the
// default provider, as text (objects and arrays in JSON), a secret setting
// staying secret. The region is the one loadConfig settled on, and the
// default tags are the stack's aws:defaultTags with tollgate's added.
func newProvider(ctx *pulumi.Context, cfg stackConfig) (*aws.Provider, error) {
	inputs := pulumi.Map{}
	for _, k := range providerSettings() {
		v, ok := ctx.GetConfig("aws:" + k)
		if !ok {
			continue
		}
		if ctx.IsConfigSecret("aws:" + k) {
			inputs[k] = pulumi.ToSecret(pulumi.String(v))
		} else {
			inputs[k] = pulumi.String(v)
		}
	}
	inputs["region"] = pulumi.String(cfg.Region)
	tags := map[string]string{}
	if v, ok := ctx.GetConfig("aws:defaultTags"); ok {
		var dt struct {
			Tags map[string]string `json:"tags"`
		}
		if err := json.Unmarshal([]byte(v), &dt); err != nil {
			return nil, fmt.Errorf("%w: aws:defaultTags: %v", deploy.ErrConfig, err)
		}
		maps.Copy(tags, dt.Tags)
	}
	maps.Copy(tags, cfg.Tags)
	b, err := json.Marshal(map[string]any{"tags": tags})
	if err != nil {
		return nil, err
	}
	inputs["defaultTags"] = pulumi.String(b)

	var p aws.Provider
	if err := ctx.RegisterResource("pulumi:providers:aws", "aws", inputs, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
