package deploy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
	"tollgate/deploy/iampolicy"
	"tollgate/plans"
)

// restAPI creates the regional REST API from the Definition's OpenAPI
// document (api.Definition.Document): its routes, integrations,
// authorizer, gateway responses and API key source are the document, so
// there is no resource per route, method or integration to go stale. The
// provider puts the document in "overwrite" mode, so a route removed from
// the Definition is removed from the API, and a renamed path parameter
// replaces the old one in one step (terraform-provider-aws
// internal/service/apigateway/rest_api.go: put_rest_api_mode defaults to
// overwrite, and after a put the name, description and API key source set
// as arguments are applied again, but of the endpoint configuration only
// its VPC endpoints, so the document states it: api.Definition.Document).
func (d *deployer) restAPI() error {
	usagePlan := !d.args.Plans.Empty()
	d.deployedDocument(usagePlan)

	keySource := "HEADER"
	if usagePlan {
		// The authorizer returns each client's usage key.
		keySource = "AUTHORIZER"
	}
	var err error
	d.rest, err = apigateway.NewRestApi(d.ctx, d.child("api"), &apigateway.RestApiArgs{
		Name:           pulumi.String(d.name),
		Description:    pulumi.String(d.description()),
		Body:           d.document,
		PutRestApiMode: pulumi.String("overwrite"),
		// An import that API Gateway would only warn about (a construct
		// it leaves out) fails the deploy instead of leaving the API
		// short of it (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api-errors-warnings.html:
		// failonwarnings defaults to false; terraform-provider-aws
		// internal/service/apigateway/rest_api.go passes fail_on_warnings
		// to PutRestApi).
		FailOnWarnings:        pulumi.Bool(true),
		ApiKeySource:          pulumi.String(keySource),
		EndpointConfiguration: &apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
	}, d.parent)
	if err != nil {
		return err
	}
	d.api.RestAPI = d.rest
	d.executionARN, d.apiID = d.rest.ExecutionArn, d.rest.ID()
	return d.permissions()
}

// description is the API's description.
func (d *deployer) description() string { return "tollgate " + d.def().Name }

// deployedDocument sets d.document: the Definition's OpenAPI document (a
// REST or an HTTP API's, as its Type says) with the functions' invoke
// ARNs as integration and authorizer URIs.
func (d *deployer) deployedDocument(usagePlan bool) {
	def := d.def()
	names := d.functionNames()
	var uris []any
	for _, fn := range names {
		uris = append(uris, d.api.Functions[fn].InvokeArn)
	}
	d.document = pulumi.All(uris...).ApplyT(func(vs []any) (string, error) {
		byName := map[string]string{}
		for i, v := range vs {
			byName[names[i]] = v.(string)
		}
		doc, err := def.Document(api.DocumentOptions{
			IntegrationURI: func(fn string) string { return byName[fn] },
			UsagePlan:      usagePlan,
			// What the API is named, described and versioned as: an HTTP
			// API takes them from the document at each import.
			Title: d.name, Description: d.description(), Version: api.DefaultVersion,
		})
		return string(doc), err
	}).(pulumi.StringOutput)
}

