package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/deploy"
)

// providerSettings are the AWS provider's settings, as the stack sets
// them (aws:profile, aws:assumeRole, …), by name, with their Go types:
// the pulumi tags and field types of the provider's arguments.
func providerSettings() map[string]reflect.Type {
	t := aws.ProviderArgs{}.ElementType()
	settings := map[string]reflect.Type{}
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("pulumi"), ","); k != "" {
			settings[k] = t.Field(i).Type
		}
	}
	return settings
}

// newProvider is the AWS provider every resource is created with. Pulumi
// configures the default provider from the stack's aws:* settings; an
// explicit provider reads none of them (pulumi/pulumi-aws#1307), so each
// one the stack sets (aws:profile, aws:assumeRole,
// aws:sharedCredentialsFiles, aws:allowedAccountIds, …) is passed on here
// with the type the provider's arguments give it: text as it is, other
// values (objects, lists, booleans, numbers) decoded from the JSON the CLI
// passes them in, a secret setting staying secret. The region is the one
// loadConfig settled on, and the default tags are the stack's
// aws:defaultTags with tollgate's added.
func newProvider(ctx *pulumi.Context, cfg stackConfig) (*aws.Provider, error) {
	var p aws.Provider
	if err := ctx.RegisterResource("pulumi:providers:aws", "aws", cfg.provider, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// providerInputs are the provider's inputs for the stack (see newProvider),
// read and checked with the rest of the configuration, so that a setting
// of the wrong type stops the program before anything is built.
func providerInputs(ctx *pulumi.Context, cfg stackConfig) (pulumi.Map, error) {
	inputs := pulumi.Map{}
	for k, typ := range providerSettings() {
		v, ok := ctx.GetConfig("aws:" + k)
		if !ok || k == "region" || k == "defaultTags" {
			continue
		}
		var in pulumi.Input = pulumi.String(v)
		if typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.String {
			var decoded any
			if err := json.Unmarshal([]byte(v), &decoded); err != nil {
				return nil, fmt.Errorf("%w: aws:%s: %q is not a %s: %v", deploy.ErrConfig, k, v, typ, err)
			}
			in = pulumi.Any(decoded)
		}
		if ctx.IsConfigSecret("aws:" + k) {
			in = pulumi.ToSecret(in)
		}
		inputs[k] = in
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
	inputs["defaultTags"] = pulumi.Map{"tags": pulumi.ToStringMap(tags)}
	return inputs, nil
}
