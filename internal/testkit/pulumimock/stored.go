package pulumimock

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// What AWS stores, as opposed to what the provider checks: the mocks keep
// what a deploy has created so far and refuse, as AWS would (or as a
// setting stored where nothing reads it would fail silently), a resource
// that does not fit what is stored already. Each fact cites its source.

// LambdaPolicyQuota is the size of a function's resource-based policy
// Lambda allows: 20 KB
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
// "Function resource-based policy").
const LambdaPolicyQuota = 20 * 1024

// stored is what the deploy has made so far.
type stored struct {
	// restBodies are the REST APIs' OpenAPI documents, by id.
	restBodies map[string]string
	// policies are each function's permission statements, as Lambda
	// stores them, by function name.
	policies map[string][]string
	// planStages are each usage plan's API stages ("apiId/stage"), by
	// plan id, and keyPlans the plans each API key is on, by key id.
	planStages map[string][]string
	keyPlans   map[string][]string
	// stages are the REST API stages made so far ("apiId/stage").
	stages map[string]bool
}

// PolicySize is the size of function's resource-based policy as Lambda
// would store it after the permissions registered so far.
func (m *Mocks) PolicySize(function string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return policySize(m.stored.policies[function])
}

// policySize is the size of a policy document holding statements, as
// Lambda's GetPolicy returns it: {"Version":…,"Id":"default","Statement":[…]}.
func policySize(statements []string) int {
	return len(`{"Version":"2012-10-17","Id":"default","Statement":[`) + len(strings.Join(statements, ",")) + len(`]}`)
}

// statement is a permission as Lambda stores it in the function's policy
// (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html:
// Sid, Effect, Principal, Action, Resource and, with a source ARN, an
// ArnLike condition on AWS:SourceArn).
func statement(inputs map[string]any, region, account string) string {
	str := func(k string) string { s, _ := inputs[k].(string); return s }
	fn := str("function")
	if !strings.HasPrefix(fn, "arn:") {
		fn = "arn:aws:lambda:" + region + ":" + account + ":function:" + fn
	}
	s := map[string]any{
		"Sid":       str("statementId"),
		"Effect":    "Allow",
		"Principal": map[string]string{"Service": str("principal")},
		"Action":    str("action"),
		"Resource":  fn,
	}
	if arn := str("sourceArn"); arn != "" {
		s["Condition"] = map[string]any{"ArnLike": map[string]string{"AWS:SourceArn": arn}}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// store checks r against what is stored, and stores it.
func (m *Mocks) store(r Resource) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stored.restBodies == nil {
		m.stored = stored{restBodies: map[string]string{}, policies: map[string][]string{}, planStages: map[string][]string{}, keyPlans: map[string][]string{}, stages: map[string]bool{}}
	}
	switch r.Type {
	case "aws:apigateway/restApi:RestApi":
		m.stored.restBodies[r.ID] = r.Str("body")
		if err := keySourceFits(r.Str("apiKeySource"), r.Str("body")); err != nil {
			return err
		}
	case "aws:apigateway/stage:Stage":
		m.stored.stages[r.Str("restApi")+"/"+r.Str("stageName")] = true
	case "aws:lambda/permission:Permission":
		fn := r.Str("function")
		policy := append(slices.Clone(m.stored.policies[fn]), statement(r.Inputs, Region, Account))
		if size := policySize(policy); size > LambdaPolicyQuota {
			return fmt.Errorf("function %s: its resource-based policy would be %d bytes with statement %s, past Lambda's %d (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)",
				fn, size, r.Str("statementId"), LambdaPolicyQuota)
		}
		m.stored.policies[fn] = policy
	case "aws:apigateway/usagePlan:UsagePlan":
		stages, _ := r.Inputs["apiStages"].([]any)
		for _, s := range stages {
			st, _ := s.(map[string]any)
			stage := fmt.Sprint(st["apiId"], "/", st["stage"])
			if !m.stored.stages[stage] {
				return fmt.Errorf("usage plan %s on stage %s, which this deploy has not made (yet): %s", r.Str("name"), stage, srcPlanNeedsStage)
			}
			m.stored.planStages[r.ID] = append(m.stored.planStages[r.ID], stage)
		}
	case "aws:apigateway/usagePlanKey:UsagePlanKey":
		key, plan := r.Str("keyId"), r.Str("usagePlanId")
		for _, other := range m.stored.keyPlans[key] {
			for _, s := range m.stored.planStages[plan] {
				if slices.Contains(m.stored.planStages[other], s) {
					return fmt.Errorf("API key %s is on usage plan %s already, which has the stage %s too: %s", key, other, s, srcOnePlanPerStage)
				}
			}
		}
		m.stored.keyPlans[key] = append(m.stored.keyPlans[key], plan)
	case "aws:apigatewayv2/api:Api":
		if err := reimported(r.Inputs); err != nil {
			return err
		}
	case "aws:apigateway/methodSettings:MethodSettings":
		body, ok := m.stored.restBodies[r.Str("restApi")]
		if !ok {
			return fmt.Errorf("method settings for REST API %q, which this deploy has not created", r.Str("restApi"))
		}
		keys, err := methodSettingKeys(body)
		if err != nil {
			return err
		}
		if path := r.Str("methodPath"); !keys[path] {
			return fmt.Errorf("methodPath %q is no key of the stage's method settings: API Gateway keys them */* or by a method's resource path with each / written ~1, then /METHOD (%s); this API's are %v",
				path, srcMethodSettingKeys, slices.Sorted(maps.Keys(keys)))
		}
	}
	return nil
}

// srcMethodSettingKeys is where the key of a stage's method setting comes
// from: the stage stores it as GetStage returns it, "~1orders~1{id}/GET",
// and the provider passes method_path to UpdateStage as it is given.
const srcMethodSettingKeys = "tf internal/service/apigateway/method_settings.go: the patch path is \"/\" + method_path + \"/…\", unchanged, and Read looks method_path up in GetStage's methodSettings; terraform-provider-aws issue 9738; CloudFormation AWS::ApiGateway::Stage MethodSetting ResourcePath, \"/resource/subresource must be encoded as /~1resource~1subresource\""

// methodSettingKeys are the keys a REST API's stage stores method settings
// under, for the methods of its OpenAPI document: */* for every method,
// and each method's resource path with "/" written "~1", "/", and its
// HTTP method (ANY for x-amazon-apigateway-any-method).
func methodSettingKeys(body string) (map[string]bool, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return nil, fmt.Errorf("REST API body: %w", err)
	}
	keys := map[string]bool{"*/*": true}
	for path, item := range doc.Paths {
		resource := strings.ReplaceAll(path, "/", "~1")
		for method := range item {
			switch m := strings.ToUpper(method); m {
			case "X-AMAZON-APIGATEWAY-ANY-METHOD":
				keys[resource+"/ANY"] = true
			case "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH":
				keys[resource+"/"+m] = true
			}
		}
	}
	return keys, nil
}

