package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tollgate/authorizer"
)

// testNow is the wall clock: the authorizer that checks the keys reads it
// too, so the graces given here are real.
var testNow = time.Now().UTC().Truncate(time.Second)

// tollkeys runs the command and returns its exit status and output.
func tollkeys(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := run(args, strings.NewReader(stdin), &out, &errOut, func() time.Time { return testNow })
	return code, out.String(), errOut.String()
}

// decide asks an authorizer reading path's keyring about key.
func decide(t *testing.T, path, key string) error {
	t.Helper()
	a, err := authorizer.New(authorizer.Config{Source: authorizer.SourceFunc(func(context.Context, string) ([]byte, error) {
		return os.ReadFile(path)
	})})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Invoke(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"Bearer `+key+`","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/hello"}`))
	return err
}

func readKeyring(t *testing.T, path string) (authorizer.Keyring, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := authorizer.ParseKeyring(b)
	if err != nil {
		t.Fatalf("the file is not a valid keyring: %v", err)
	}
	return kr, string(b)
}

func TestLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	code, out, _ := tollkeys(t, "", "new", "-id", "reports", "-routes", "GET /customers, ANY /reports/*", path)
	key := strings.TrimSpace(out)
	if code != 0 || !authorizer.CheckKey(key) {
		t.Fatalf("new: exit %d, printed %q; want a tollgate key", code, out)
	}
	kr, text := readKeyring(t, path)
	if strings.Contains(text, key) || kr.Keys[0].SHA256 != authorizer.Digest(key) || len(kr.Keys[0].Routes) != 2 {
		t.Fatalf("new: the file holds %s", text)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	if err := decide(t, path, key); err != nil {
		t.Fatalf("the new key is refused: %v", err)
	}
	if code, _, _ := tollkeys(t, "", "new", "-id", "other", path); code != 0 {
		t.Fatal("a second client")
	}

	// Rotate with a grace: both keys work, the old one until the grace ends.
	code, out, _ = tollkeys(t, "", "rotate", "-id", "reports", "-grace", "24h", path)
	rotated := strings.TrimSpace(out)
	if code != 0 || !authorizer.CheckKey(rotated) || rotated == key {
		t.Fatalf("rotate: exit %d, %q", code, out)
	}
	kr, _ = readKeyring(t, path)
	p := kr.Keys[0].Previous
	if len(p) != 1 || p[0].SHA256 != authorizer.Digest(key) || !p[0].Until.Equal(testNow.Add(24*time.Hour)) || kr.Keys[1].Previous != nil {
		t.Fatalf("rotate: previous keys %+v", kr.Keys)
	}
	for _, k := range []string{key, rotated} {
		if err := decide(t, path, k); err != nil {
			t.Errorf("within the grace: %v", err)
		}
	}

	// Disable, enable, remove.
	for _, step := range []struct {
		cmd   string
		allow bool
	}{{"disable", false}, {"enable", true}, {"remove", false}} {
		if code, _, errOut := tollkeys(t, "", step.cmd, "-id", "reports", path); code != 0 {
			t.Fatalf("%s: %s", step.cmd, errOut)
		}
		if err := decide(t, path, rotated); (err == nil) != step.allow {
			t.Errorf("after %s: %v, want allowed %v", step.cmd, err, step.allow)
		}
	}
	if code, _, errOut := tollkeys(t, "", "remove", "-id", "other", path); code != 1 || !strings.Contains(errOut, "last client") {
		t.Errorf("removing the last client: exit %d, %s", code, errOut)
	}
}

func TestDigestMigratesPlainKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	const plain = "tg_legacy_plain_key_0123456789abcdefghijkl"
	if err := os.WriteFile(path, []byte(`{"keys":[{"id":"old","key":"`+plain+`"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := tollkeys(t, "", "check", path); code != 0 || !strings.Contains(out, "a plain key") || strings.Contains(out, plain) {
		t.Errorf("check: %d %q", code, out)
	}
	if code, out, _ := tollkeys(t, "", "digest", path); code != 0 || out != "" {
		t.Fatalf("digest: exit %d, printed %q", code, out)
	}
	kr, text := readKeyring(t, path)
	if strings.Contains(text, plain) || kr.Keys[0].SHA256 != authorizer.Digest(plain) {
		t.Fatalf("after digest: %s", text)
	}
	if err := decide(t, path, plain); err != nil {
		t.Errorf("the migrated key is refused: %v", err)
	}
}

func TestErrorsNeverQuoteKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	const plain = "tg_pasted_into_the_id_0123456789abcdefghijk"
	if err := os.WriteFile(path, []byte(`{"keys":[{"id":"`+plain+`!","key":"`+plain+`"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", path}, {"rotate", "-id", "x", path}, {"new", "-id", plain + "!", filepath.Join(t.TempDir(), "k.json")}} {
		code, out, errOut := tollkeys(t, "", args...)
		if code == 0 || strings.Contains(out+errOut, plain) {
			t.Errorf("%v: exit %d, output %q %q", args[0], code, out, errOut)
		}
	}
	// A key pasted as -id is refused, not echoed (issue 26, defect 6).
	valid := filepath.Join(t.TempDir(), "valid.json")
	if code, _, _ := tollkeys(t, "", "new", "-id", "mobile", valid); code != 0 {
		t.Fatal("new failed")
	}
	pasted := authorizer.NewKey()
	for _, cmd := range []string{"new", "remove", "rotate", "disable"} {
		code, out, errOut := tollkeys(t, "", cmd, "-id", pasted, valid)
		if code == 0 || strings.Contains(out+errOut, pasted[:12]) || !strings.Contains(errOut, "-id: the id starts with tgk_") {
			t.Errorf("%s -id <a key>: exit %d, output %q %q", cmd, code, out, errOut)
		}
	}
	if code, _, _ := tollkeys(t, "", "rotate", "-id", "x", filepath.Join(t.TempDir(), "missing.json")); code != 1 {
		t.Errorf("rotate on a missing file: exit %d, want 1", code)
	}
}

func TestScan(t *testing.T) {
	key := authorizer.NewKey()
	typo := key[:10] + string(rune(key[10]^1)) + key[11:]
	text := "line one\nAuthorization: Bearer " + key + "\nnot a key: " + typo + "\n"
	code, out, _ := tollkeys(t, text, "scan")
	if code != 1 || out != "stdin:2: a tollgate key (tgk_…)\n" || strings.Contains(out, key) {
		t.Errorf("scan = %d %q; want one finding on line 2, without the key", code, out)
	}
	if code, out, _ := tollkeys(t, "nothing here\n", "scan"); code != 0 || out != "" {
		t.Errorf("scan of clean text = %d %q", code, out)
	}
}

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
	}{{nil, 2}, {[]string{"-h"}, 0}, {[]string{"new", "-h"}, 0}, {[]string{"frobnicate", "x"}, 2}, {[]string{"new"}, 2}} {
		if code, _, _ := tollkeys(t, "", tt.args...); code != tt.code {
			t.Errorf("tollkeys %q: exit %d, want %d", tt.args, code, tt.code)
		}
	}
}

// Issue 27: a rotation's grace bounds every older key of the client, not
// only the one it replaces: -grace 0 (after a leak, say) leaves the new
// key alone working, and a shorter grace shortens a longer one given
// before.
func TestRotateGraceBoundsEveryOlderKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	_, out, _ := tollkeys(t, "", "new", "-id", "c", path)
	first := strings.TrimSpace(out)
	_, out, _ = tollkeys(t, "", "rotate", "-id", "c", "-grace", "24h", path)
	second := strings.TrimSpace(out)
	_, out, _ = tollkeys(t, "", "rotate", "-id", "c", "-grace", "1h", path)
	third := strings.TrimSpace(out)
	kr, _ := readKeyring(t, path)
	for _, p := range kr.Keys[0].Previous {
		if p.Until.After(testNow.Add(time.Hour)) {
			t.Errorf("after rotate -grace 1h, an older key works until %v, past the hour", p.Until)
		}
	}
	if len(kr.Keys[0].Previous) != 2 {
		t.Errorf("after rotate -grace 1h, previous keys %+v; want both older keys, for the hour", kr.Keys[0].Previous)
	}
	code, out, errOut := tollkeys(t, "", "rotate", "-id", "c", "-grace", "0", path)
	fourth := strings.TrimSpace(out)
	if code != 0 {
		t.Fatalf("rotate -grace 0: %s", errOut)
	}
	for _, k := range []string{first, second, third} {
		if err := decide(t, path, k); err == nil {
			t.Errorf("after rotate -grace 0, an older key is still accepted")
		}
	}
	if err := decide(t, path, fourth); err != nil {
		t.Errorf("the new key: %v", err)
	}
	if kr, _ := readKeyring(t, path); kr.Keys[0].Previous != nil {
		t.Errorf("after rotate -grace 0, previous keys %+v", kr.Keys[0].Previous)
	}
}
