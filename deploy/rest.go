package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
)

// restAPI creates the regional REST API and its Lambda authorizer.
func (d *deployer) restAPI() error {
	def := d.def()
	restArgs := &apigateway.RestApiArgs{
		Name:                  pulumi.String(d.name),
		Description:           pulumi.Sprintf("tollgate %s", def.Name),
		EndpointConfiguration: &apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
	}
	if d.args.UsagePlan != nil {
		// The authorizer returns each client's usage key.
		restArgs.ApiKeySource = pulumi.String("AUTHORIZER")
	}
	var err error
	d.rest, err = apigateway.NewRestApi(d.ctx, d.child("api"), restArgs, d.parent)
	if err != nil {
		return err
	}
	d.api.RestAPI = d.rest

	a := def.Authorizer
	fn := d.api.Functions[a.Function]
	authArgs := &apigateway.AuthorizerArgs{
		RestApi:                      d.rest.ID(),
		Name:                         pulumi.String(d.name + "-" + a.Function),
		Type:                         pulumi.String(string(a.Type)),
		AuthorizerUri:                fn.InvokeArn,
		IdentitySource:               pulumi.String(strings.Join(a.IdentitySources, ",")),
		AuthorizerResultTtlInSeconds: pulumi.Int(int(a.ResultTTL.Seconds())),
	}
	if a.ValidationRegex != "" {
		authArgs.IdentityValidationExpression = pulumi.String(a.ValidationRegex)
	}
	d.authorizer, err = apigateway.NewAuthorizer(d.ctx, d.child("authorizer"), authArgs, d.parent)
	if err != nil {
		return err
	}
	d.api.Authorizer = d.authorizer
	_, err = lambda.NewPermission(d.ctx, d.child("authorizer-invoke"), &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  fn.Name,
		Principal: pulumi.String("apigateway.amazonaws.com"),
		SourceArn: pulumi.Sprintf("%s/authorizers/%s", d.rest.ExecutionArn, d.authorizer.ID()),
	}, d.parent)
	if err != nil {
		return err
	}
	d.changes = append(d.changes, d.authorizer.ID(), fn.InvokeArn)
	d.dependencies = append(d.dependencies, d.authorizer)
	return nil
}

// routes creates the resource tree, a method and an AWS_PROXY integration
// for each route, and the permission for API Gateway to call each route's
// function for that method and path only.
func (d *deployer) routes() error {
	d.resourceIDs = map[string]pulumi.StringOutput{"/": d.rest.RootResourceId}
	for _, r := range d.sortedRoutes() {
		if err := d.resource(r.Path); err != nil {
			return err
		}
		methodArgs := &apigateway.MethodArgs{
			RestApi:       d.rest.ID(),
			ResourceId:    d.resourceIDs[r.Path],
			HttpMethod:    pulumi.String(r.Method),
			Authorization: pulumi.String("NONE"),
			// API keys meter protected routes only: public ones have
			// no authorizer to name a key.
			ApiKeyRequired: pulumi.Bool(r.Protected && d.args.UsagePlan != nil),
		}
		if r.Protected {
			methodArgs.Authorization = pulumi.String("CUSTOM")
			methodArgs.AuthorizerId = d.authorizer.ID()
		}
		if params := pathParameters(r.Path); len(params) > 0 {
			rp := pulumi.BoolMap{}
			for _, p := range params {
				rp["method.request.path."+p] = pulumi.Bool(true)
			}
			methodArgs.RequestParameters = rp
		}
		key := r.Method + r.Path
		method, err := apigateway.NewMethod(d.ctx, d.child(key), methodArgs, d.parent)
		if err != nil {
			return err
		}
		fn := d.api.Functions[r.Function]
		integration, err := apigateway.NewIntegration(d.ctx, d.child(key), &apigateway.IntegrationArgs{
			RestApi:               d.rest.ID(),
			ResourceId:            d.resourceIDs[r.Path],
			HttpMethod:            method.HttpMethod,
			Type:                  pulumi.String("AWS_PROXY"),
			IntegrationHttpMethod: pulumi.String("POST"),
			Uri:                   fn.InvokeArn,
		}, d.parent)
		if err != nil {
			return err
		}
		_, err = lambda.NewPermission(d.ctx, d.child(key), &lambda.PermissionArgs{
			Action:    pulumi.String("lambda:InvokeFunction"),
			Function:  fn.Name,
			Principal: pulumi.String("apigateway.amazonaws.com"),
			SourceArn: pulumi.Sprintf("%s/*/%s", d.rest.ExecutionArn, routeARN(r)),
		}, d.parent)
		if err != nil {
			return err
		}
		d.changes = append(d.changes, method.ID(), integration.ID(), fn.InvokeArn)
		d.dependencies = append(d.dependencies, method, integration)
	}
	return nil
}

