package deploy

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// usageKeyLength is the length of generated API Gateway API key values.
const usageKeyLength = 40

// keyring creates the clients' keys, the usage keys when there is a usage
// plan, and the secret holding the keyring.
//
// Rotation: the random keys keep Rotation, so changing it generates new
// ones and a new secret version. Putting a version moves AWSCURRENT to it
// and AWSPREVIOUS to the version before. The version resource is retained
// on delete: when it is replaced, deleting the old one would strip its
// AWSPREVIOUS label (the provider removes every label but AWSCURRENT), and
// the old keys would stop working at once. Destroying the secret deletes
// every version.
func (d *deployer) keyring() error {
	d.keys = pulumi.StringMap{}
	d.usageKeys = map[string]pulumi.StringOutput{}
	for _, c := range d.args.Clients {
		if k, ok := d.args.Keys[c]; ok {
			d.keys[c] = pulumi.ToSecret(pulumi.String(k)).(pulumi.StringOutput)
			continue
		}
		pw, err := random.NewRandomPassword(d.ctx, d.child("key-"+c), &random.RandomPasswordArgs{
			Length:  pulumi.Int(d.args.KeyLength),
			Special: pulumi.Bool(false),
			Keepers: pulumi.StringMap{"rotation": pulumi.String(itoa(d.args.Rotation))},
		}, d.parent)
		if err != nil {
			return err
		}
		d.keys[c] = pw.Result
	}
	usageKeys := pulumi.StringMap{}
	if d.args.UsagePlan != nil {
		// Usage keys do not rotate: a key kept as AWSPREVIOUS must still
		// name an API key that exists.
		for _, c := range d.args.Clients {
			pw, err := random.NewRandomPassword(d.ctx, d.child("usage-key-"+c), &random.RandomPasswordArgs{
				Length:  pulumi.Int(usageKeyLength),
				Special: pulumi.Bool(false),
			}, d.parent)
			if err != nil {
				return err
			}
			d.usageKeys[c] = pw.Result
			usageKeys[c] = pw.Result
		}
	}

	keyring := pulumi.ToSecret(pulumi.All(d.keys, usageKeys).ApplyT(func(vs []any) (string, error) {
		keys, usage := vs[0].(map[string]string), vs[1].(map[string]string)
		kr := d.args.keyring(func(c string) string { return keys[c] }, func(c string) string { return usage[c] })
		if err := kr.Validate(); err != nil {
			return "", err
		}
		b, err := json.Marshal(kr)
		return string(b), err
	})).(pulumi.StringOutput)

	secretArgs := &secretsmanager.SecretArgs{
		Description:          pulumi.Sprintf("tollgate %s: the authorizer's keyring", d.name),
		RecoveryWindowInDays: pulumi.Int(d.args.RecoveryWindowInDays),
	}
	if d.args.KMSKeyARN != "" {
		secretArgs.KmsKeyId = pulumi.String(d.args.KMSKeyARN)
	}
	secret, err := secretsmanager.NewSecret(d.ctx, d.child("keyring"), secretArgs, d.parent)
	if err != nil {
		return err
	}
	_, err = secretsmanager.NewSecretVersion(d.ctx, d.child("keyring"), &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID().ToStringOutput(),
		SecretString: keyring,
	}, d.parent, pulumi.RetainOnDelete(true))
	if err != nil {
		return err
	}
	d.api.Secret = secret
	return nil
}
