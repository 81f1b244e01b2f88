package deploy

import (
	"maps"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
	"tollgate/authorizer"
)

// httpAPI creates the HTTP API (API Gateway v2) from the Definition's
// OpenAPI document (api.Definition.Document of an HTTP API): its routes,
// Lambda proxy integrations of payload format 2.0 and the REQUEST
// authorizer with simple responses are the document, imported as the
// API's body, so there is no resource per route, integration or
// authorizer. The provider creates the API, then imports the body with
// ReimportApi, and imports it again whenever it changes; afterwards it
// applies the name, description and CORS configuration set as arguments
// (terraform-provider-aws internal/service/apigatewayv2/api.go,
// reimportOpenAPIDefinition). fail_on_warnings makes an import that API
// Gateway would only warn about fail the deploy instead of leaving a part
// of the document out (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html:
// warnings are for invalid structures; what HTTP APIs merely do not
// support is info).
func (d *deployer) httpAPI() error {
	def := d.def()
	d.deployedDocument(false) // an HTTP API has no usage plans
	args := &apigatewayv2.ApiArgs{
		// The document's info says the same (deployedDocument): a
		// re-import would set them from it.
		Name:           pulumi.String(d.name),
		Description:    pulumi.String(d.description()),
		Version:        pulumi.String(api.DefaultVersion),
		ProtocolType:   pulumi.String("HTTP"),
		Body:           d.document,
		FailOnWarnings: pulumi.Bool(true),
	}
	if c := def.CORS(); c != nil {
		args.CorsConfiguration = &apigatewayv2.ApiCorsConfigurationArgs{
			AllowOrigins: pulumi.ToStringArray(c.AllowOrigins),
			AllowMethods: pulumi.ToStringArray(c.AllowMethods),
			AllowHeaders: pulumi.ToStringArray(c.AllowHeaders),
			MaxAge:       pulumi.Int(c.MaxAge),
		}
	}
	var err error
	d.http, err = apigatewayv2.NewApi(d.ctx, d.child("api"), args, d.parent)
	if err != nil {
		return err
	}
	d.api.HTTPAPI = d.http
	d.executionARN, d.apiID = d.http.ExecutionArn, d.http.ID()
	return d.permissions()
}

// httpStage creates the HTTP API's stage: auto-deployed, so that every
// import of the document is served without a deployment resource (the
// provider's auto_deploy, default false: terraform-provider-aws
// internal/service/apigatewayv2/stage.go), with JSON access logs in the
// HTTP API's variables (api.DefaultHTTPAccessLog), detailed metrics, the
// stage's throttle as its default route settings and each throttled
// route's own as its route settings, keyed by route key ("GET
// /orders/{id}", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html).
// The provider deletes the settings of a route no longer listed, and
// ignores a route already gone (stage.go: DeleteRouteSettings,
// NotFoundException tolerated).
//
// An HTTP API's access log needs no account-level role: API Gateway
// writes it with the deploying identity's log delivery permissions
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html),
// so Args.AccountLogsRole does not apply.
func (d *deployer) httpStage() error {
	def := d.def()
	var routes apigatewayv2.StageRouteSettingArray
	for _, r := range def.SortedRoutes() {
		if r.Throttle == nil {
			continue
		}
		routes = append(routes, &apigatewayv2.StageRouteSettingArgs{
			RouteKey:               pulumi.String(r.String()),
			DetailedMetricsEnabled: pulumi.Bool(true),
			ThrottlingRateLimit:    pulumi.Float64(r.Throttle.RateLimit),
			ThrottlingBurstLimit:   pulumi.Int(r.Throttle.BurstLimit),
		})
	}
	args := &apigatewayv2.StageArgs{
		ApiId:      d.http.ID(),
		Name:       pulumi.String(def.Stage),
		AutoDeploy: pulumi.Bool(true),
		AccessLogSettings: &apigatewayv2.StageAccessLogSettingsArgs{
			DestinationArn: d.accessLogs.Arn,
			Format:         pulumi.String(api.AccessLogFormat(def.AccessLog)),
		},
		DefaultRouteSettings: &apigatewayv2.StageDefaultRouteSettingsArgs{
			DetailedMetricsEnabled: pulumi.Bool(true),
			ThrottlingRateLimit:    pulumi.Float64(d.args.Throttle.RateLimit),
			ThrottlingBurstLimit:   pulumi.Int(d.args.Throttle.BurstLimit),
		},
	}
	if len(routes) > 0 {
		args.RouteSettings = routes
	}
	stage, err := apigatewayv2.NewStage(d.ctx, d.child("stage"), args, d.parent)
	if err != nil {
		return err
	}
	d.api.HTTPStage = stage
	d.invokeURL = stage.InvokeUrl
	return nil
}

// httpRouteLimits checks the clients' route limits and the JWT scopes'
// (the authorizer's authorizer.EnvJWT with scopeRoutes) against an HTTP
// API's routes: its answers are cached by route and method, and a limit
// covering part of a route (one order of GET /orders/{id}) cannot be kept,
// so the authorizer allows none of the route
// (authorizer.CheckHTTPRouteLimit). Refused before anything is created.
func (a Args) httpRouteLimits() error {
	var routes []string
	for _, r := range a.Definition.SortedRoutes() {
		if r.Protected {
			routes = append(routes, r.String())
		}
	}
	for _, c := range slices.Sorted(maps.Keys(a.Routes)) {
		if err := authorizer.CheckHTTPRouteLimit(a.Routes[c], routes); err != nil {
			return configErr("client %q: %v", c, err)
		}
	}
	settings := a.Definition.Functions[a.Definition.Authorizer.Function].Env[authorizer.EnvJWT]
	if settings == "" {
		return nil
	}
	jwt, err := authorizer.ParseJWTConfig([]byte(settings))
	if err != nil {
		return configErr("%s: %v", authorizer.EnvJWT, err)
	}
	for _, scope := range slices.Sorted(maps.Keys(jwt.ScopeRoutes)) {
		if err := authorizer.CheckHTTPRouteLimit(jwt.ScopeRoutes[scope], routes); err != nil {
			return configErr("JWT scope %q: %v", scope, err)
		}
	}
	return nil
}

// httpSteps are New's steps for an HTTP API.
func (d *deployer) httpSteps() []func() error {
	return []func() error{d.keyring, d.logs, d.functions, d.httpAPI, d.httpStage}
}
