// Package deploy is tollgate on AWS as a Pulumi component: New creates,
// under one tollgate:index:API component, a REST API (or an HTTP API) guarded by tollgate's
// Lambda authorizer, with its API keys in Secrets Manager. The root
// program (main.go) reads the stack's configuration into Args and calls
// New; another Pulumi Go program can do the same with its own
// api.Definition, putting its routes and functions behind the authorizer.
//
// What New creates, and the promises each part keeps:
//
//   - The keyring: a Secrets Manager secret and version holding the
//     authorizer's keyring JSON with digests only: per client the SHA-256
//     of a tollgate key generated with pulumi-random (32 letters and
//     digits, plus prefix and checksum, authorizer.KeyFromRandom), or of a
//     key supplied as Args.KeyDigests. Generated keys are the secret
//     APIKeys output. Args.Rotations rotates one client, keeping its old
//     key as the keyring's "previous" entry until PreviousUntil; other
//     clients are untouched. A rotation is one way: the KeyGenerations
//     output, read back as Args.DeployedGenerations, makes a lower
//     generation a configuration error, since it would bring back the key
//     it replaced. Args.Expiry and Args.Disabled become the
//     keys' "expires" and "disabled". The authorizer reads AWSCURRENT only, so a
//     removed client's key ends at the next refresh; destroying the secret
//     removes every version.
//   - IAM: a role per function, trusted only by lambda.amazonaws.com,
//     allowed only to write its own log group; the authorizer's may also
//     call secretsmanager:GetSecretValue on this secret alone, and
//     kms:Decrypt on Args.KMSKeyARN through Secrets Manager only. No policy
//     has a "*" resource. (With Args.AccountLogsRole, the Region's API
//     Gateway logging role, which serves every API in the account, carries
//     AWS's managed policy for it.)
//   - Logs: a log group per function and one for the access log, with
//     Args.LogRetentionDays, so destroying removes them.
//   - Functions: provided.al2023, bootstrap, Args.Arch, memory, timeout and
//     environment from the api.Definition, plus what each Lambda package
//     says it needs (authorizer.Env, with the secret's ARN, for the
//     authorizer; handler.Env with the CORS origin for functions that
//     answer routes), optional
//     reserved concurrency. The archives come from Build: the same source
//     gives the same bytes, so an unchanged function shows no diff.
//   - The REST API (regional), imported from one OpenAPI document
//     (api.Definition.Document, with the functions' invoke ARNs; the
//     Document output): every route with its AWS_PROXY integration, the
//     CUSTOM authorizer (TOKEN or REQUEST, identity sources, validation
//     regex, result TTL), the gateway responses (the same bodies and
//     headers the local gateway answers with) and the API key source.
//     The provider puts it in overwrite mode, so a removed route is gone.
//     There is no resource per route, method or integration.
//   - Lambda permissions scoped to this API: the authorizer's to
//     .../authorizers/*, each route's to .../*/<METHOD>/<path>, each with
//     a statement id of its own: "route-", the method, the path and 8 hex
//     digits of the route's SHA-256, at most 100 characters.
//   - A deployment whose trigger is the document's SHA-256, so it is
//     replaced exactly when the document changes (the new one is created
//     before the old is deleted), and a stage with throttling, JSON access
//     logs (api.AccessLogFormat) and method metrics.
//   - An HTTP API instead (api.Definition.Type HTTP, api.Definition.UseHTTP):
//     one apigatewayv2 API imported from the Definition's HTTP API
//     document (payload 2.0 integrations, a REQUEST authorizer with simple
//     responses, with $context.routeKey and $context.httpMethod among its
//     identity sources whenever answers are cached, so that each route and
//     method has its own; clientRoutes and JWT scopeRoutes that cover part
//     of an API route are refused; API Gateway's own JWT authorizer for routes with
//     api.Route.JWT, from api.Definition.JWT), with
//     fail-on-warnings and the Definition's CORS as its CORS
//     configuration; the same Lambda permissions; an auto-deployed stage
//     with the HTTP access log, detailed metrics, the stage throttle and
//     route throttles. No deployment, method settings, usage plan or
//     account role: plans are refused.
//   - With Args.AccountLogsRole: the Region's API Gateway account settings
//     name the account's logging role, AccountLogsRoleName, created only
//     if the account has none; both are retained on destroy, since every
//     tollgate stack of the account shares them.
//   - With Args.Plans: a usage plan per plan (throttle, quota, route
//     throttles) on the stage, an API key per client on its plan, the
//     keys' usageKey in the keyring, and the API's key source AUTHORIZER.
//     Moving a client to another plan replaces its key's association and
//     nothing else (usagePlans).
//   - Unless Args.Monitoring.Off (monitoring.go, alarms.go, dashboard.go;
//     docs/running-it.md): a dashboard named as the component, five alarms
//     (authorizer errors, an invalid keyring, stale keys, a 5xx rate, an
//     anomalous rise of refusals) sent to an SNS topic of the stack (an
//     email subscribed, Monitoring.AlarmEmail) or Monitoring.AlarmTopicARN,
//     two metric filters on the access log (Throttled, QuotaExceeded),
//     two Contributor Insights rules (top principals, top refused IPs),
//     replaced rather than updated since the provider never updates one,
//     and two saved Logs Insights queries (last use per client, refusals
//     by reason). Off, the authorizer's metrics are off too
//     (TOLLGATE_METRICS=off). The Dashboard output is its console address.
//
// New checks Args (Args.Validate) and its name (CheckName: every derived
// name must fit the provider's limits) and builds the functions before it
// registers anything: a configuration error, wrapping ErrConfig, or a
// compile error leaves the stack untouched.
//
// The provider's behaviour this package relies on (autonaming, validation,
// which changes replace a resource) is cited beside each use, and the
// tests run New against mocks that apply it (internal/testkit/pulumimock).
//
// Resource tags come from the AWS provider New is given (the root program
// sets default tags from the stack's configuration).
//
// This package imports the Pulumi SDK; the Lambda packages (authorizer,
// handler) never do.
package deploy
