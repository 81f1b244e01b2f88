package deploy

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tollgate:index:API"

// Runtime is the Lambda runtime every function runs on, as a bootstrap
// binary.
const Runtime = "provided.al2023"

// API is a tollgate API deployed on AWS: its resources are the component's
// children, so a stack can hold several.
type API struct {
	pulumi.ResourceState

	// URL is the stage's invoke URL, https://{id}.execute-api.{region}.amazonaws.com/{stage}.
	URL pulumi.StringOutput
	// RouteURLs are the URL of each route, by route ("GET /hello").
	RouteURLs pulumi.StringMapOutput
	// SecretARN is the ARN of the secret holding the keyring.
	SecretARN pulumi.StringOutput
	// APIKeys are the clients' keys, by client: a secret.
	APIKeys pulumi.StringMapOutput
	// Curl is a command that calls the first protected route with the
	// first client's key, read from the stack's outputs.
	Curl pulumi.StringOutput

	RestAPI    *apigateway.RestApi
	Stage      *apigateway.Stage
	Authorizer *apigateway.Authorizer
	Functions  map[string]*lambda.Function
	Secret     *secretsmanager.Secret
}

var componentName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}$`)

// FunctionName is the Lambda function name of a tollgate API's function:
// the component's name, '-', and the function's name in the Definition.
func FunctionName(component, function string) string { return component + "-" + function }

// New validates args, builds the functions (unless args.Archives holds
// them) and creates the API's resources as children of one component. A
// configuration error or a failed build returns before any resource, the
// component included, is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*API, error) {
	args = args.withDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	if !componentName.MatchString(name) {
		return nil, configErr("name %q: use 1 to 50 letters, digits, '-' or '_' (it prefixes function names)", name)
	}
	for fn := range args.Definition.Functions {
		if n := len(FunctionName(name, fn)); n > 64 {
			return nil, configErr("function name %q is %d characters, Lambda allows 64", FunctionName(name, fn), n)
		}
	}
	if args.Archives == nil {
		if err := args.Build(ctx.Context()); err != nil {
			return nil, err
		}
	}

	a := &API{Functions: map[string]*lambda.Function{}}
	if err := ctx.RegisterComponentResource(TypeToken, name, a, opts...); err != nil {
		return nil, err
	}
	d := &deployer{ctx: ctx, name: name, args: args, api: a, parent: pulumi.Parent(a)}
	for _, step := range []func() error{d.keyring, d.logs, d.functions, d.restAPI, d.routes, d.responses, d.deployment, d.usagePlan} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	d.outputs()
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{
		"url":       a.URL,
		"routeUrls": a.RouteURLs,
		"secretArn": a.SecretARN,
		"apiKeys":   a.APIKeys,
		"curl":      a.Curl,
	})
}

// deployer holds what the steps of New share.
type deployer struct {
	ctx    *pulumi.Context
	name   string
	args   Args
	api    *API
	parent pulumi.ResourceOption

	keys         pulumi.StringMap                // by client
	usageKeys    map[string]pulumi.StringOutput  // by client, with a usage plan
	logGroups    map[string]*cloudwatch.LogGroup // by function
	accessLogs   *cloudwatch.LogGroup
	rest         *apigateway.RestApi
	resourceIDs  map[string]pulumi.StringOutput // by path
	authorizer   *apigateway.Authorizer
	changes      []any // what a new deployment depends on
	dependencies []pulumi.Resource
	stage        *apigateway.Stage
}

// child names a child resource: the component's name, '-', what it is.
func (d *deployer) child(what string) string { return d.name + "-" + what }

func (d *deployer) def() *api.Definition { return &d.args.Definition }

// partitionOf is the partition of an ARN: "aws", "aws-cn", …
func partitionOf(arn string) string {
	if parts := strings.SplitN(arn, ":", 3); len(parts) == 3 {
		return parts[1]
	}
	return "aws"
}

// routeARN is the part of an execute-api ARN after the stage that matches
// r: the method (* for ANY) and the path with each parameter a wildcard.
func routeARN(r api.Route) string {
	method := r.Method
	if method == "ANY" {
		method = "*"
	}
	segs := strings.Split(strings.TrimPrefix(r.Path, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "*"
		}
	}
	return method + "/" + strings.Join(segs, "/")
}

// sortedRoutes are the Definition's routes in a stable order, so resource
// names do not depend on the order routes are listed in.
func (d *deployer) sortedRoutes() []api.Route {
	rs := slices.Clone(d.def().Routes)
	slices.SortFunc(rs, func(a, b api.Route) int { return strings.Compare(a.String(), b.String()) })
	return rs
}

func (d *deployer) functionNames() []string { return slices.Sorted(maps.Keys(d.def().Functions)) }

func itoa(n int) string { return strconv.Itoa(n) }