// deployment creates the deployment, the stage serving it with access logs,
// and the stage's throttle and metrics.
//
// A deployment is a snapshot of the API: a change reaches callers only
// through a new one. Its trigger is the SHA-256 of the OpenAPI document,
// so adding, removing or renaming a route, or changing the authorizer or
// a gateway response, replaces it, and nothing else does. The new
// deployment is created after the REST API has taken the new document (it
// takes the API's id, which resolves once the API's update is done), the
// stage is moved to it, and only then is the old one deleted.
func (d *deployer) deployment() error {
	def := d.def()
	trigger := d.document.ApplyT(func(doc string) string { return api.DocumentHash([]byte(doc)) }).(pulumi.StringOutput)
	// After the authorizer: a document that newly requires API keys
	// (usage plans turned on) goes live once the authorizers that return
	// them have replaced the warm ones (EnvUsagePlan).
	deployment, err := apigateway.NewDeployment(d.ctx, d.child("deployment"), &apigateway.DeploymentArgs{
		RestApi:     d.rest.ID(),
		Description: pulumi.Sprintf("tollgate %s", d.name),
		Triggers:    pulumi.StringMap{"document": trigger},
	}, d.parent, pulumi.DeleteBeforeReplace(false), pulumi.DependsOn([]pulumi.Resource{d.api.Functions[def.Authorizer.Function]}))
	if err != nil {
		return err
	}

	stageOpts := []pulumi.ResourceOption{d.parent}
	if d.args.AccountLogsRole {
		account, err := d.accountLogsRole()
		if err != nil {
			return err
		}
		stageOpts = append(stageOpts, pulumi.DependsOn([]pulumi.Resource{account}))
	}
	d.stage, err = apigateway.NewStage(d.ctx, d.child("stage"), &apigateway.StageArgs{
		RestApi:    d.rest.ID(),
		Deployment: deployment.ID(),
		StageName:  pulumi.String(def.Stage),
		AccessLogSettings: &apigateway.StageAccessLogSettingsArgs{
			DestinationArn: d.accessLogs.Arn,
			Format:         pulumi.String(api.AccessLogFormat(def.AccessLog)),
		},
	}, stageOpts...)
	if err != nil {
		return err
	}
	d.api.Stage = d.stage
	d.invokeURL = d.stage.InvokeUrl
	settings, err := apigateway.NewMethodSettings(d.ctx, d.child("method-settings"), &apigateway.MethodSettingsArgs{
		RestApi:    d.rest.ID(),
		StageName:  d.stage.StageName,
		MethodPath: pulumi.String("*/*"),
		Settings: &apigateway.MethodSettingsSettingsArgs{
			MetricsEnabled:       pulumi.Bool(true),
			LoggingLevel:         pulumi.String("OFF"),
			ThrottlingRateLimit:  pulumi.Float64(d.args.Throttle.RateLimit),
			ThrottlingBurstLimit: pulumi.Int(d.args.Throttle.BurstLimit),
		},
	}, d.parent)
	if err != nil {
		return err
	}
	return d.routeThrottles(settings)
}

// routeThrottles gives each route with a throttle its own method settings
// on the stage. Each is an UpdateStage call on the same stage (terraform-
// provider-aws internal/service/apigateway/method_settings.go: create and
// update patch the stage, with no retry on a concurrent modification), so
// each waits for the one before.
func (d *deployer) routeThrottles(after pulumi.Resource) error {
	for _, r := range d.def().SortedRoutes() {
		if r.Throttle == nil {
			continue
		}
		s, err := apigateway.NewMethodSettings(d.ctx, d.child("limit-"+statementID(r)), &apigateway.MethodSettingsArgs{
			RestApi:    d.rest.ID(),
			StageName:  d.stage.StageName,
			MethodPath: pulumi.String(methodPath(r)),
			Settings: &apigateway.MethodSettingsSettingsArgs{
				MetricsEnabled:       pulumi.Bool(true),
				LoggingLevel:         pulumi.String("OFF"),
				ThrottlingRateLimit:  pulumi.Float64(r.Throttle.RateLimit),
				ThrottlingBurstLimit: pulumi.Int(r.Throttle.BurstLimit),
			},
		}, d.parent, pulumi.DependsOn([]pulumi.Resource{after}))
		if err != nil {
			return err
		}
		after = s
	}
	return nil
}

// methodPath is a method's key in a stage's method settings, as the stage
// stores it: the resource path with each "/" written "~1" (a JSON pointer
// escape), "/", and the HTTP method: "~1orders~1{id}/GET". The provider
// passes method_path to UpdateStage unchanged, as the patch path
// "/{method_path}/throttling/rateLimit", and reads it back as a key of
// GetStage's methodSettings (terraform-provider-aws
// internal/service/apigateway/method_settings.go), whose keys are written
// so (terraform-provider-aws issue 9738: get-stage returns
// "~1some~1api~1endpoint/POST"; CloudFormation's MethodSetting
// ResourcePath: "/resource/subresource must be encoded as
// /~1resource~1subresource"). The provider's own docs ("trim any leading
// forward slashes", which gives "orders/{id}/GET") name a key no method
// has, and the throttle is never applied. An ANY route's method is ANY,
// the method API Gateway creates for it.
func methodPath(r api.Route) string {
	return strings.ReplaceAll(r.Path, "/", "~1") + "/" + r.Method
}

