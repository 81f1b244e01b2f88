package deploy

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/authorizer"
)

// generatedKey creates client c's two key slots (see keyring) and returns
// its current key (a secret), that key's digest, and the digest of the key
// it replaced (nil before the first rotation).
func (d *deployer) generatedKey(c string) (key, current pulumi.StringOutput, previous *pulumi.StringOutput, err error) {
	g := d.args.generation(c)
	var slots [2]pulumi.StringOutput
	for s := range 2 {
		last := g - (g-s+2)%2 // the last generation ≤ g of parity s
		if last < 0 {
			continue // slot b before the first rotation
		}
		name := d.child("key-" + c)
		if s == 1 {
			name += "-b"
		}
		pw, err := random.NewRandomPassword(d.ctx, name, &random.RandomPasswordArgs{
			// 32 letters and digits: the random part of a tollgate
			// key (authorizer.KeyFromRandom).
			Length:  pulumi.Int(32),
			Special: pulumi.Bool(false),
			Keepers: pulumi.StringMap{"rotation": pulumi.String(itoa(last))},
		}, d.parent)
		if err != nil {
			return key, current, nil, err
		}
		slots[s] = pw.Result.ApplyT(func(random string) (string, error) {
			k, ok := authorizer.KeyFromRandom(random)
			if !ok {
				return "", fmt.Errorf("client %q: the random password is not 32 letters and digits", c)
			}
			return k, nil
		}).(pulumi.StringOutput)
	}
	key = pulumi.ToSecret(slots[g%2]).(pulumi.StringOutput)
	if g >= 1 {
		p := digestOf(slots[1-g%2])
		previous = &p
	}
	return key, digestOf(slots[g%2]), previous, nil
}

// digestOf is what the keyring stores for a generated key: its digest,
// which is no secret.
func digestOf(key pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.Unsecret(key.ApplyT(authorizer.Digest)).(pulumi.StringOutput)
}

// keyOutputs are the digests of the clients' keys, current and previous,
// and their usage keys, by client (keyMaterial once known).
type keyOutputs struct {
	current, previous, usage pulumi.StringMap
}

// keyMaterial creates the clients' generated keys (d.keys) and, with a
// usage plan, their usage keys.
func (d *deployer) keyMaterial() (keyOutputs, error) {
	d.keys = pulumi.StringMap{}
	d.usageKeys = map[string]pulumi.StringOutput{}
	m := keyOutputs{current: pulumi.StringMap{}, previous: pulumi.StringMap{}, usage: pulumi.StringMap{}}
	for _, c := range d.args.Clients {
		if d.args.KeyDigests[c] != "" {
			continue
		}
		key, cur, prev, err := d.generatedKey(c)
		if err != nil {
			return m, err
		}
		d.keys[c], m.current[c] = key, cur
		if prev != nil {
			m.previous[c] = *prev
		}
	}
	if !d.args.Plans.Empty() {
		// Usage keys do not rotate: they name the client on the usage
		// plan, not its key.
		for _, c := range d.args.Clients {
			pw, err := random.NewRandomPassword(d.ctx, d.child("usage-key-"+c), &random.RandomPasswordArgs{
				Length:  pulumi.Int(usageKeyLength),
				Special: pulumi.Bool(false),
			}, d.parent)
			if err != nil {
				return m, err
			}
			d.usageKeys[c] = pw.Result
			m.usage[c] = pw.Result
		}
	}
	return m, nil
}

// usageKeyLength is the length of generated API Gateway API key values.
const usageKeyLength = 40

// keyring creates the clients' keys, the usage keys when there is a usage
// plan, and the secret holding the keyring: SHA-256 digests only, so that
// a reader of the secret cannot call the API. Generated keys are the
// APIKeys output (a secret); supplied ones are digests from the start.
//
// Rotation: each client with a generated key has two random passwords,
// slots a (key-CLIENT) and b (key-CLIENT-b). Its generation g (Rotation
// plus its Rotations N) picks slot g%2 as the current key; each slot keeps
// the last generation of its parity, so a rotation replaces only the slot
// that becomes current, and the other one still holds the key it replaced,
// listed as the client's previous key until PreviousUntil. Only AWSCURRENT
// is read, so the version resource needs no retention: the grace is in the
// keyring.
func (d *deployer) keyring() error {
	m, err := d.keyMaterial()
	if err != nil {
		return err
	}
	if d.args.KeyStore == TableStore {
		return d.keyTable(m)
	}
	current, previous, usageKeys := m.current, m.previous, m.usage
	keyring := pulumi.ToSecret(pulumi.All(current, previous, usageKeys).ApplyT(func(vs []any) (string, error) {
		kr := d.args.keyring(keyMaterial{
			current: vs[0].(map[string]string), previous: vs[1].(map[string]string), usage: vs[2].(map[string]string),
		})
		if err := kr.Validate(); err != nil {
			return "", err
		}
		b, err := json.Marshal(kr)
		if err == nil {
			err = authorizer.CheckKeyringSize(len(b), len(kr.Keys))
		}
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
	d.keyringVersion, err = secretsmanager.NewSecretVersion(d.ctx, d.child("keyring"), &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID().ToStringOutput(),
		SecretString: keyring,
	}, d.parent)
	if err != nil {
		return err
	}
	d.api.Secret = secret
	return nil
}
