package iampolicy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The policy is a valid IAM policy document within IAM's quota for a
// managed policy (6,144 characters, whitespace not counted:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html),
// every resource limited to the stack where a name is known, and every
// need cites where the provider makes its calls.
func TestDeployerPolicy(t *testing.T) {
	doc, err := DeployerPolicy(PolicyScope{Name: "tollgate-dev", Region: "eu-west-1", Account: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Version   string
		Statement []struct {
			Sid, Effect string
			Action      []string
			Resource    []string
			Condition   map[string]map[string]any
		}
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	size := len(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, string(doc)))
	if p.Version != "2012-10-17" || size > 6144 {
		t.Errorf("version %q, %d characters", p.Version, size)
	}
	t.Logf("%d statements, %d characters without whitespace", len(p.Statement), size)
	action := regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z]+$|^apigateway:(GET|POST|PUT|PATCH|DELETE)$`)
	sids := map[string]bool{}
	granted := map[string]bool{}
	for _, s := range p.Statement {
		if !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(s.Sid) || sids[s.Sid] || s.Effect != "Allow" {
			t.Errorf("statement %q: sid repeated or not alphanumeric, or effect %q", s.Sid, s.Effect)
		}
		sids[s.Sid] = true
		for _, a := range s.Action {
			if !action.MatchString(a) {
				t.Errorf("%s: action %q", s.Sid, a)
			}
			granted[a] = true
		}
		for _, r := range s.Resource {
			if strings.Contains(r, "${") {
				t.Errorf("%s: resource %q not filled in", s.Sid, r)
			}
			// Only what AWS cannot scope is granted on every resource.
			// (iam:ListRoles and cloudwatch:DescribeInsightRules have no
			// resource type: the service authorization reference.)
			if r == "*" && !strings.HasPrefix(s.Action[0], "logs:") && s.Action[0] != "iam:ListRoles" && s.Action[0] != "cloudwatch:DescribeInsightRules" {
				t.Errorf("%s: %v on every resource", s.Sid, s.Action)
			}
			if strings.HasPrefix(r, "arn:aws:lambda:") || strings.HasPrefix(r, "arn:aws:secretsmanager:") {
				if !strings.HasSuffix(r, ":tollgate-dev-*") {
					t.Errorf("%s: resource %q is not the stack's", s.Sid, r)
				}
			}
		}
	}
	for key, n := range DeployerNeeds {
		if n.Source == "" {
			t.Errorf("%s: no source", key)
		}
		for _, a := range n.Actions {
			if !granted[a] {
				t.Errorf("%s: %s not granted", key, a)
			}
		}
	}
	// What the issue names: the role lookup in preview, passing roles,
	// HTTP access log delivery.
	for _, a := range []string{"iam:ListRoles", "iam:PassRole", "logs:CreateLogDelivery", "logs:PutResourcePolicy"} {
		if !granted[a] {
			t.Errorf("%s not granted", a)
		}
	}
}

func TestDeployerPolicyRefusesBadNames(t *testing.T) {
	for _, name := range []string{"", "a b", "tollgate-dev*", strings.Repeat("a", 51)} {
		if _, err := DeployerPolicy(PolicyScope{Name: name}); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
}

func ExampleDeployerPolicy() {
	doc, err := DeployerPolicy(PolicyScope{Name: "tollgate-dev", Region: "us-east-1", Account: "123456789012"})
	if err != nil {
		panic(err)
	}
	var p struct{ Statement []struct{ Sid string } }
	if err := json.Unmarshal(doc, &p); err != nil {
		panic(err)
	}
	fmt.Println(p.Statement[0].Sid, len(p.Statement) > 10)
	// Output: AwsApigatewayAccountAccount true
}
