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

// newProvider is the AWS provider every resource is created with, made
// as aws.NewProvider makes it (its defaults, its secret inputs, its
// plugin version) from cfg's arguments (providerArgs).
func newProvider(ctx *pulumi.Context, cfg stackConfig) (*aws.Provider, error) {
	return aws.NewProvider(ctx, "aws", cfg.provider)
}

// providerArgs are the provider's arguments for the stack. Pulumi
// configures the default provider from the stack's aws:* settings; an
// explicit provider reads none of them (pulumi/pulumi-aws#1307), so each
// one the stack sets (aws:profile, aws:assumeRole,
// aws:sharedCredentialsFiles, aws:allowedAccountIds, …) is passed on here,
// decoded into the argument's own type (text as it is; objects, lists,
// booleans and numbers from the JSON the CLI passes them in), a secret
// setting staying secret. The region is the one loadConfig settled on, and
// the default tags are the stack's aws:defaultTags with tollgate's added.
// They are read with the rest of the configuration, so that a setting of
// the wrong type stops the program before anything is built.
func providerArgs(ctx *pulumi.Context, cfg stackConfig) (*aws.ProviderArgs, error) {
	args := &aws.ProviderArgs{}
	fields := reflect.ValueOf(args).Elem()
	plain := aws.ProviderArgs{}.ElementType()
	for i := range plain.NumField() {
		f := plain.Field(i)
		k, _, _ := strings.Cut(f.Tag.Get("pulumi"), ",")
		v, ok := ctx.GetConfig("aws:" + k)
		if !ok || k == "region" || k == "defaultTags" {
			continue
		}
		value := reflect.New(f.Type)
		if f.Type == reflect.TypeFor[*string]() {
			value.Elem().Set(reflect.ValueOf(&v))
		} else if err := json.Unmarshal([]byte(v), value.Interface()); err != nil {
			return nil, fmt.Errorf("%w: aws:%s: %q is not a %s: %v", deploy.ErrConfig, k, v, f.Type, err)
		}
		out := pulumi.ToOutput(value.Elem().Interface())
		if ctx.IsConfigSecret("aws:" + k) {
			out = pulumi.ToSecret(out)
		}
		field := fields.FieldByName(f.Name)
		if !field.IsValid() || !reflect.TypeOf(out).AssignableTo(field.Type()) {
			return nil, fmt.Errorf("aws:%s: the provider's argument %s cannot take a %T", k, f.Name, out)
		}
		field.Set(reflect.ValueOf(out))
	}
	args.Region = pulumi.StringPtr(cfg.Region)
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
	args.DefaultTags = &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(tags)}
	return args, nil
}
