package localsm

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"tollgate/authorizer"
)

// bigKeyring is a valid keyring of n digest entries.
func bigKeyring(n int) string {
	var keys []string
	for i := range n {
		keys = append(keys, fmt.Sprintf(`{"id":"client-%04d","sha256":"%s"}`, i, authorizer.Digest(fmt.Sprint("key-", i))))
	}
	return `{"keys":[` + strings.Join(keys, ",") + `]}`
}

// Issue 32: the local run served a keyring no secret can hold; AWS would
// refuse it. The local secret refuses it as AWS refuses the put: at start
// with an error, and an edit past the bound keeps the last version.
func TestKeyringPastTheSecretIsRefused(t *testing.T) {
	big := bigKeyring(800)
	if len(big) <= authorizer.MaxKeyringBytes {
		t.Fatalf("the planted keyring is %d bytes", len(big))
	}
	path := filepath.Join(t.TempDir(), "keyring.json")
	write(t, path, big)
	if _, err := Open("x", path, "us-east-1", "123456789012", nil); err == nil || !strings.Contains(err.Error(), "secret holds") {
		t.Fatalf("Open of %d bytes: %v", len(big), err)
	}

	_, path, c := serve(t, keyringA)
	write(t, path, big)
	wantValue(t, c, "tollgate/dev/keyring", "AWSCURRENT", keyringA)
	fits := bigKeyring(500)
	write(t, path, fits)
	wantValue(t, c, "tollgate/dev/keyring", "AWSCURRENT", fits)
}
