//go:build unix

package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/testkit/testkeys"
	"tollgate/internal/testkit/waitfor"
)

// Issue 16: `kill <pid of go run>` (SIGTERM, what process managers send)
// ends the go command, which does not pass the signal on; the gateway and
// its functions must stop too rather than keep the port.
func TestSIGTERMToGoRunStopsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs cmd/local with go run")
	}
	dir := t.TempDir()
	keys := filepath.Join(dir, "keyring.json")
	if err := os.WriteFile(keys, testkeys.Keyring(1, testkeys.Key{ID: "c", Key: authorizer.NewKey()}), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	cmd := exec.Command("go", "run", ".", "-addr", addr, "-quiet", "-keys", keys, "-state", filepath.Join(dir, "state"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	client := &http.Client{Timeout: 2 * time.Second}
	waitfor.Eventually(t, 3*time.Minute, 200*time.Millisecond, func() error {
		resp, err := client.Get("http://" + addr + "/health")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET /health = %d", resp.StatusCode)
		}
		return nil
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("go run did not exit on SIGTERM")
	}
	// Every process go run started (the program, its functions) is gone,
	// and with them the port.
	waitfor.Eventually(t, 20*time.Second, 100*time.Millisecond, func() error {
		if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("processes of go run's group still run (kill -0: %v)", err)
		}
		return nil
	})
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("%s still accepts connections", addr)
	}
}