// AccountLogsRoleName is the IAM role tollgate creates for API Gateway to
// write CloudWatch logs with, when the account has none of that name: one
// role for the whole account (IAM is global), shared by every tollgate
// stack in every Region. The deploying identity's policy
// (iampolicy.DeployerPolicy) names it.
const AccountLogsRoleName = iampolicy.AccountLogsRoleName

// accountLogsRole makes the Region's API Gateway account settings name a
// role API Gateway may write access logs with, without making the stacks
// of one account fight over it (the setting is one per account and
// Region; https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html):
//
//   - the role is AccountLogsRoleName. If the account has no role of that
//     name (iam:ListRoles, through the provider's getRoles), this stack
//     creates it; otherwise it uses the one there and creates nothing;
//   - every stack sets the same role in the account settings, so the last
//     `up` changes nothing another stack relies on;
//   - nothing is reset or deleted on destroy: the role and the setting are
//     retained (pulumi.RetainOnDelete, and the provider's reset_on_delete
//     left false), because other APIs of the account may log through them.
//
// The role carries AWS's managed policy for this purpose, as it serves
// every API of the account.
func (d *deployer) accountLogsRole() (*apigateway.Account, error) {
	found, err := iam.GetRoles(d.ctx, &iam.GetRolesArgs{NameRegex: pulumi.StringRef("^" + AccountLogsRoleName + "$")}, pulumi.Parent(d.api))
	if err != nil {
		return nil, fmt.Errorf("looking for the API Gateway logging role %s: %w", AccountLogsRoleName, err)
	}
	retain := pulumi.RetainOnDelete(true)
	var roleARN pulumi.StringInput
	deps := []pulumi.Resource{}
	if len(found.Arns) == 1 {
		roleARN = pulumi.String(found.Arns[0])
	} else {
		role, err := iam.NewRole(d.ctx, d.child("apigateway-logs-role"), &iam.RoleArgs{
			Name:             pulumi.String(AccountLogsRoleName),
			Description:      pulumi.String("API Gateway: write CloudWatch logs (the account setting; created by tollgate, shared by every tollgate stack)"),
			AssumeRolePolicy: pulumi.String(trustPolicy("apigateway.amazonaws.com")),
		}, d.parent, retain)
		if err != nil {
			return nil, err
		}
		attachment, err := iam.NewRolePolicyAttachment(d.ctx, d.child("apigateway-logs-policy"), &iam.RolePolicyAttachmentArgs{
			Role: role.Name,
			PolicyArn: role.Arn.ApplyT(func(arn string) string {
				return "arn:" + partitionOf(arn) + ":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
			}).(pulumi.StringOutput),
		}, d.parent, retain)
		if err != nil {
			return nil, err
		}
		roleARN = role.Arn
		deps = append(deps, attachment)
	}
	return apigateway.NewAccount(d.ctx, d.child("apigateway-account"), &apigateway.AccountArgs{
		CloudwatchRoleArn: roleARN,
		ResetOnDelete:     pulumi.Bool(false),
	}, d.parent, retain, pulumi.DependsOn(deps))
}

