// Package localaws is the AWS identity the local run pretends to have:
// the Region and account that appear in its ARNs (method ARNs, function
// ARNs, the local secret's ARN) when no other is given. One home, so the
// local gateway, its Lambda functions and its Secrets Manager agree.
package localaws

const (
	// Region is the default Region of the local run.
	Region = "us-east-1"
	// AccountID is the account of every local ARN: AWS's documentation
	// example account, which is no real one.
	AccountID = "123456789012"
)
