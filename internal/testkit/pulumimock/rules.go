package pulumimock

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// The provider's facts the mocks apply, each copied from the source named
// beside it. Paths below are in these repositories:
//
//	pulumi-aws:  github.com/pulumi/pulumi-aws (v6)
//	tf:          github.com/hashicorp/terraform-provider-aws
//	sdk:         github.com/pulumi/pulumi-aws/sdk/v6/go/aws (the doc comments, generated from the provider's docs)
//	random sdk:  github.com/pulumi/pulumi-random/sdk/v4/go/random
//	pulumi sdk:  github.com/pulumi/pulumi/sdk/v3

// Autoname is how the provider names a resource whose name property is
// not set: the logical name, '-', and 7 random hex digits (pulumi-aws
// provider/resources.go, tfbridge.AutoName(prop, max, "-"), which calls
// pulumi sdk go/common/resource/resource_id.go NewUniqueName), refused
// when that would be longer than Max ("name '…' plus 7 random chars is
// longer than maximum length …").
type Autoname struct {
	Prop string
	Max  int
}

// Rule is one check the provider makes of an input property.
type Rule struct {
	// Prop is the property, dotted for nested objects
	// ("loggingConfig.logFormat").
	Prop string
	// Required: the provider refuses the resource without it.
	Required bool
	// Check refuses a value, if set.
	Check func(v any) error
	// Source is where the fact comes from.
	Source string
}

// TypeRules are everything the mocks know of one resource type.
type TypeRules struct {
	Autoname *Autoname
	Rules    []Rule
	// Replace are the inputs whose change replaces the resource (the
	// provider's ForceNew), and ReplaceSource where that comes from; "*"
	// is every input.
	Replace       []string
	ReplaceSource string
	// Identity are the inputs AWS keeps unique (a function's name, a
	// statement id in a function's policy): a replacement created before
	// its predecessor is deleted, with the same identity, is refused.
	Identity []string
	// Exclusive, when set, is an input no two resources of the type may
	// hold at once, whatever their other inputs (an API key on two usage
	// plans of one stage), and ExclusiveSource where that comes from: a
	// replacement created before its predecessor is deleted, holding the
	// same value, is refused.
	Exclusive       string
	ExclusiveSource string
	// Whole are checks of several inputs together.
	Whole []WholeRule
	// NoOpUpdate are the inputs whose change the provider accepts and
	// never applies (an update that does nothing), and NoOpUpdateSource
	// where that comes from: the program must replace the resource on
	// them (pulumi.ReplaceOnChanges), or a change would never reach AWS.
	NoOpUpdate       []string
	NoOpUpdateSource string
}

// randomSuffix is the 7 characters the mocks' autonaming appends: derived
// from the name, so a test run (and the golden plan) is reproducible, as a
// real stack's names are once in its state.
func randomSuffix(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])[:7]
}

// Autonamed is the name the mocks' autonaming gives a resource of that
// logical name.
func Autonamed(logical string) string { return logical + "-" + randomSuffix(logical) }

// autoname applies a to inputs, as the provider's Check does.
func (a *Autoname) apply(logical string, inputs map[string]any) error {
	if _, set := inputs[a.Prop]; set {
		return nil
	}
	prefix := logical + "-"
	if len(prefix)+7 > a.Max {
		return fmt.Errorf("%s: name '%s' plus 7 random chars is longer than maximum length %d", a.Prop, prefix, a.Max)
	}
	inputs[a.Prop] = Autonamed(logical)
	return nil
}

// lookup finds a dotted property in inputs.
func lookup(inputs map[string]any, prop string) (any, bool) {
	var cur any = inputs
	for _, k := range strings.Split(prop, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok || cur == nil {
			return nil, false
		}
	}
	return cur, true
}

// Check applies t's rules to a resource's inputs, as the provider checks them.
func (t TypeRules) Check(inputs map[string]any) error {
	for _, r := range t.Rules {
		v, ok := lookup(inputs, r.Prop)
		if !ok {
			if r.Required {
				return fmt.Errorf("%s is required (%s)", r.Prop, r.Source)
			}
			continue
		}
		if r.Check != nil {
			if err := r.Check(v); err != nil {
				return fmt.Errorf("%s: %v (%s)", r.Prop, err, r.Source)
			}
		}
	}
	for _, w := range t.Whole {
		if err := w.Check(inputs); err != nil {
			return fmt.Errorf("%s: %v (%s)", w.Name, err, w.Source)
		}
	}
	return nil
}

