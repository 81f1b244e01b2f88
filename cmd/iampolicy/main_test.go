package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: shop\nruntime: go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args    []string
		want    string // in the output
		wantErr string
	}{
		{args: []string{"-stack", "prod", "-account", "123456789012", "-region", "eu-west-1"}, want: "arn:aws:lambda:eu-west-1:123456789012:function:shop-prod-*"},
		{args: nil, want: "arn:aws:lambda:*:*:function:shop-dev-*"},
		{args: []string{"-project", "other"}, want: "function:other-dev-*"},
		{args: []string{"-partition", "aws-cn"}, want: "arn:aws-cn:iam::*:role/shop-dev-*"},
		{args: []string{"-account", "12345"}, wantErr: "want 12 digits"},
		{args: []string{"-stack", "a b"}, wantErr: `name "shop-a b"`},
		{args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
		{args: []string{"-nope"}, wantErr: "flag provided but not defined"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := run(c.args, &out, dir)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		if !json.Valid(out.Bytes()) || !strings.Contains(out.String(), c.want) {
			t.Errorf("%v: output lacks %q:\n%s", c.args, c.want, out.String())
		}
	}
	if err := run(nil, &bytes.Buffer{}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "-project") {
		t.Errorf("without Pulumi.yaml: %v", err)
	}
}
