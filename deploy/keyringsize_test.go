package deploy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"tollgate/authorizer"
)

// Issue 32: a stack with more clients than one secret holds was refused by
// AWS only at the put, after the functions and roles were created. The
// keyring the deploy would store is measured, with its usage keys, before
// anything is created.
func TestKeyringPastTheSecretCreatesNothing(t *testing.T) {
	clients := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("client-%04d", i))
		}
		return out
	}
	args := testArgs(t)
	args.Clients = clients(800)
	m, _, err := run(t, args)
	if !errors.Is(err, ErrConfig) || !errors.Is(err, authorizer.ErrKeyringTooLarge) || !strings.Contains(err.Error(), "800 clients") {
		t.Fatalf("800 clients: %v", err)
	}
	if len(m.Resources) != 0 {
		t.Errorf("%d resources created", len(m.Resources))
	}
	args.Clients = clients(500)
	if err := args.Validate(); err != nil {
		t.Errorf("500 clients: %v", err)
	}
}
