package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tollgate/authorizer"
)

// Issue 32: tollkeys new took client after client past what one secret
// holds (800 clients made a 97,511-byte keyring), and AWS refused it only
// at the put. The keyring is checked against the secret's 65,536 bytes
// wherever tollkeys writes it: the client that would not fit is refused,
// with how many do, and the file and the other keys are left as they were.
func TestNewStopsAtTheSecretsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	var last []byte
	n := 0
	for ; n < 2000; n++ {
		var out, errOut bytes.Buffer
		code := run([]string{"new", "-id", fmt.Sprintf("client-%04d", n), path}, nil, &out, &errOut, time.Now)
		if code != 0 {
			msg := errOut.String()
			if !strings.Contains(msg, "65536 bytes a Secrets Manager secret holds") || !strings.Contains(msg, "fit") || strings.Contains(msg, "tgk_") {
				t.Errorf("client %d refused with %q", n, msg)
			}
			break
		}
		if last, _ = os.ReadFile(path); len(last) > authorizer.MaxKeyringBytes {
			t.Fatalf("client %d: the keyring is %d bytes, past the secret's %d", n, len(last), authorizer.MaxKeyringBytes)
		}
	}
	if n < 500 || n == 2000 {
		t.Fatalf("%d clients fit", n)
	}
	now, _ := os.ReadFile(path)
	if !bytes.Equal(now, last) {
		t.Error("the refused new changed the file")
	}
	t.Logf("%d clients fit in one secret (each a digest and an id of 11 characters)", n)
	var kr authorizer.Keyring
	if err := json.Unmarshal(now, &kr); err != nil || len(kr.Keys) != n {
		t.Errorf("%d keys kept (%v), want %d", len(kr.Keys), err, n)
	}
	// check says how much of the secret a keyring uses, and refuses one
	// past it.
	var out, errOut bytes.Buffer
	if code := run([]string{"check", path}, nil, &out, &errOut, time.Now); code != 0 || !strings.Contains(out.String(), fmt.Sprintf("%d clients, valid, %d of the secret's 65536 bytes", n, len(now))) {
		t.Errorf("check: %d %s %s", code, out.String(), errOut.String())
	}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, append(bytes.TrimSuffix(now, []byte("]}\n")), []byte(`,{"id":"one-too-many-with-a-long-name-to-pass-the-bound","sha256":"`+strings.Repeat("ab", 32)+`"}]}`)...), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"check", big}, nil, &out, &errOut, time.Now); code != 1 || !strings.Contains(errOut.String(), "secret holds") {
		t.Errorf("check of a keyring past the bound: %d %s %s", code, out.String(), errOut.String())
	}
	if !errors.Is(authorizer.CheckKeyringSize(authorizer.MaxKeyringBytes+1, 1), authorizer.ErrKeyringTooLarge) || authorizer.CheckKeyringSize(authorizer.MaxKeyringBytes, 1) != nil {
		t.Error("the bound is not 65,536 bytes")
	}
}