// resource creates the API Gateway resource for path and its parents.
func (d *deployer) resource(path string) error {
	if _, ok := d.resourceIDs[path]; ok {
		return nil
	}
	i := strings.LastIndexByte(path, '/')
	parent := path[:i]
	if parent == "" {
		parent = "/"
	}
	if err := d.resource(parent); err != nil {
		return err
	}
	res, err := apigateway.NewResource(d.ctx, d.child("resource"+path), &apigateway.ResourceArgs{
		RestApi:  d.rest.ID(),
		ParentId: d.resourceIDs[parent],
		PathPart: pulumi.String(path[i+1:]),
	}, d.parent)
	if err != nil {
		return err
	}
	d.resourceIDs[path] = res.ID().ToStringOutput()
	return nil
}

// pathParameters are the names of path's parameters, "{name}" or "{name+}".
func pathParameters(path string) []string {
	var names []string
	for _, s := range strings.Split(path, "/") {
		if strings.HasPrefix(s, "{") {
			names = append(names, strings.TrimSuffix(strings.Trim(s, "{}"), "+"))
		}
	}
	return names
}

// responses creates the Definition's gateway responses: the same JSON
// bodies and headers the local gateway answers with.
func (d *deployer) responses() error {
	def := d.def()
	for _, t := range slices.Sorted(maps.Keys(def.Responses)) {
		r := def.Responses[t]
		template := r.Template
		if template == "" {
			template = api.DefaultTemplate
		}
		args := &apigateway.ResponseArgs{
			RestApiId:         d.rest.ID().ToStringOutput(),
			ResponseType:      pulumi.String(string(t)),
			ResponseTemplates: pulumi.StringMap{"application/json": pulumi.String(template)},
		}
		if r.StatusCode != 0 {
			args.StatusCode = pulumi.String(itoa(r.StatusCode))
		}
		if len(r.Headers) > 0 {
			params := pulumi.StringMap{}
			for name, v := range r.Headers {
				params["gatewayresponse.header."+name] = pulumi.String("'" + v + "'")
			}
			args.ResponseParameters = params
		}
		resp, err := apigateway.NewResponse(d.ctx, d.child("response-"+string(t)), args, d.parent)
		if err != nil {
			return err
		}
		d.changes = append(d.changes, resp.ID())
		d.dependencies = append(d.dependencies, resp)
	}
	return nil
}