// usagePlans creates each plan's usage plan on the stage, and an API
// key for every client on its plan, whose value the authorizer returns as
// usageIdentifierKey.
//
// A usage plan is updated in place, whatever changes (terraform-provider-
// aws internal/service/apigateway/usage_plan.go: no argument is ForceNew),
// so a plan keeps its id and the usage API Gateway has counted on it. A
// key's association with a plan (UsagePlanKey) cannot change in place
// (usage_plan_key.go: key_id, key_type and usage_plan_id ForceNew):
// moving a client to another plan replaces its association, and only
// that, deleting the old one first, since "a given API key can only be
// associated with one usage plan for each stage"
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html).
// The client's API key, its value and the keyring stay as they are.
func (d *deployer) usagePlans() error {
	set := d.args.Plans
	if set.Empty() {
		return nil
	}
	ids := map[string]pulumi.IDOutput{}
	for _, name := range set.Names() {
		plan, err := d.usagePlan(name, set.Plans[name], name == set.Default)
		if err != nil {
			return err
		}
		ids[name] = plan.ID()
	}
	for _, c := range d.args.Clients {
		key, err := apigateway.NewApiKey(d.ctx, d.child("api-key-"+c), &apigateway.ApiKeyArgs{
			Name:        pulumi.String(d.name + "-" + c),
			Description: pulumi.Sprintf("tollgate %s: client %s", d.name, c),
			Value:       d.usageKeys[c],
			Enabled:     pulumi.Bool(true),
		}, d.parent)
		if err != nil {
			return err
		}
		_, err = apigateway.NewUsagePlanKey(d.ctx, d.child("usage-plan-key-"+c), &apigateway.UsagePlanKeyArgs{
			KeyId:       key.ID(),
			KeyType:     pulumi.String("API_KEY"),
			UsagePlanId: ids[set.Of(c)],
		}, d.parent, pulumi.DeleteBeforeReplace(true))
		if err != nil {
			return err
		}
	}
	return nil
}

// usagePlan creates one plan's usage plan, named NAME-PLAN, on the stage.
// The default plan takes over the single plan of tollgate's earlier
// usagePlan setting (its resource, "usage-plan", is an alias), so that a
// stack moving to plans keeps that plan and its usage.
func (d *deployer) usagePlan(name string, p plans.Plan, isDefault bool) (*apigateway.UsagePlan, error) {
	stage := &apigateway.UsagePlanApiStageArgs{
		ApiId: d.rest.ID().ToStringOutput(),
		Stage: d.stage.StageName,
	}
	var throttles apigateway.UsagePlanApiStageThrottleArray
	for _, key := range slices.Sorted(maps.Keys(p.Routes)) {
		method, path, _ := strings.Cut(key, " ")
		t := p.Routes[key]
		throttles = append(throttles, &apigateway.UsagePlanApiStageThrottleArgs{
			// The resource path and the method, "/orders/{id}/GET"
			// (terraform-provider-aws
			// website/docs/r/api_gateway_usage_plan.html.markdown:
			// path is "the path and method, for example /test/GET").
			Path:       pulumi.String(path + "/" + method),
			RateLimit:  pulumi.Float64(t.RateLimit),
			BurstLimit: pulumi.Int(t.BurstLimit),
		})
	}
	if throttles != nil {
		stage.Throttles = throttles
	}
	args := &apigateway.UsagePlanArgs{
		Name:        pulumi.String(d.name + "-" + name),
		Description: pulumi.Sprintf("tollgate %s: plan %s, each client's quota and throttle", d.name, name),
		ApiStages:   apigateway.UsagePlanApiStageArray{stage},
	}
	if q := p.Quota; q != nil {
		args.QuotaSettings = &apigateway.UsagePlanQuotaSettingsArgs{
			Limit:  pulumi.Int(q.Limit),
			Period: pulumi.String(string(q.Period)),
		}
	}
	if t := p.Throttle(); t != nil {
		args.ThrottleSettings = &apigateway.UsagePlanThrottleSettingsArgs{
			RateLimit:  pulumi.Float64(t.RateLimit),
			BurstLimit: pulumi.Int(t.BurstLimit),
		}
	}
	opts := []pulumi.ResourceOption{d.parent}
	if isDefault {
		opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(d.child("usage-plan"))}}))
	}
	return apigateway.NewUsagePlan(d.ctx, d.child("plan-"+name), args, opts...)
}

