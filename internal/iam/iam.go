// Package iam evaluates the parts of IAM policy language that API Gateway
// applies to a Lambda authorizer's policy: resource ARN wildcards.
//
// API Gateway matches each statement's Resource against the request's method
// ARN with IAM wildcard rules: "*" matches any run of characters, including
// "/" and the empty run, and "?" matches exactly one character. Matching is
// case-sensitive. See
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
// and https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
//
// Both the authorizer (to decide whether a route-scoped key may call a route)
// and the local gateway (to evaluate the returned policy) use this one
// implementation, so the decision the authorizer makes and the one the gateway
// enforces cannot drift apart. RouteResource, the rule from a route to the
// resource that covers it, serves the deploy's Lambda permissions; the
// authorizer's policies, which must cover no more than a key's routes, are
// compiled and proven exact by the authorizer itself.
package iam

import "strings"

// MaxMethodARN is the longest method ARN of a method with authorization:
// 1,600 bytes, past which the client gets 414 Request URI too long
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
// The authorizer refuses a longer one as malformed, and the local gateway
// answers it 414, from this one constant.
const MaxMethodARN = 1600

// Match reports whether s matches pattern under IAM wildcard rules. A "?"
// matches one byte: ARNs that reach it are ASCII, where a byte is a character.
//
// It runs in O(len(pattern)*len(s)) time in the worst case and allocates
// nothing.
func Match[S ~string | ~[]byte](pattern string, s S) bool {
	p, i := 0, 0
	star, mark := -1, 0 // position after the last '*' seen, and where s resumed
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p+1, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			// Let the last '*' swallow one more byte and retry from there.
			mark++
			p, i = star, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Methods is every HTTP method an API Gateway method, and so a method ARN,
// may name
// (https://docs.aws.amazon.com/apigateway/latest/api/API_PutMethod.html:
// DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, or ANY for all of them).
// It is a function so that no caller can change the list.
func Methods() []string {
	return []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
}

// RouteResource is the part of an execute-api method ARN after the stage
// that a route covers: "GET/orders/*" for GET /orders/{id}. Each path
// parameter segment ({id}, or a greedy {proxy+}) becomes "*", which matches
// any run of characters; the method is used as given, so "*" stands for
// every method. The ARN's grammar is
// arn:partition:execute-api:region:account:api-id/stage/METHOD/path
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html).
//
// Because "*" matches "/" too, the resource covers longer paths as well
// (GET/orders/* covers GET/orders/42/refunds; "*/customers" covers
// GET/admin/customers): right for a Lambda permission, which need only
// cover its routes, and too wide for a policy that must stay on them.
func RouteResource(method, path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "*"
		}
	}
	return method + "/" + strings.Join(segs, "/")
}
