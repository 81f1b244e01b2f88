package deploy

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
	"tollgate/internal/iam"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tollgate:index:API"

// lambdaRuntime is the Lambda runtime every function runs on, as a bootstrap
// binary.
const lambdaRuntime = "provided.al2023"

// API is a tollgate API deployed on AWS: its resources are the component's
// children, so a stack can hold several.
type API struct {
	pulumi.ResourceState

	// URL is the stage's invoke URL, https://{id}.execute-api.{region}.amazonaws.com/{stage}.
	URL pulumi.StringOutput
	// RouteURLs are the URL of each route, by route ("GET /hello").
	RouteURLs pulumi.StringMapOutput
	// SecretARN is the ARN of the secret holding the keyring; "" with
	// the key table.
	SecretARN pulumi.StringOutput
	// KeyTableName is the key table's name (keyStore: dynamodb), the
	// table tollkeys changes as dynamodb:NAME; "" with the secret.
	KeyTableName pulumi.StringOutput
	// APIKeys are the clients' keys, by client: a secret.
	APIKeys pulumi.StringMapOutput
	// KeyGenerations are the generations of the clients' generated keys,
	// by client, for Args.DeployedGenerations at the next update.
	KeyGenerations pulumi.IntMap
	// Curl is a command that calls the first protected route with the
	// first client's key, read from the stack's outputs.
	Curl pulumi.StringOutput
	// RevokeNow is the command that ends removed keys at once rather than
	// within the authorizer's key TTL plus the stage's result cache TTL
	// (cmd/tollkeys refresh, with this stack's names).
	RevokeNow pulumi.StringOutput
	// Usage is the command that prints each client's usage of its plan
	// (cmd/tollkeys usage, with this stack's names); "" without plans.
	Usage pulumi.StringOutput
	// Dashboard is the CloudWatch console's address of the stack's
	// dashboard; "" with monitoring off.
	Dashboard pulumi.StringOutput
	// Document is the REST API's OpenAPI document, as deployed: the
	// Definition's (api.Definition.Document) with the functions' invoke
	// ARNs.
	Document pulumi.StringOutput

	// RestAPI and Stage are a REST API's; HTTPAPI and HTTPStage an HTTP
	// API's (api.Definition.Type).
	RestAPI   *apigateway.RestApi
	Stage     *apigateway.Stage
	HTTPAPI   *apigatewayv2.Api
	HTTPStage *apigatewayv2.Stage
	Functions map[string]*lambda.Function
	// Secret holds the keyring (SecretStore); KeyTable the keys
	// (TableStore). The other is nil.
	Secret   *secretsmanager.Secret
	KeyTable *dynamodb.Table
}

var componentName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}$`)

// FunctionName is the Lambda function name of a tollgate API's function:
// the component's name, '-', and the function's name in the Definition.
func FunctionName(component, function string) string { return component + "-" + function }

// MaxFunctionName is the longest FunctionName New accepts. Each function's
// IAM role is autonamed from the same name: Pulumi appends '-' and 7
// random hex digits (pulumi/pulumi sdk/go/common/resource/resource_id.go,
// NewUniqueName, which refuses a name that would pass the maximum), and
// IAM role names are at most 64 characters (pulumi-aws
// provider/resources.go, aws_iam_role: tfbridge.AutoName("name", 64, "-");
// terraform-provider-aws internal/service/iam/role.go, roleNameMaxLen).
// Lambda alone would allow 64 (internal/service/lambda/validate.go,
// validFunctionName).
const MaxFunctionName = 64 - 8

// CheckName reports whether name can name a tollgate API of def: every
// name derived from it fits the limits AWS and the provider set. Its
// error wraps ErrConfig and says how long name may be.
func CheckName(name string, def *api.Definition) error {
	if !componentName.MatchString(name) {
		return configErr("name %q: use 1 to 50 letters, digits, '-' or '_' (it prefixes function names)", name)
	}
	longest := ""
	for fn := range def.Functions {
		if len(fn) > len(longest) || len(fn) == len(longest) && fn < longest {
			longest = fn
		}
	}
	if n := len(FunctionName(name, longest)); n > MaxFunctionName {
		return configErr("name %q is %d characters too long: function %q would be %q, and its role's name, with the 8 characters Pulumi adds, would pass IAM's 64; use a name of at most %d characters",
			name, n-MaxFunctionName, longest, FunctionName(name, longest), MaxFunctionName-1-len(longest))
	}
	return nil
}

// New validates args, builds the functions (unless args.Archives holds
// them) and creates the API's resources as children of one component. A
// configuration error or a failed build returns before any resource, the
// component included, is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*API, error) {
	args = args.withDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	if err := CheckName(name, &args.Definition); err != nil {
		return nil, err
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
	steps := []func() error{d.keyring, d.logs, d.functions, d.restAPI, d.deployment, d.usagePlans}
	if args.Definition.IsHTTP() {
		steps = d.httpSteps()
	}
	a.Dashboard = pulumi.String("").ToStringOutput()
	steps = append(steps, d.monitoring)
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	d.outputs()
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{
		"url":            a.URL,
		"routeUrls":      a.RouteURLs,
		"secretArn":      a.SecretARN,
		"keyTable":       a.KeyTableName,
		"apiKeys":        a.APIKeys,
		"keyGenerations": a.KeyGenerations,
		"curl":           a.Curl,
		"revokeNow":      a.RevokeNow,
		"usage":          a.Usage,
		"dashboard":      a.Dashboard,
		"openapi":        a.Document,
	})
}

// deployer holds what the steps of New share.
type deployer struct {
	ctx    *pulumi.Context
	name   string
	args   Args
	api    *API
	parent pulumi.ResourceOption

	keys           pulumi.StringMap                // by client
	keyringVersion *secretsmanager.SecretVersion   // SecretStore
	keyItems       []*dynamodb.TableItem           // TableStore
	usageKeys      map[string]pulumi.StringOutput  // by client, with a usage plan
	logGroups      map[string]*cloudwatch.LogGroup // by function
	accessLogs     *cloudwatch.LogGroup
	document       pulumi.StringOutput // the OpenAPI document, with the functions' invoke ARNs
	rest           *apigateway.RestApi
	stage          *apigateway.Stage
	http           *apigatewayv2.Api

	// Of either kind of API: its execute-api ARN, its stage's invoke URL
	// and its id.
	executionARN pulumi.StringOutput
	invokeURL    pulumi.StringOutput
	apiID        pulumi.IDOutput
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
// A Lambda permission names one source ARN per route, so ANY stays one
// "*": the permission lets only this API's routes invoke the function.
func routeARN(r api.Route) string {
	method := r.Method
	if method == "ANY" {
		method = "*"
	}
	return iam.RouteResource(method, r.Path)
}

func (d *deployer) functionNames() []string { return slices.Sorted(maps.Keys(d.def().Functions)) }

func itoa(n int) string { return strconv.Itoa(n) }