// deployment creates the deployment, the stage serving it with access logs,
// and the stage's throttle and metrics.
//
// A deployment is a snapshot: a change to a method, an integration, the
// authorizer or a gateway response reaches callers only through a new one.
// Its trigger is a hash of the Definition's routes, authorizer and
// responses and of the ids those resources got, so any such change
// replaces it; the new deployment is created, the stage moved to it, and
// only then the old one deleted.
func (d *deployer) deployment() error {
	def := d.def()
	shape, err := json.Marshal(struct {
		Routes     []api.Route
		Authorizer api.Authorizer
		Responses  map[api.ResponseType]api.GatewayResponse
		UsagePlan  bool
	}{d.sortedRoutes(), def.Authorizer, def.Responses, d.args.UsagePlan != nil})
	if err != nil {
		return err
	}
	trigger := pulumi.All(d.changes...).ApplyT(func(vs []any) string {
		h := sha256.New()
		h.Write(shape)
		for _, v := range vs {
			fmt.Fprintf(h, "\x00%v", v)
		}
		return hex.EncodeToString(h.Sum(nil))
	}).(pulumi.StringOutput)
	deployment, err := apigateway.NewDeployment(d.ctx, d.child("deployment"), &apigateway.DeploymentArgs{
		RestApi:     d.rest.ID(),
		Description: pulumi.Sprintf("tollgate %s", d.name),
		Triggers:    pulumi.StringMap{"redeployment": trigger},
	}, d.parent, pulumi.DependsOn(d.dependencies), pulumi.DeleteBeforeReplace(false))
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
	_, err = apigateway.NewMethodSettings(d.ctx, d.child("method-settings"), &apigateway.MethodSettingsArgs{
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
	return err
}

// accountLogsRole creates the role API Gateway writes access logs with and
// sets it in the Region's account settings, reset when destroyed. The role
// serves every API of the account in the Region, so it carries AWS's
// managed policy for this purpose rather than one scoped to this API.
func (d *deployer) accountLogsRole() (*apigateway.Account, error) {
	role, err := iam.NewRole(d.ctx, d.child("apigateway-logs-role"), &iam.RoleArgs{
		Description:      pulumi.String("API Gateway: write CloudWatch logs (account setting, created by tollgate)"),
		AssumeRolePolicy: pulumi.String(trustPolicy("apigateway.amazonaws.com")),
	}, d.parent)
	if err != nil {
		return nil, err
	}
	attachment, err := iam.NewRolePolicyAttachment(d.ctx, d.child("apigateway-logs-policy"), &iam.RolePolicyAttachmentArgs{
		Role: role.Name,
		PolicyArn: role.Arn.ApplyT(func(arn string) string {
			return "arn:" + partitionOf(arn) + ":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
		}).(pulumi.StringOutput),
	}, d.parent)
	if err != nil {
		return nil, err
	}
	return apigateway.NewAccount(d.ctx, d.child("apigateway-account"), &apigateway.AccountArgs{
		CloudwatchRoleArn: role.Arn,
		ResetOnDelete:     pulumi.Bool(true),
	}, d.parent, pulumi.DependsOn([]pulumi.Resource{attachment}))
}

// usagePlan creates the usage plan and an API key on it for every client,
// whose value the authorizer returns as usageIdentifierKey.
func (d *deployer) usagePlan() error {
	p := d.args.UsagePlan
	if p == nil {
		return nil
	}
	planArgs := &apigateway.UsagePlanArgs{
		Name:        pulumi.String(d.name),
		Description: pulumi.Sprintf("tollgate %s: each client's quota and throttle", d.name),
		ApiStages: apigateway.UsagePlanApiStageArray{&apigateway.UsagePlanApiStageArgs{
			ApiId: d.rest.ID().ToStringOutput(),
			Stage: d.stage.StageName,
		}},
	}
	if p.QuotaLimit > 0 {
		planArgs.QuotaSettings = &apigateway.UsagePlanQuotaSettingsArgs{
			Limit:  pulumi.Int(p.QuotaLimit),
			Period: pulumi.String(p.QuotaPeriod),
		}
	}
	if p.Throttle != (Throttle{}) {
		planArgs.ThrottleSettings = &apigateway.UsagePlanThrottleSettingsArgs{
			RateLimit:  pulumi.Float64(p.Throttle.RateLimit),
			BurstLimit: pulumi.Int(p.Throttle.BurstLimit),
		}
	}
	plan, err := apigateway.NewUsagePlan(d.ctx, d.child("usage-plan"), planArgs, d.parent)
	if err != nil {
		return err
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
			UsagePlanId: plan.ID(),
		}, d.parent)
		if err != nil {
			return err
		}
	}
	return nil
}

// outputs sets the component's outputs.
func (d *deployer) outputs() {
	a := d.api
	routes := d.def().Routes
	a.URL = d.stage.InvokeUrl
	a.RouteURLs = d.stage.InvokeUrl.ApplyT(func(base string) map[string]string {
		urls := make(map[string]string, len(routes))
		for _, r := range routes {
			urls[r.String()] = strings.TrimSuffix(base, "/") + r.Path
		}
		return urls
	}).(pulumi.StringMapOutput)
	a.SecretARN = a.Secret.Arn
	a.APIKeys = pulumi.ToSecret(d.keys.ToStringMapOutput()).(pulumi.StringMapOutput)
	a.Curl = d.stage.InvokeUrl.ApplyT(func(base string) string {
		return curlLine(d.def(), d.args.Clients[0], strings.TrimSuffix(base, "/"))
	}).(pulumi.StringOutput)
}

// curlLine is a shell command that calls the first protected route (the
// first route if none is) with client's key from the stack's apiKeys
// output.
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
	return fmt.Sprintf(`curl -i %s-H "%s: Bearer $(pulumi stack output --show-secrets --json apiKeys | jq -r '.[%q]')" %s%s`,
		method, header, client, base, r.Path)
}
