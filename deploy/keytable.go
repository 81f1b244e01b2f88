package deploy

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/authorizer"
	"tollgate/internal/keytable"
)

// KeyTableName is the name of stack's key table (keyStore: dynamodb): set,
// not autonamed, so that tollkeys can be pointed at it
// (dynamodb:NAME-keys) and so that the table is never replaced by a new
// random suffix. DynamoDB's table names are 3 to 255 of [A-Za-z0-9_.-]
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html:
// TableName), which every stack name CheckName allows fits.
func KeyTableName(stack string) string { return stack + "-keys" }

// keyTable creates the key table and an item for each key of the stack's
// own clients (tollgate:clients), in place of the secret: the authorizer
// looks keys up in it (authorizer.KeyTable, one GetItem per key it has not
// cached) and tollkeys adds the rest (dynamodb:TABLE).
//
// The table (sdk dynamodb/table.go, and tf internal/service/dynamodb/table.go
// for what replaces it: name, hash_key and range_key are ForceNew, which
// tollgate never changes):
//   - on-demand capacity (billingMode PAY_PER_REQUEST; the provider's
//     default is PROVISIONED): paid per request, nothing when idle;
//   - the key's digest as partition key, and the index by-id on the
//     client id, which tollkeys queries (internal/keytable);
//   - encrypted at rest with a KMS key (serverSideEncryption enabled: the
//     AWS managed key alias/aws/dynamodb, or kmsKeyArn's);
//   - point-in-time recovery (35 days by default), so that a key removed
//     by mistake can be restored;
//   - deletion protection, unless keyTableDeletionProtection is false:
//     with it, DynamoDB refuses DeleteTable
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection),
//     so pulumi destroy fails at the table and keeps every key. docs/keys.md
//     says how to remove it.
//
// A client's items follow its key slots (keyring): slot a's key is item
// key-item-CLIENT, slot b's key-item-CLIENT-b, each the client's current
// key or, within its grace, its previous one. A rotation so creates the
// new slot's item and updates the other one in place (its digest stays,
// a grace is added), and no item ever changes from one key to another
// while the key it held is still in use: tf
// internal/service/dynamodb/table_item.go updates an item whose key
// changed by writing the new one and deleting the old.
func (d *deployer) keyTable(m keyOutputs) error {
	args := &dynamodb.TableArgs{
		Name:        pulumi.String(KeyTableName(d.name)),
		BillingMode: pulumi.String("PAY_PER_REQUEST"),
		HashKey:     pulumi.String(keytable.HashKey),
		Attributes: dynamodb.TableAttributeArray{
			dynamodb.TableAttributeArgs{Name: pulumi.String(keytable.HashKey), Type: pulumi.String("S")},
			dynamodb.TableAttributeArgs{Name: pulumi.String(keytable.IDAttr), Type: pulumi.String("S")},
		},
		GlobalSecondaryIndexes: dynamodb.TableGlobalSecondaryIndexArray{dynamodb.TableGlobalSecondaryIndexArgs{
			Name: pulumi.String(keytable.IDIndex), HashKey: pulumi.String(keytable.IDAttr), ProjectionType: pulumi.String("ALL"),
		}},
		ServerSideEncryption:      &dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
		PointInTimeRecovery:       &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		DeletionProtectionEnabled: pulumi.Bool(!d.args.KeyTableUnprotected),
	}
	if k := d.args.KMSKeyARN; k != "" {
		args.ServerSideEncryption = &dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true), KmsKeyArn: pulumi.String(k)}
	}
	table, err := dynamodb.NewTable(d.ctx, d.child("keys"), args, d.parent)
	if err != nil {
		return err
	}
	d.api.KeyTable = table

	// Every item, by resource name, as DynamoDB JSON: known once the
	// generated keys are.
	stack := d.ctx.Stack()
	items := pulumi.ToSecret(pulumi.All(m.current, m.previous, m.usage).ApplyT(func(vs []any) (map[string]string, error) {
		kr := d.args.keyring(keyMaterial{
			current: vs[0].(map[string]string), previous: vs[1].(map[string]string), usage: vs[2].(map[string]string),
		})
		all, err := authorizer.KeyItems(kr)
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, it := range all {
			it.Stack = stack
			b, err := json.Marshal(it.Item())
			if err != nil {
				return nil, err
			}
			out[d.itemName(it.ID, !it.Until.IsZero())] = string(b)
		}
		return out, nil
	})).(pulumi.StringMapOutput)

	for _, c := range d.args.Clients {
		names := []string{d.itemName(c, false)}
		if d.hasPrevious(c) {
			names = append(names, d.itemName(c, true))
		}
		for _, name := range names {
			item, err := dynamodb.NewTableItem(d.ctx, name, &dynamodb.TableItemArgs{
				TableName: table.Name,
				HashKey:   pulumi.String(keytable.HashKey),
				Item: items.ApplyT(func(m map[string]string) (string, error) {
					it, ok := m[name]
					if !ok {
						return "", fmt.Errorf("no item %s in the keyring", name)
					}
					return it, nil
				}).(pulumi.StringOutput),
			}, d.parent)
			if err != nil {
				return err
			}
			d.keyItems = append(d.keyItems, item)
		}
	}
	return nil
}

// hasPrevious says whether client c's keyring entry lists a previous key
// (Args.keyring): a generated key rotated at least once, with a grace.
func (d *deployer) hasPrevious(c string) bool {
	return d.args.KeyDigests[c] == "" && d.args.generation(c) >= 1 && !d.args.Rotations[c].PreviousUntil.IsZero()
}

// itemName is the resource of client c's current or previous key: the
// item of the key slot that holds it (generatedKey).
func (d *deployer) itemName(c string, previous bool) string {
	slot := 0
	if d.args.KeyDigests[c] == "" {
		slot = d.args.generation(c) % 2
		if previous {
			slot = 1 - slot
		}
	}
	if slot == 1 {
		return d.child("key-item-" + c + "-b")
	}
	return d.child("key-item-" + c)
}

// keyStoreARN is the ARN of where the authorizer reads keys.
func (d *deployer) keyStoreARN() pulumi.StringOutput {
	if d.api.KeyTable != nil {
		return d.api.KeyTable.Arn
	}
	return d.api.Secret.Arn
}

// keyStoreRead is what the authorizer's role may do with the key store
// at arn: GetSecretValue on the secret, or GetItem on the table (not its
// index, nor any other call: no Scan can list the keys); with a customer
// managed key, decrypt through that service only. DynamoDB reads a table
// encrypted with a customer managed key on the caller's behalf, which
// the caller must be allowed (kms:Decrypt and kms:DescribeKey with
// kms:ViaService dynamodb.REGION…:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html).
func (d *deployer) keyStoreRead(arn string) []Statement {
	read := Statement{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{arn}}
	service, extra := "secretsmanager", []string(nil)
	if d.args.KeyStore == TableStore {
		read.Action = []string{"dynamodb:GetItem"}
		service, extra = "dynamodb", []string{"kms:DescribeKey"}
	}
	out := []Statement{read}
	if k := d.args.KMSKeyARN; k != "" {
		out = append(out, kmsDecrypt(k, service, extra...))
	}
	return out
}

// keyStoreWritten are the resources the authorizer's configuration waits
// for: its warm instances are replaced only once the keys they will read
// are in place.
func (d *deployer) keyStoreWritten() []pulumi.Resource {
	if d.args.KeyStore == TableStore {
		out := []pulumi.Resource{d.api.KeyTable}
		for _, it := range d.keyItems {
			out = append(out, it)
		}
		return out
	}
	return []pulumi.Resource{d.keyringVersion}
}
