package deploy

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/authorizer"
	"tollgate/handler"
)

// policyDocument is an IAM policy.
type policyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of an IAM policy.
type Statement struct {
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal,omitempty"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

func (p policyDocument) String() string {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // only strings and maps of strings
	}
	return string(b)
}

// trustPolicy lets only service assume a role.
func trustPolicy(service string) string {
	return policyDocument{Version: "2012-10-17", Statement: []Statement{{
		Effect:    "Allow",
		Principal: map[string]string{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	}}}.String()
}

// logs creates a log group for each function, named where Lambda writes,
// and one for the stage's access log, all with the configured retention,
// so destroying the stack removes them: Lambda and API Gateway would
// otherwise create groups the stack does not own.
func (d *deployer) logs() error {
	d.logGroups = map[string]*cloudwatch.LogGroup{}
	for _, fn := range d.functionNames() {
		lg, err := cloudwatch.NewLogGroup(d.ctx, d.child(fn+"-logs"), &cloudwatch.LogGroupArgs{
			Name:            pulumi.String("/aws/lambda/" + FunctionName(d.name, fn)),
			RetentionInDays: pulumi.Int(d.args.LogRetentionDays),
		}, d.parent)
		if err != nil {
			return err
		}
		d.logGroups[fn] = lg
	}
	var err error
	d.accessLogs, err = cloudwatch.NewLogGroup(d.ctx, d.child("access-logs"), &cloudwatch.LogGroupArgs{
		// CloudWatch Logs refuses '$' in a name: an HTTP API's $default
		// stage logs to .../default/access.
		Name:            pulumi.String("/aws/apigateway/" + d.name + "/" + strings.ReplaceAll(d.def().Stage, "$", "") + "/access"),
		RetentionInDays: pulumi.Int(d.args.LogRetentionDays),
	}, d.parent)
	return err
}

// functions creates each function with a role of its own. Every role may
// write to its function's log group and nothing else; the authorizer's may
// also read the keyring secret, and decrypt it with the customer key when
// there is one, only through Secrets Manager.
//
// It is long because it declares, per function, the resources one
// function needs (role, policy, function) in the order they depend on each
// other, read top to bottom.
// maxFunctionDescription is Lambda's limit on a function's description
// (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html:
// Description, 0 to 256 characters).
const maxFunctionDescription = 256

// functionDescription names the stack and the function's Go package. A
// package is any import path now, of any length: a description past
// Lambda's limit keeps its start and ends in "…", rather than fail the
// deploy over a comment.
func functionDescription(stack, pkg string) string {
	d := []rune("tollgate " + stack + ": " + pkg)
	if len(d) <= maxFunctionDescription {
		return string(d)
	}
	return string(d[:maxFunctionDescription-1]) + "…"
}

func (d *deployer) functions() error {
	def := d.def()
	for _, fn := range d.functionNames() {
		f := def.Functions[fn]
		isAuthorizer := fn == def.Authorizer.Function
		// The role's logical name is the function's: Pulumi autonames the
		// role from it (see MaxFunctionName).
		role, err := iam.NewRole(d.ctx, FunctionName(d.name, fn), &iam.RoleArgs{
			Description:      pulumi.Sprintf("tollgate %s: the %s function", d.name, fn),
			AssumeRolePolicy: pulumi.String(trustPolicy("lambda.amazonaws.com")),
		}, d.parent)
		if err != nil {
			return err
		}
		inputs := []any{d.logGroups[fn].Arn}
		if isAuthorizer {
			inputs = append(inputs, d.keyStoreARN())
		}
		policy := pulumi.All(inputs...).ApplyT(func(vs []any) string {
			p := policyDocument{Version: "2012-10-17", Statement: []Statement{{
				Effect:   "Allow",
				Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				Resource: []string{vs[0].(string) + ":*"},
			}}}
			if isAuthorizer {
				p.Statement = append(p.Statement, d.keyStoreRead(vs[1].(string))...)
			}
			return p.String()
		}).(pulumi.StringOutput)
		rolePolicy, err := iam.NewRolePolicy(d.ctx, FunctionName(d.name, fn), &iam.RolePolicyArgs{
			Role:   role.ID(),
			Policy: policy,
		}, d.parent)
		if err != nil {
			return err
		}

		// The function's own variables, then what each Lambda package
		// says it needs: the handler's CORS origin for functions that
		// answer routes, the authorizer's secret and token header.
		env := pulumi.StringMap{}
		for k, v := range f.Env {
			env[k] = pulumi.String(v)
		}
		if def.AnswersRoutes(fn) {
			for k, v := range handler.Env(def.AllowedOrigin) {
				env[k] = pulumi.String(v)
			}
		}
		if isAuthorizer {
			for k, v := range authorizer.Env("", def.Authorizer.TokenHeader()) {
				env[k] = pulumi.String(v)
			}
			if d.api.KeyTable != nil {
				delete(env, authorizer.EnvSecretID)
				env[authorizer.EnvKeyTable] = d.api.KeyTable.Name
			} else {
				env[authorizer.EnvSecretID] = d.api.Secret.Arn
			}
			if d.args.Monitoring.Off {
				// No dashboard or alarm reads the metrics: none is
				// billed (README, Running it).
				env[authorizer.EnvMetrics] = pulumi.String("off")
			}
			if !d.args.Plans.Empty() {
				env[EnvUsagePlan] = pulumi.String("1")
			}
		}
		archive := d.args.Archives[fn]
		fnArgs := &lambda.FunctionArgs{
			Name:           pulumi.String(FunctionName(d.name, fn)),
			Description:    pulumi.String(functionDescription(d.name, f.Package)),
			Role:           role.Arn,
			Runtime:        pulumi.String(lambdaRuntime),
			Handler:        pulumi.String("bootstrap"),
			Architectures:  pulumi.StringArray{pulumi.String(string(d.args.Arch))},
			Code:           pulumi.NewFileArchive(archive.Path),
			SourceCodeHash: pulumi.String(archive.SHA256),
			MemorySize:     pulumi.Int(f.MemoryMB),
			Timeout:        pulumi.Int(int(f.Timeout.Seconds())),
			Environment:    &lambda.FunctionEnvironmentArgs{Variables: env},
			LoggingConfig: &lambda.FunctionLoggingConfigArgs{
				LogFormat: pulumi.String("Text"),
				LogGroup:  d.logGroups[fn].Name,
			},
		}
		if n := d.args.ReservedConcurrency[fn]; n > 0 {
			fnArgs.ReservedConcurrentExecutions = pulumi.Int(n)
		}
		// The role's policy must exist before the function first runs;
		// the authorizer's configuration changes (replacing its warm
		// instances) only once the keyring it will read is in place.
		deps := []pulumi.Resource{rolePolicy}
		if isAuthorizer {
			deps = append(deps, d.keyStoreWritten()...)
		}
		function, err := lambda.NewFunction(d.ctx, d.child(fn), fnArgs, d.parent, pulumi.DependsOn(deps))
		if err != nil {
			return err
		}
		d.api.Functions[fn] = function
	}
	return nil
}

// EnvUsagePlan is set ("1") on the authorizer while the stage has a usage
// plan. The authorizer does not read it: changing it changes the
// function's configuration, which makes Lambda replace its warm instances
// (new ones read the keyring at init), so that turning usage plans on,
// which makes the new deployment require the usage keys the keyring now
// holds, does not leave warm authorizers answering without them for up to
// a key TTL. The deployment waits for the function (deployment).
const EnvUsagePlan = "TOLLGATE_USAGE_PLAN"

// kmsDecrypt lets a role decrypt with key, only when service
// (secretsmanager, dynamodb) in the key's Region asks.
func kmsDecrypt(key, service string, actions ...string) Statement {
	parts := strings.Split(key, ":") // arn:PARTITION:kms:REGION:ACCOUNT:key/ID
	suffix := "amazonaws.com"
	if parts[1] == "aws-cn" {
		suffix = "amazonaws.com.cn"
	}
	return Statement{
		Effect:    "Allow",
		Action:    append([]string{"kms:Decrypt"}, actions...),
		Resource:  []string{key},
		Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": service + "." + parts[3] + "." + suffix}},
	}
}