// reimported checks an HTTP API against what its body's import stores:
// ReimportApi sets the API's name, description and version from the
// document's info, and the provider then keeps, of its own arguments,
// only those the info leaves out (tf internal/service/apigatewayv2/api.go
// reimportOpenAPIDefinition: "Don't overwrite the configured values if
// they are not present in the OpenAPI definition"; terraform-provider-aws
// issue 33389). So an info.title, description or version that differs
// from the argument renames the API at every import and shows a diff at
// the next preview.
func reimported(inputs map[string]any) error {
	body, _ := inputs["body"].(string)
	if body == "" {
		return nil
	}
	var doc struct {
		Info map[string]any `json:"info"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return fmt.Errorf("HTTP API body: %w", err)
	}
	for info, arg := range map[string]string{"title": "name", "description": "description", "version": "version"} {
		v, inInfo := doc.Info[info]
		if !inInfo {
			continue
		}
		if want, _ := inputs[arg].(string); v != want {
			return fmt.Errorf("body info.%s %q differs from the API's %s %q: ReimportApi stores the document's, so every import renames the API and the next preview shows a diff (tf internal/service/apigatewayv2/api.go reimportOpenAPIDefinition)", info, v, arg, want)
		}
	}
	return nil
}

// srcPlanNeedsStage: a usage plan's API stage must exist, deployed,
// before the plan names it.
const srcPlanNeedsStage = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-create-usage-plans-with-rest-api.html: \"Before configuring a usage plan, you must have already ... deployed or redeployed the API to a stage\""

// srcKeySource: with the AUTHORIZER key source, the key is the one the
// Lambda authorizer returns, and a method takes it only if it requires an
// API key.
const srcKeySource = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html (AUTHORIZER: the key is the usageIdentifierKey of a Lambda authorizer); https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-create-usage-plans-with-rest-api.html (\"set up methods of a selected API to require API keys\"); the import sets the API's key source from x-amazon-apigateway-api-key-source"

// keySourceFits checks a REST API whose key source is AUTHORIZER against
// its document: the document says the same (an import with another, or
// none, would leave the API reading keys from the header), it has a
// Lambda authorizer to return the key, and some method requires an API
// key, without which no plan limits anything.
func keySourceFits(source, body string) error {
	if source != "AUTHORIZER" || body == "" {
		return nil
	}
	var doc struct {
		KeySource string `json:"x-amazon-apigateway-api-key-source"`
		Security  map[string]struct {
			Authorizer *struct {
				Type string `json:"type"`
			} `json:"x-amazon-apigateway-authorizer"`
		} `json:"securityDefinitions"`
		Components struct {
			SecuritySchemes map[string]struct {
				Authorizer *struct {
					Type string `json:"type"`
				} `json:"x-amazon-apigateway-authorizer"`
			} `json:"securitySchemes"`
		} `json:"components"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return fmt.Errorf("REST API body: %w", err)
	}
	if doc.KeySource != "AUTHORIZER" {
		return fmt.Errorf("apiKeySource AUTHORIZER, but the body's x-amazon-apigateway-api-key-source is %q: %s", doc.KeySource, srcKeySource)
	}
	lambda := false
	for _, s := range doc.Components.SecuritySchemes {
		if s.Authorizer != nil && (s.Authorizer.Type == "token" || s.Authorizer.Type == "request") {
			lambda = true
		}
	}
	for _, s := range doc.Security {
		if s.Authorizer != nil && (s.Authorizer.Type == "token" || s.Authorizer.Type == "request") {
			lambda = true
		}
	}
	required := false
	for _, item := range doc.Paths {
		for _, op := range item {
			var o struct {
				Security []map[string][]string `json:"security"`
			}
			if json.Unmarshal(op, &o) == nil {
				for _, req := range o.Security {
					if _, ok := req["api_key"]; ok {
						required = true
					}
				}
			}
		}
	}
	if !lambda || !required {
		return fmt.Errorf("apiKeySource AUTHORIZER with a Lambda authorizer %v and a method requiring an API key %v: want both: %s", lambda, required, srcKeySource)
	}
	return nil
}
