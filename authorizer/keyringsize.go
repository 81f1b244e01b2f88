package authorizer

import (
	"errors"
	"fmt"
)

// MaxKeyringBytes is the most a keyring document may be: a Secrets Manager
// secret's value holds at most 65,536 bytes
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html:
// SecretString, length 65,536 at most; https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
// AWS refuses a larger one only when it is put, so tollgate checks it
// wherever a keyring is written: tollkeys, the deploy, the local run.
const MaxKeyringBytes = 65536

// ErrKeyringTooLarge is wrapped by CheckKeyringSize's error.
var ErrKeyringTooLarge = errors.New("keyring too large for one secret")

// CheckKeyringSize refuses a keyring document of size bytes, holding
// clients keys, that one secret cannot hold, saying how many clients of
// its average size fit. The message holds no key.
func CheckKeyringSize(size, clients int) error {
	if size <= MaxKeyringBytes {
		return nil
	}
	per := size / max(clients, 1)
	return fmt.Errorf("%w: %d clients make %d bytes, past the %d bytes a Secrets Manager secret holds (AWS would refuse it): "+
		"at about %d bytes a client, some %d fit; remove clients you no longer serve (tollkeys last-used finds them), "+
		"routes they do not need, or rotated keys whose grace can end; or keep the keys in a DynamoDB key table, "+
		"which holds any number (keyStore: dynamodb; tollkeys import moves a keyring there: docs/keys.md, Which key store)",
		ErrKeyringTooLarge, clients, size, MaxKeyringBytes, per, MaxKeyringBytes/max(per, 1))
}