// CheckOptions refuses a resource whose options leave an input the
// provider never updates without a replacement.
func (t TypeRules) CheckOptions(replaceOnChanges []string) error {
	for _, p := range t.NoOpUpdate {
		if !slices.Contains(replaceOnChanges, p) && !slices.Contains(replaceOnChanges, "*") {
			return fmt.Errorf("a change of %s would never be applied: the provider's update does nothing (%s); replace on it (pulumi.ReplaceOnChanges)", p, t.NoOpUpdateSource)
		}
	}
	return nil
}

const (
	srcAutonameDefault = "pulumi-aws provider/resources.go: setAutonaming, AutoName(\"name\", 255, \"-\") for every resource with a name input"
	srcRoleName        = "pulumi-aws provider/resources.go aws_iam_role AutoName(\"name\", 64); tf internal/service/iam/role.go validResourceName(roleNameMaxLen=64), internal/service/iam/validate.go ^[\\w+=,.@-]*$"
	srcRolePolicyName  = "tf internal/service/iam/validate.go validRolePolicyName: 1 to 128, ^[\\w+=,.@-]*$"
	srcLambdaValidate  = "tf internal/service/lambda/validate.go"
	srcLambdaFunction  = "tf internal/service/lambda/function.go"
	srcRestAPI         = "tf internal/service/apigateway/rest_api.go"
	srcAPIKey          = "tf internal/service/apigateway/api_key.go: value StringLenBetween(20, 128)"
	srcSecret          = "tf internal/service/secretsmanager/secret.go"
	srcVerifyARN       = "tf internal/verify/validate.go ValidARN"
	srcV2API           = "tf internal/service/apigatewayv2/api.go"
	srcV2Stage         = "tf internal/service/apigatewayv2/stage.go"
	srcUsagePlan       = "tf internal/service/apigateway/usage_plan.go"
	srcOnePlanPerStage = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html: \"a given API key can only be associated with one usage plan for each stage\" (tollgate's plans are all on its one stage)"
)