// outputs sets the component's outputs.
func (d *deployer) outputs() {
	a := d.api
	routes := d.def().Routes
	a.URL = d.invokeURL
	a.RouteURLs = d.invokeURL.ApplyT(func(base string) map[string]string {
		urls := make(map[string]string, len(routes))
		for _, r := range routes {
			urls[r.String()] = strings.TrimSuffix(base, "/") + r.Path
		}
		return urls
	}).(pulumi.StringMapOutput)
	a.SecretARN, a.KeyTableName = pulumi.String("").ToStringOutput(), pulumi.String("").ToStringOutput()
	if a.Secret != nil {
		a.SecretARN = a.Secret.Arn
	}
	if a.KeyTable != nil {
		a.KeyTableName = a.KeyTable.Name
	}
	a.APIKeys = pulumi.ToSecret(d.keys.ToStringMapOutput()).(pulumi.StringMapOutput)
	a.KeyGenerations = pulumi.IntMap{}
	for _, c := range d.args.Clients {
		if d.args.KeyDigests[c] == "" {
			a.KeyGenerations[c] = pulumi.Int(d.args.generation(c))
		}
	}
	client := ""
	for _, c := range d.args.Clients {
		if d.args.KeyDigests[c] == "" {
			client = c
			break
		}
	}
	a.Curl = d.invokeURL.ApplyT(func(base string) string {
		return curlLine(d.def(), client, strings.TrimSuffix(base, "/"))
	}).(pulumi.StringOutput)
	a.Document = d.document
	fn := FunctionName(d.name, d.def().Authorizer.Function)
	stage := d.def().Stage
	httpAPI := d.def().IsHTTP()
	a.RevokeNow = pulumi.All(d.invokeURL, d.apiID).ApplyT(func(vs []any) string {
		return revokeLine(vs[0].(string), string(vs[1].(pulumi.ID)), stage, fn, httpAPI)
	}).(pulumi.StringOutput)
	withPlans := !d.args.Plans.Empty()
	a.Usage = pulumi.All(d.invokeURL, d.apiID).ApplyT(func(vs []any) string {
		if !withPlans {
			return ""
		}
		line := revokeLine(vs[0].(string), string(vs[1].(pulumi.ID)), stage, fn, false)
		line = strings.Replace(line, " refresh ", " usage ", 1)
		return strings.TrimSuffix(line, " -function "+fn)
	}).(pulumi.StringOutput)
}

// revokeLine is the tollkeys refresh command for the API: the Region is
// the invoke URL's, https://{id}.execute-api.{region}.amazonaws.com/{stage};
// an HTTP API's adds -http. A stage named $default is quoted for the
// shell.
func revokeLine(invokeURL, apiID, stage, function string, httpAPI bool) string {
	region := ""
	if host := strings.TrimPrefix(invokeURL, "https://"); strings.Count(host, ".") >= 3 {
		region = strings.Split(strings.SplitN(host, "/", 2)[0], ".")[2]
	}
	if strings.Contains(stage, "$") {
		stage = "'" + stage + "'"
	}
	line := fmt.Sprintf("go run ./cmd/tollkeys refresh -region %s -api-id %s -stage %s -function %s", region, apiID, stage, function)
	if httpAPI {
		line += " -http"
	}
	return line
}

// curlLine is a shell command that calls the first protected route (the
// first route if none is) with client's key from the stack's apiKeys
// output, or with $TOLLGATE_KEY when no client has a generated key.
func curlLine(def *api.Definition, client, base string) string {
	r := def.Routes[0]
	for _, rr := range def.Routes {
		if rr.Protected {
			r = rr
			break
		}
	}
	method := ""
	switch r.Method {
	case "GET", "ANY":
	case "POST", "PUT", "PATCH":
		method = "-X " + r.Method + " -H 'Content-Type: application/json' -d '{}' "
	default:
		method = "-X " + r.Method + " "
	}
	header := def.Authorizer.TokenHeader()
	key := "$TOLLGATE_KEY"
	if client != "" {
		key = fmt.Sprintf(`$(pulumi stack output --show-secrets --json apiKeys | jq -r '.[%q]')`, client)
	}
	return fmt.Sprintf(`curl -i %s-H "%s: Bearer %s" %s%s`, method, header, key, base, r.Path)
}
