// Package plans declares usage plans, tollgate's limits per client: for
// each plan a throttle (a token bucket per client), a quota per DAY, WEEK
// or MONTH, throttles of its own on some routes, and the clients on it,
// with a default plan for the others.
//
// The deploy makes each plan an API Gateway usage plan and puts each
// client's API Gateway key on its plan (deploy.Args.Plans); the
// authorizer returns the key as usageIdentifierKey, and API Gateway
// limits each client by it. The local gateway enforces the same plans
// itself. Set.Validate holds the rules both rely on: one plan per client,
// every client on a plan, a quota with its period, route throttles only
// on routes the Lambda authorizer guards, and no plans on an HTTP API,
// which has no usage plans.
//
// AWS calls the limits targets: "In some cases clients can exceed the
// targets that you set"
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-apigateway-usageplan-quotasettings.html).
package plans
