// Package api is tollgate's API definition, in plain Go: the routes
// (method, path, function, protected or public, an optional throttle of
// their own), the functions behind them, the Lambda authorizer's settings (TOKEN or REQUEST, identity
// sources, validation regex, result TTL), the gateway responses and the
// access log format.
//
// One Definition serves both worlds through one OpenAPI 3.0 document with
// API Gateway's extensions (Document): the Pulumi program imports it as
// the REST API, and the local gateway (cmd/local) serves what it reads
// back from it (ParseDocument) on localhost with the same semantics. So the definition holds only what
// both can honour, and Validate refuses, before anything is deployed or
// served, whatever API Gateway would refuse or tollgate could not serve
// safely (such as a REQUEST authorizer whose cache key leaves out the
// header holding the key).
//
// Default is tollgate's own API: GET /hello, GET /customers and POST
// /orders behind the authorizer, and a public GET /health. A user declares
// their own functions and routes in api.yaml at the module's root
// (FileName), which ParseFile reads into Default's place; the repository's
// api.yaml is Default written out, and both cmd/local and the Pulumi
// program read it.
//
// What it follows:
//   - routes and path parameters:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html
//   - authorizers, identity sources and result caching:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html
//   - gateway responses:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
//   - the OpenAPI extensions:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html
//   - access log variables:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
package api
