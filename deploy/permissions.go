package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"tollgate/api"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// permissions let API Gateway call the functions: the authorizer from
// this API's authorizers only, each route's function for that route's
// method and path only. Each permission's statement id is set, not left
// to Pulumi's autonaming: autonaming derives it from the logical name
// (pulumi-aws provider/resources.go, aws_lambda_permission statement_id:
// tfbridge.AutoName("statementId", 100, "-")), and Lambda allows only
// letters, digits, '-' and '_' in it (terraform-provider-aws
// internal/service/lambda/validate.go, validPolicyStatementID).
//
// A permission cannot be changed, only replaced, and its statement id is
// the same after: so the old one is deleted before the new one is made
// (Lambda refuses a second statement of the same id: terraform-provider-aws
// internal/service/lambda/permission.go retries ResourceConflictException,
// then fails). Its source ARN changes only when the API is replaced (a
// switch of apiType), which the function is not called through meanwhile.
func (d *deployer) permissions() error {
	def := d.def()
	if protected := slices.ContainsFunc(def.Routes, func(r api.Route) bool { return r.Protected }); protected {
		fn := d.api.Functions[def.Authorizer.Function]
		_, err := lambda.NewPermission(d.ctx, d.child("authorizer-invoke"), &lambda.PermissionArgs{
			StatementId: pulumi.String("tollgate-authorizer"),
			Action:      pulumi.String("lambda:InvokeFunction"),
			Function:    fn.Name,
			Principal:   pulumi.String("apigateway.amazonaws.com"),
			// The authorizer's id is API Gateway's, made when the document
			// is imported; the permission names every authorizer of this API.
			SourceArn: pulumi.Sprintf("%s/authorizers/*", d.executionARN),
		}, d.parent, pulumi.DeleteBeforeReplace(true))
		if err != nil {
			return err
		}
	}
	byFunction := map[string][]api.Route{}
	for _, r := range d.def().SortedRoutes() {
		byFunction[r.Function] = append(byFunction[r.Function], r)
	}
	for _, fn := range slices.Sorted(maps.Keys(byFunction)) {
		routes := byFunction[fn]
		if !routePermissionsFit(FunctionName(d.name, fn), routes) {
			// One statement for every route of the function: any method
			// and path of this API (its stages, methods and paths follow
			// the API's id in the ARN).
			_, err := lambda.NewPermission(d.ctx, d.child("routes-"+fn), &lambda.PermissionArgs{
				StatementId: pulumi.String(allRoutesStatementID),
				Action:      pulumi.String("lambda:InvokeFunction"),
				Function:    d.api.Functions[fn].Name,
				Principal:   pulumi.String("apigateway.amazonaws.com"),
				SourceArn:   pulumi.Sprintf("%s/*", d.executionARN),
			}, d.parent, pulumi.DeleteBeforeReplace(true))
			if err != nil {
				return err
			}
			continue
		}
		for _, r := range routes {
			id := statementID(r)
			_, err := lambda.NewPermission(d.ctx, d.child(id), &lambda.PermissionArgs{
				StatementId: pulumi.String(id),
				Action:      pulumi.String("lambda:InvokeFunction"),
				Function:    d.api.Functions[r.Function].Name,
				Principal:   pulumi.String("apigateway.amazonaws.com"),
				SourceArn:   pulumi.Sprintf("%s/*/%s", d.executionARN, routeARN(r)),
			}, d.parent, pulumi.DeleteBeforeReplace(true))
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// allRoutesStatementID names the one permission of a function whose
// routes' statements would not fit its policy (routePermissionsFit).
const allRoutesStatementID = "tollgate-routes"

// Lambda keeps a function's permissions in one resource-based policy of
// at most 20 KB
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
// "Function resource-based policy"). A statement per route takes about
// 200 to 300 bytes, so about 60 to 90 routes on one function fill it.
// The route statements of one function may take routePolicyBudget of it,
// leaving the rest to statements others add to the function.
const (
	lambdaPolicyQuota = 20 * 1024
	routePolicyBudget = lambdaPolicyQuota * 3 / 4
)

// routePermissionsFit reports whether a statement per route of function
// fits its policy: the statements' size, as Lambda stores them, with the
// longest partition, Region and API id an ARN can hold, within
// routePolicyBudget. When they do not, the function gets one statement for
// every route of this API instead: still this API only, no longer each
// route's method and path.
func routePermissionsFit(function string, routes []api.Route) bool {
	const (
		// The longest parts of the ARNs: the partition aws-us-gov, a
		// 14-character Region, an account and a 10-character API id.
		arnHead = "arn:aws-us-gov:%s:ap-southeast-5:123456789012:"
		apiID   = "abcdefghij"
	)
	fnARN := fmt.Sprintf(arnHead, "lambda") + "function:" + function
	size := len(`{"Version":"2012-10-17","Id":"default","Statement":[]}`)
	for _, r := range routes {
		b, _ := json.Marshal(map[string]any{
			"Sid": statementID(r), "Effect": "Allow", "Principal": map[string]string{"Service": "apigateway.amazonaws.com"},
			"Action": "lambda:InvokeFunction", "Resource": fnARN,
			"Condition": map[string]any{"ArnLike": map[string]string{"AWS:SourceArn": fmt.Sprintf(arnHead, "execute-api") + apiID + "/*/" + routeARN(r)}},
		})
		size += len(b) + 1
	}
	return size <= routePolicyBudget
}

// statementID is the Lambda permission statement id of route r: "route-",
// the method, the path with every character Lambda refuses in a statement
// id made '_', and 8 hex digits of the route's SHA-256, so that two routes
// whose paths differ only in such characters still differ; at most 100
// characters (terraform-provider-aws internal/service/lambda/validate.go,
// validPolicyStatementID: ^[0-9A-Za-z_-]+$, 1 to 100).
func statementID(r api.Route) string {
	sum := sha256.Sum256([]byte(r.String()))
	slug := []byte(strings.TrimPrefix(r.Path, "/"))
	for i, c := range slug {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			slug[i] = '_'
		}
	}
	const max = 100 - len("route-") - 1 - 1 - 8 // the two '-' around the slug and the hash
	head := r.Method
	if len(slug) > 0 {
		head += "-" + string(slug)
	}
	if len(head) > max {
		head = head[:max]
	}
	return "route-" + head + "-" + hex.EncodeToString(sum[:4])
}
