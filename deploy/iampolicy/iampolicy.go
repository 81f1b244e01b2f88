package iampolicy

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// AccountLogsRoleName is the IAM role API Gateway's account setting gets to
// write CloudWatch logs with, when the account has none of that name: one
// role for the whole account (IAM is global), shared by every tollgate
// stack in every Region.
const AccountLogsRoleName = "tollgate-apigateway-cloudwatch-logs"

// stackName is a stack's name prefix, as deploy.CheckName allows it.
var stackName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,50}$`)

// DeployerNeeds holds, for every resource type and function the program
// registers or invokes, the AWS API actions the provider calls for it,
// read from the provider's sources: each entry cites the file under
// hashicorp/terraform-provider-aws that makes the calls (pulumi-aws bridges
// those resources). DeployerPolicy turns them into one IAM policy, with
// every resource that has a name known before it exists limited to this
// stack's names. TestDeployerPolicyCoversThePlans checks that every type
// in the dev stack's plans (REST, HTTP, with a usage plan) has its entry
// here, and that no entry is for a type the program never registers.

// Need is what the deploying identity needs for one resource type.
type Need struct {
	// Actions are IAM actions, "service:Action".
	Actions []string
	// Resources are the ARNs they apply to, with ${Partition}, ${Region},
	// ${Account} and ${Name} (the stack's name prefix) to fill in.
	Resources []string
	// Condition, when set, limits the statement (an IAM condition block).
	Condition map[string]map[string]any
	// Source is where the provider makes the calls.
	Source string
}

const (
	lambdaARN = "arn:${Partition}:lambda:${Region}:${Account}:function:${Name}-*"
	roleARN   = "arn:${Partition}:iam::${Account}:role/${Name}-*"
	logsRole  = "arn:${Partition}:iam::${Account}:role/" + AccountLogsRoleName
	secretARN = "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${Name}-*"
	tfSource  = "hashicorp/terraform-provider-aws internal/service/"
	// deploy.KeyTableName.
	keyTableARN = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${Name}-keys"
)

// API Gateway's control plane authorizes by HTTP method and resource path
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-create-and-manage-api.html):
// apigateway:GET, POST, PUT, PATCH, DELETE on arn:...:apigateway:REGION::/path.
var apigatewayVerbs = []string{"apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"}

func apigatewayPaths(paths ...string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, "arn:${Partition}:apigateway:${Region}::"+p)
	}
	// Default tags (the tags setting) are written through /tags/{arn}.
	return append(out, "arn:${Partition}:apigateway:${Region}::/tags/*")
}

// DeployerNeeds are the deploying identity's needs by Pulumi type token
// (resources) or function token (invokes).
var DeployerNeeds = map[string]Need{
	"aws:apigateway/restApi:RestApi": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/restapis", "/restapis/*"),
		Source: tfSource + "apigateway/rest_api.go (ImportRestApi, PutRestApi, GetRestApi, UpdateRestApi, DeleteRestApi)"},
	"aws:apigateway/deployment:Deployment": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/restapis/*"),
		Source: tfSource + "apigateway/deployment.go (CreateDeployment, GetDeployment, GetStages, DeleteDeployment)"},
	"aws:apigateway/stage:Stage": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/restapis/*"),
		Source: tfSource + "apigateway/stage.go (CreateStage, GetStage, UpdateStage, DeleteStage)"},
	"aws:apigateway/methodSettings:MethodSettings": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/restapis/*"),
		Source: tfSource + "apigateway/method_settings.go (UpdateStage with patch operations, GetStage)"},
	"aws:apigateway/account:Account": {Actions: []string{"apigateway:GET", "apigateway:PATCH"}, Resources: apigatewayPaths("/account"),
		Source: tfSource + "apigateway/account.go (GetAccount, UpdateAccount; the role is passed: iam:PassRole below)"},
	"aws:apigateway/usagePlan:UsagePlan": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/usageplans", "/usageplans/*"),
		Source: tfSource + "apigateway/usage_plan.go (CreateUsagePlan, GetUsagePlan, UpdateUsagePlan, DeleteUsagePlan)"},
	"aws:apigateway/apiKey:ApiKey": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/apikeys", "/apikeys/*"),
		Source: tfSource + "apigateway/api_key.go (CreateApiKey, GetApiKey with includeValue, UpdateApiKey, DeleteApiKey)"},
	"aws:apigateway/usagePlanKey:UsagePlanKey": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/usageplans/*"),
		Source: tfSource + "apigateway/usage_plan_key.go (CreateUsagePlanKey, GetUsagePlanKey, DeleteUsagePlanKey)"},
	"aws:apigatewayv2/api:Api": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/apis", "/apis/*"),
		Source: tfSource + "apigatewayv2/api.go (CreateApi, ReimportApi, GetApi, UpdateApi, DeleteApi)"},
	"aws:apigatewayv2/stage:Stage": {Actions: apigatewayVerbs, Resources: apigatewayPaths("/apis/*"),
		Source: tfSource + "apigatewayv2/stage.go (CreateStage, GetStage, UpdateStage, DeleteStage)"},
	// An HTTP API's access log is delivered by CloudWatch Logs, which
	// needs these of the caller that sets it, on no narrower resource
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html,
	// "Permissions to Enable Logging").
	"aws:apigatewayv2/stage:Stage#logging": {Actions: []string{
		"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeResourcePolicies", "logs:GetLogDelivery",
		"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery"},
		Resources: []string{"*"},
		Source:    "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html"},
	"aws:lambda/function:Function": {Actions: []string{
		"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:DeleteFunctionConcurrency", "lambda:GetFunction",
		"lambda:GetFunctionCodeSigningConfig", "lambda:PutFunctionConcurrency",
		"lambda:ListTags", "lambda:ListVersionsByFunction", "lambda:TagResource", "lambda:UntagResource",
		"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"},
		Resources: []string{lambdaARN},
		Source:    tfSource + "lambda/function.go (CreateFunction, GetFunction, ListVersionsByFunction, GetFunctionCodeSigningConfig, UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction; PutFunctionConcurrency and DeleteFunctionConcurrency for the authorizerReservedConcurrency setting; tags.go)"},
	"aws:lambda/permission:Permission": {Actions: []string{"lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission"},
		Resources: []string{lambdaARN},
		Source:    tfSource + "lambda/permission.go (AddPermission, GetPolicy, RemovePermission)"},
	"aws:iam/role:Role": {Actions: []string{
		"iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
		"iam:ListRolePolicies", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription"},
		Resources: []string{roleARN, logsRole},
		Source:    tfSource + "iam/role.go (CreateRole, GetRole, UpdateRole, UpdateAssumeRolePolicy, TagRole; deleteRole lists instance profiles and policies first)"},
	"aws:iam/rolePolicy:RolePolicy": {Actions: []string{"iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:PutRolePolicy"},
		Resources: []string{roleARN},
		Source:    tfSource + "iam/role_policy.go (PutRolePolicy, GetRolePolicy, DeleteRolePolicy)"},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {Actions: []string{"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"},
		Resources: []string{logsRole},
		Condition: map[string]map[string]any{"ArnLike": {"iam:PolicyARN": "arn:${Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}},
		Source:    tfSource + "iam/role_policy_attachment.go (AttachRolePolicy, ListAttachedRolePolicies, DetachRolePolicy)"},
	// Each function's role is passed to Lambda, the account's logging role
	// to API Gateway
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
	"aws:iam/role:Role#pass": {Actions: []string{"iam:PassRole"},
		Resources: []string{roleARN, logsRole},
		Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": []any{"apigateway.amazonaws.com", "lambda.amazonaws.com"}}},
		Source:    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"},
	// The lookup of the account's logging role runs in preview too;
	// ListRoles has no resource-level permissions
	// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
	"aws:iam/getRoles:getRoles": {Actions: []string{"iam:ListRoles"}, Resources: []string{"*"},
		Source: tfSource + "iam/roles_data_source.go (ListRoles)"},
	"aws:cloudwatch/logGroup:LogGroup": {Actions: []string{
		"logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy", "logs:ListTagsForResource",
		"logs:PutRetentionPolicy", "logs:TagResource", "logs:UntagResource"},
		Resources: []string{
			"arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/lambda/${Name}-*",
			"arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/apigateway/${Name}/*"},
		Source: tfSource + "logs/group.go (CreateLogGroup, PutRetentionPolicy, DeleteLogGroup; tags by TagResource)"},
	// DescribeLogGroups is listed, not per group: it is granted on every
	// group of the account and Region
	// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html).
	"aws:cloudwatch/logGroup:LogGroup#describe": {Actions: []string{"logs:DescribeLogGroups"},
		Resources: []string{"arn:${Partition}:logs:${Region}:${Account}:log-group:*"},
		Source:    tfSource + "logs/group.go (findLogGroupByName: DescribeLogGroups)"},
	"aws:secretsmanager/secret:Secret": {Actions: []string{
		"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
		"secretsmanager:GetResourcePolicy", "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:UpdateSecret"},
		Resources: []string{secretARN},
		Source:    tfSource + "secretsmanager/secret.go (CreateSecret, DescribeSecret, GetResourcePolicy, UpdateSecret, DeleteSecret)"},
	"aws:secretsmanager/secretVersion:SecretVersion": {Actions: []string{
		"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds",
		"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"},
		Resources: []string{secretARN},
		Source:    tfSource + "secretsmanager/secret_version.go (PutSecretValue, GetSecretValue, UpdateSecretVersionStage on delete)"},
	// The key table (keyStore: dynamodb, deploy/keytable.go), named
	// ${Name}-keys: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html.
	"aws:dynamodb/table:Table": {Actions: []string{
		"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable",
		"dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
		"dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable"},
		Resources: []string{keyTableARN},
		Source:    tfSource + "dynamodb/table.go (CreateTable, DescribeTable, UpdateTable for deletion protection, UpdateContinuousBackups and DescribeContinuousBackups for point-in-time recovery, DescribeTimeToLive, tags, DeleteTable)"},
	"aws:dynamodb/tableItem:TableItem": {Actions: []string{
		"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
		Resources: []string{keyTableARN},
		Source:    tfSource + "dynamodb/table_item.go (PutItem, GetItem, UpdateItem, DeleteItem)"},
	// Monitoring (deploy/monitoring.go). Resource types and condition
	// keys: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html,
	// list_amazoncloudwatch.html and list_amazoncloudwatchlogs.html.
	"aws:sns/topic:Topic": {Actions: []string{
		"sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListTagsForResource",
		"sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"},
		Resources: []string{"arn:${Partition}:sns:${Region}:${Account}:${Name}-*"},
		Source:    tfSource + "sns/topic.go (CreateTopic, GetTopicAttributes, SetTopicAttributes, DeleteTopic)"},
	"aws:sns/topicSubscription:TopicSubscription": {Actions: []string{
		"sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Subscribe", "sns:Unsubscribe"},
		Resources: []string{"arn:${Partition}:sns:${Region}:${Account}:${Name}-*"},
		Source:    tfSource + "sns/topic_subscription.go (Subscribe, GetSubscriptionAttributes, SetSubscriptionAttributes, Unsubscribe)"},
	"aws:cloudwatch/dashboard:Dashboard": {Actions: []string{
		"cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard"},
		Resources: []string{"arn:${Partition}:cloudwatch::${Account}:dashboard/${Name}"},
		Source:    tfSource + "cloudwatch/dashboard.go (PutDashboard, GetDashboard, DeleteDashboards)"},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {Actions: []string{
		"cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
		"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"},
		Resources: []string{"arn:${Partition}:cloudwatch:${Region}:${Account}:alarm:${Name}-*"},
		Source:    tfSource + "cloudwatch/metric_alarm.go (DescribeAlarms, PutMetricAlarm, DeleteAlarms)"},
	"aws:cloudwatch/contributorInsightRule:ContributorInsightRule": {Actions: []string{
		"cloudwatch:DeleteInsightRules", "cloudwatch:ListTagsForResource", "cloudwatch:PutInsightRule",
		"cloudwatch:TagResource", "cloudwatch:UntagResource"},
		Resources: []string{"arn:${Partition}:cloudwatch:${Region}:${Account}:insight-rule/${Name}-*"},
		Source:    tfSource + "cloudwatch/contributor_insight_rule.go (PutInsightRule, DeleteInsightRules)"},
	// DescribeInsightRules lists every rule: it has no resource type.
	"aws:cloudwatch/contributorInsightRule:ContributorInsightRule#describe": {Actions: []string{"cloudwatch:DescribeInsightRules"},
		Resources: []string{"*"},
		Source:    tfSource + "cloudwatch/contributor_insight_rule.go (findContributorInsightRules: DescribeInsightRules)"},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": {Actions: []string{
		"logs:DeleteMetricFilter", "logs:DescribeMetricFilters", "logs:PutMetricFilter"},
		Resources: []string{"arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/apigateway/${Name}/*"},
		Source:    tfSource + "logs/metric_filter.go (PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter)"},
	// A saved query is no resource IAM can name.
	"aws:cloudwatch/queryDefinition:QueryDefinition": {Actions: []string{
		"logs:DeleteQueryDefinition", "logs:DescribeQueryDefinitions", "logs:PutQueryDefinition"},
		Resources: []string{"*"},
		Source:    tfSource + "logs/query_definition.go (PutQueryDefinition, DescribeQueryDefinitions, DeleteQueryDefinition)"},
	// The provider itself asks STS who it is; GetCallerIdentity needs no
	// permission (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
	"pulumi:providers:aws": {Source: "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"},
	// A stack reads its own last outputs from the Pulumi backend.
	"pulumi:pulumi:StackReference": {Source: "the Pulumi backend: no AWS call"},
	// The keys are generated by the random provider, in the process.
	"random:index/randomPassword:RandomPassword": {Source: "pulumi-random: no AWS call"},
}

// DeployerTypes are the type and function tokens DeployerNeeds covers.
func DeployerTypes() []string {
	seen := map[string]bool{}
	for k := range DeployerNeeds {
		t, _, _ := strings.Cut(k, "#")
		seen[t] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// PolicyScope fills in DeployerPolicy's ARNs. Empty fields become "*"
// (and "aws" for the partition).
type PolicyScope struct {
	// Name is the stack's name prefix: the project, '-', the stack
	// ("tollgate-dev"). Every function, role, log group and secret the
	// stack creates starts with it.
	Name                       string
	Partition, Region, Account string
}

// DeployerPolicy is an IAM policy document granting what DeployerNeeds
// lists, each resource limited to scope.
func DeployerPolicy(scope PolicyScope) ([]byte, error) {
	if !stackName.MatchString(scope.Name) {
		return nil, fmt.Errorf("name %q: want the stack's name prefix, such as tollgate-dev", scope.Name)
	}
	fill := strings.NewReplacer(
		"${Partition}", or(scope.Partition, "aws"), "${Region}", or(scope.Region, "*"),
		"${Account}", or(scope.Account, "*"), "${Name}", scope.Name)
	type statement struct {
		Sid       string                    `json:"Sid"`
		Effect    string                    `json:"Effect"`
		Action    []string                  `json:"Action"`
		Resource  []string                  `json:"Resource"`
		Condition map[string]map[string]any `json:"Condition,omitempty"`
	}
	var out []statement
	// Statements alike in actions and condition are one, with both
	// resource lists, so that the policy stays within IAM's 6,144
	// characters for a managed policy
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
	merged := map[string]int{}
	for _, key := range slices.Sorted(maps.Keys(DeployerNeeds)) {
		n := DeployerNeeds[key]
		if len(n.Actions) == 0 {
			continue
		}
		s := statement{Sid: sid(key), Effect: "Allow", Action: slices.Sorted(slices.Values(n.Actions))}
		if n.Condition != nil {
			raw, err := json.Marshal(n.Condition)
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal([]byte(fill.Replace(string(raw))), &s.Condition); err != nil {
				return nil, err
			}
		}
		same, err := json.Marshal([]any{s.Action, s.Condition})
		if err != nil {
			return nil, err
		}
		i, ok := merged[string(same)]
		if !ok {
			i = len(out)
			merged[string(same)] = i
			out = append(out, s)
		} else {
			service, _, _ := strings.Cut(key, "/")
			out[i].Sid = sid(service)
		}
		for _, r := range n.Resources {
			if r = fill.Replace(r); !slices.Contains(out[i].Resource, r) {
				out[i].Resource = append(out[i].Resource, r)
			}
		}
	}
	// Then statements alike in resources and condition are one, with
	// both action lists.
	var final []statement
	byResources := map[string]int{}
	for _, s := range out {
		same, err := json.Marshal([]any{s.Resource, s.Condition})
		if err != nil {
			return nil, err
		}
		if i, ok := byResources[string(same)]; ok {
			final[i].Action = slices.Compact(slices.Sorted(slices.Values(append(final[i].Action, s.Action...))))
			continue
		}
		byResources[string(same)] = len(final)
		final = append(final, s)
	}
	return json.MarshalIndent(struct {
		Version   string
		Statement []statement
	}{"2012-10-17", final}, "", "  ")
}

// sid is a statement id from a DeployerNeeds key: IAM allows letters and
// digits only.
func sid(key string) string {
	var b strings.Builder
	up := true
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z' && up:
			b.WriteRune(r - 'a' + 'A')
			up = false
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