// Provider are the rules of every resource type tollgate registers. A type
// missing here is refused, so a new resource cannot slip past the mocks.
var Provider = map[string]TypeRules{
	"pulumi:providers:aws": {Rules: []Rule{
		{Prop: "region", Required: true, Check: match(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`, 1, 64), Source: "the provider needs a Region (sdk provider.go region)"},
	}},
	"random:index/randomPassword:RandomPassword": {
		Replace: []string{"*"}, ReplaceSource: "pulumi-random: every input of a random resource replaces it (terraform-provider-random: RequiresReplace on each attribute)",
		Rules: []Rule{
			{Prop: "length", Required: true, Check: between(1, 1<<20), Source: "random sdk randomPassword.go: the minimum value for length is 1"},
		}},
	"aws:secretsmanager/secret:Secret": {
		Replace: []string{"name"}, ReplaceSource: srcSecret + ": name ForceNew", Identity: []string{"name"},
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Check: match(`^[0-9A-Za-z/_+=.@-]+$`, 1, 512), Source: "sdk secretsmanager/secret.go name: letters, digits and /_+=.@-; " + srcAutonameDefault},
			{Prop: "recoveryWindowInDays", Check: func(v any) error {
				if inInts(0)(v) == nil {
					return nil
				}
				return between(7, 30)(v)
			}, Source: srcSecret + ": recovery_window_in_days 0 or 7 to 30"},
			{Prop: "kmsKeyId", Check: validARN, Source: "tollgate passes a key ARN; " + srcVerifyARN},
		},
	},
	"aws:secretsmanager/secretVersion:SecretVersion": {
		Replace: []string{"secretId", "secretString"}, ReplaceSource: "tf internal/service/secretsmanager/secret_version.go: secret_id and secret_string ForceNew",
		Rules: []Rule{
			{Prop: "secretId", Required: true, Source: "tf internal/service/secretsmanager/secret_version.go: secret_id Required"},
		}},
	"aws:iam/role:Role": {
		Replace: []string{"name", "path"}, ReplaceSource: "tf internal/service/iam/role.go: name and path ForceNew", Identity: []string{"name"},
		Autoname: &Autoname{Prop: "name", Max: 64},
		Rules: []Rule{
			{Prop: "name", Check: match(`^[\w+=,.@-]*$`, 1, 64), Source: srcRoleName},
			{Prop: "description", Check: noCurlyQuotes, Source: "tf internal/service/iam/role.go: description 0 to 1000, no “ or ‘"},
			{Prop: "assumeRolePolicy", Required: true, Check: isJSON, Source: "tf internal/service/iam/role.go: assume_role_policy Required, StringIsJSON"},
		},
	},
	"aws:iam/rolePolicy:RolePolicy": {
		Replace: []string{"name", "role"}, ReplaceSource: "tf internal/service/iam/role_policy.go: name and role ForceNew", Identity: []string{"name", "role"},
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Check: match(`^[\w+=,.@-]*$`, 1, 128), Source: srcRolePolicyName + "; " + srcAutonameDefault},
			{Prop: "role", Required: true, Check: func(v any) error {
				if err := match(`[\w+=,.@-]+`, 1, 128)(v); err != nil {
					return err
				}
				return notARN(v)
			}, Source: "tf internal/service/iam/validate.go validRolePolicyRole: 1 to 128, the role's name not its ARN"},
			{Prop: "policy", Required: true, Check: isJSON, Source: "tf internal/service/iam/role_policy.go: policy Required, a policy document"},
		},
	},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
		Replace: []string{"role", "policyArn"}, ReplaceSource: "tf internal/service/iam/role_policy_attachment.go: role and policy_arn ForceNew", Identity: []string{"role", "policyArn"},
		Rules: []Rule{
			{Prop: "role", Required: true, Check: notARN, Source: "tf internal/service/iam/role_policy_attachment.go: role is the role's name"},
			{Prop: "policyArn", Required: true, Check: validARN, Source: srcVerifyARN},
		}},
	"aws:cloudwatch/logGroup:LogGroup": {
		Replace: []string{"name"}, ReplaceSource: "tf internal/service/logs/group.go: name ForceNew", Identity: []string{"name"},
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Check: match(`^[0-9A-Za-z_./#-]+$`, 1, 512), Source: srcLambdaValidate + " validLogGroupName (the CloudWatch Logs rule); " + srcAutonameDefault},
			{Prop: "retentionInDays", Check: inInts(0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653), Source: "sdk cloudwatch/logGroup.go retentionInDays: the possible values"},
		},
	},
	"aws:lambda/function:Function": {
		Replace: []string{"name"}, ReplaceSource: srcLambdaFunction + ": function_name ForceNew", Identity: []string{"name"},
		Rules: []Rule{
			// tollgate names every function itself (deploy.FunctionName).
			{Prop: "name", Required: true, Check: functionName, Source: srcLambdaValidate + " validFunctionName"},
			{Prop: "role", Required: true, Check: validARN, Source: srcLambdaFunction + ": role Required, ValidARN"},
			{Prop: "handler", Check: match(`.`, 1, 128), Source: srcLambdaFunction + ": handler StringLenBetween(1, 128)"},
			{Prop: "runtime", Check: oneOf("provided.al2023", "provided.al2"), Source: srcLambdaFunction + ": runtime enum.Validate[awstypes.Runtime] (the OS-only runtimes a bootstrap binary runs on)"},
			{Prop: "architectures", Check: oneArchitecture, Source: srcLambdaFunction + ": architectures MaxItems 1, enum.Validate[awstypes.Architecture] (arm64, x86_64)"},
			{Prop: "memorySize", Check: between(128, 10240), Source: srcLambdaFunction + ": memory_size IntBetween(128, 10240)"},
			{Prop: "timeout", Check: between(1, 900), Source: srcLambdaFunction + ": timeout IntBetween(1, 900)"},
			{Prop: "reservedConcurrentExecutions", Check: between(-1, 1<<31), Source: srcLambdaFunction + ": reserved_concurrent_executions IntAtLeast(-1)"},
			{Prop: "description", Check: maxLen(256), Source: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html: Description, 0 to 256 characters"},
			{Prop: "environment.variables", Check: envNames, Source: "https://docs.aws.amazon.com/lambda/latest/api/API_Environment.html"},
			{Prop: "loggingConfig.logFormat", Required: true, Check: oneOf("JSON", "Text"), Source: srcLambdaFunction + ": logging_config.log_format Required, enum.Validate[awstypes.LogFormat]"},
			{Prop: "loggingConfig.logGroup", Check: match(`^[0-9A-Za-z_./#-]+$`, 1, 512), Source: srcLambdaValidate + " validLogGroupName"},
		}},
	"aws:lambda/permission:Permission": {
		Replace: []string{"*"}, ReplaceSource: "tf internal/service/lambda/permission.go: no update; every argument ForceNew", Identity: []string{"function", "statementId"},
		Autoname: &Autoname{Prop: "statementId", Max: 100},
		Rules: []Rule{
			{Prop: "statementId", Check: match(`^[0-9A-Za-z_-]+$`, 1, 100), Source: srcLambdaValidate + " validPolicyStatementID; pulumi-aws provider/resources.go aws_lambda_permission AutoName(\"statementId\", 100, \"-\")"},
			{Prop: "action", Required: true, Check: match(`^(lambda:[*]|lambda:[A-Za-z]+|[*])$`, 1, 256), Source: srcLambdaValidate + " validPermissionAction"},
			{Prop: "function", Required: true, Check: functionName, Source: srcLambdaValidate + " validFunctionName"},
			{Prop: "principal", Required: true, Source: "tf internal/service/lambda/permission.go: principal Required"},
			{Prop: "sourceArn", Check: validARN, Source: "tf internal/service/lambda/permission.go: source_arn ValidARN"},
		},
	},
	"aws:apigateway/restApi:RestApi": {
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Required: true, Source: srcRestAPI + ": name Required; " + srcAutonameDefault},
			{Prop: "apiKeySource", Check: oneOf("HEADER", "AUTHORIZER"), Source: srcRestAPI + ": api_key_source enum.Validate[types.ApiKeySourceType]"},
			{Prop: "endpointConfiguration.types", Check: oneOf("EDGE", "REGIONAL", "PRIVATE"), Source: srcRestAPI + ": endpoint_configuration.types, one of enum.Validate[types.EndpointType]"},
			{Prop: "putRestApiMode", Check: oneOf("merge", "overwrite"), Source: srcRestAPI + ": put_rest_api_mode enum.Validate[types.PutMode]"},
			{Prop: "body", Check: openAPIBody, Source: srcRestAPI + ": body, put with PutRestApi (an OpenAPI document)"},
		},
	},
	"aws:apigateway/deployment:Deployment": {
		Replace: []string{"restApi", "triggers"}, ReplaceSource: "tf internal/service/apigateway/deployment.go: rest_api_id and triggers ForceNew",
		Rules: []Rule{
			{Prop: "restApi", Required: true, Source: "tf internal/service/apigateway/deployment.go: rest_api_id Required"},
		}},
	"aws:apigateway/stage:Stage": {
		Replace: []string{"restApi", "stageName"}, ReplaceSource: "tf internal/service/apigateway/stage.go: rest_api_id and stage_name ForceNew", Identity: []string{"restApi", "stageName"},
		Rules: []Rule{
			{Prop: "restApi", Required: true, Source: "tf internal/service/apigateway/stage.go: rest_api_id Required"},
			{Prop: "deployment", Required: true, Source: "tf internal/service/apigateway/stage.go: deployment_id Required"},
			{Prop: "stageName", Required: true, Check: match(`^[A-Za-z0-9_-]+$`, 1, 128), Source: "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html: letters, digits, - and _, at most 128"},
			{Prop: "accessLogSettings.destinationArn", Check: validARN, Source: "tf internal/service/apigateway/stage.go: access_log_settings.destination_arn ValidARN"},
			{Prop: "accessLogSettings.format", Check: match(`.`, 1, 1<<20), Source: "tf internal/service/apigateway/stage.go: access_log_settings.format Required"},
		}},
	"aws:apigateway/methodSettings:MethodSettings": {
		Replace: []string{"restApi", "stageName", "methodPath"}, ReplaceSource: "tf internal/service/apigateway/method_settings.go: rest_api_id, stage_name and method_path ForceNew",
		Rules: []Rule{
			{Prop: "restApi", Required: true, Source: "tf internal/service/apigateway/method_settings.go: rest_api_id Required"},
			{Prop: "stageName", Required: true, Source: "tf internal/service/apigateway/method_settings.go: stage_name Required"},
			{Prop: "methodPath", Required: true, Source: "tf internal/service/apigateway/method_settings.go: method_path Required"},
			{Prop: "methodPath", Check: match(`^(\*/\*|(~1[^/]*)+/(\*|ANY|DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT))$`, 3, 1<<20), Source: srcMethodSettingKeys},
			{Prop: "settings.loggingLevel", Check: oneOf("OFF", "ERROR", "INFO"), Source: "sdk apigateway/pulumiTypes.go MethodSettingsSettings.LoggingLevel: OFF, ERROR and INFO"},
		}},
	"aws:apigateway/usagePlan:UsagePlan": {
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Required: true, Source: "tf internal/service/apigateway/usage_plan.go: name Required; " + srcAutonameDefault},
			{Prop: "quotaSettings.period", Check: oneOf("DAY", "WEEK", "MONTH"), Source: "sdk apigateway/pulumiTypes.go UsagePlanQuotaSettings.Period: DAY, WEEK or MONTH"},
			{Prop: "quotaSettings", Check: quotaSettings, Source: srcUsagePlan + ": quota_settings.limit and .period Required (\"not removable singularly\"), offset Default 0; CloudFormation AWS::ApiGateway::UsagePlan QuotaSettings: Limit and Offset Minimum 0"},
			{Prop: "throttleSettings", Check: throttleSettings, Source: srcUsagePlan + ": throttle_settings burst_limit (an integer) and rate_limit, AtLeastOneOf the two; https://docs.aws.amazon.com/apigateway/latest/api/API_ThrottleSettings.html"},
			{Prop: "apiStages", Check: apiStages, Source: srcUsagePlan + ": api_stages.api_id and .stage Required; throttle.path Required, \"the path and method, for example /test/GET\" (website/docs/r/api_gateway_usage_plan.html.markdown)"},
		},
	},
	"aws:apigateway/apiKey:ApiKey": {
		Replace: []string{"name", "value"}, ReplaceSource: srcAPIKey + "; name and value ForceNew", Identity: []string{"value"},
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Required: true, Source: "tf internal/service/apigateway/api_key.go: name Required; " + srcAutonameDefault},
			{Prop: "value", Check: match(`.`, 20, 128), Source: srcAPIKey},
		},
	},
	"aws:apigateway/usagePlanKey:UsagePlanKey": {
		Replace: []string{"*"}, ReplaceSource: "tf internal/service/apigateway/usage_plan_key.go: key_id, key_type and usage_plan_id ForceNew", Identity: []string{"keyId", "usagePlanId"},
		Exclusive: "keyId", ExclusiveSource: srcOnePlanPerStage,
		Rules: []Rule{
			{Prop: "keyId", Required: true, Source: "tf internal/service/apigateway/usage_plan_key.go: key_id Required"},
			{Prop: "usagePlanId", Required: true, Source: "tf internal/service/apigateway/usage_plan_key.go: usage_plan_id Required"},
			{Prop: "keyType", Required: true, Check: oneOf("API_KEY"), Source: "sdk apigateway/usagePlanKey.go keyType: the valid key type is API_KEY"},
		}},
	"aws:apigatewayv2/api:Api": {
		Replace: []string{"protocolType"}, ReplaceSource: srcV2API + ": protocol_type ForceNew (a changed body is re-imported in place: ReimportApi)",
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Required: true, Check: match(`.`, 1, 128), Source: srcV2API + ": name Required, StringLenBetween(1, 128); " + srcAutonameDefault},
			{Prop: "protocolType", Required: true, Check: oneOf("HTTP", "WEBSOCKET"), Source: srcV2API + ": protocol_type Required, enum.Validate[awstypes.ProtocolType]"},
			{Prop: "description", Check: maxLen(1024), Source: srcV2API + ": description StringLenBetween(0, 1024)"},
			{Prop: "body", Check: isJSON, Source: srcV2API + ": body ValidStringIsJSONOrYAML, imported with ReimportApi after CreateApi"},
			{Prop: "corsConfiguration.maxAge", Check: between(0, 86400), Source: "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid.html#apis-apiid-model-cors: maxAge -1 to 86400 (tollgate never disables the cache)"},
		},
	},
	"aws:apigatewayv2/stage:Stage": {
		Replace: []string{"apiId", "name"}, ReplaceSource: srcV2Stage + ": api_id and name ForceNew", Identity: []string{"apiId", "name"},
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "apiId", Required: true, Source: srcV2Stage + ": api_id Required"},
			{Prop: "name", Required: true, Check: match(`^(\$default|[A-Za-z0-9_-]+)$`, 1, 128), Source: srcV2Stage + ": name Required, StringLenBetween(1, 128); https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html: letters, digits, - and _, or $default"},
			{Prop: "accessLogSettings.destinationArn", Check: validARN, Source: srcV2Stage + ": access_log_settings.destination_arn Required in its block, ValidARN"},
			{Prop: "accessLogSettings.format", Check: match(`.`, 1, 1<<20), Source: srcV2Stage + ": access_log_settings.format Required in its block"},
			{Prop: "defaultRouteSettings.loggingLevel", Check: oneOf(), Source: srcV2Stage + ": logging_level is a WebSocket API's (expandDefaultRouteSettings sends it for WEBSOCKET only); tollgate sets none"},
			{Prop: "routeSettings", Check: routeSettings, Source: srcV2Stage + ": route_settings.route_key Required; an HTTP API route key is METHOD /path (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html)"},
		},
	},
	"aws:apigateway/account:Account": {Rules: []Rule{
		{Prop: "cloudwatchRoleArn", Check: validARN, Source: "sdk apigateway/account.go cloudwatchRoleArn: the ARN of an IAM role; " + srcVerifyARN},
	}},
}
