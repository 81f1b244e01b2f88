package main

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"tollgate/authorizer"
)

// The package doc's table is where the function's variables are
// described: every one the authorizer reads has its row, and no other.
func TestEnvTable(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, m := range regexp.MustCompile(`(?m)^//\t(TOLLGATE_[A-Z_]+) `).FindAllStringSubmatch(string(src), -1) {
		rows = append(rows, m[1])
	}
	want := []string{authorizer.EnvSecretID, authorizer.EnvTokenHeader, authorizer.EnvTokenScheme,
		authorizer.EnvKeyTTL, authorizer.EnvKeyMaxStale, authorizer.EnvFetchTimeout, authorizer.EnvLogLevel, authorizer.EnvMetrics, authorizer.EnvKeyTable, authorizer.EnvNegativeTTL, authorizer.EnvJWT, authorizer.EnvTLSRoots}
	if !slices.Equal(rows, want) {
		t.Errorf("the table's rows are %q, want %q", rows, want)
	}
}
