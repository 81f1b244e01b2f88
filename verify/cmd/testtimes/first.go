package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"tollgate/internal/testkit/modcopy"
)

// firstRun measures go run ./cmd/local as a newcomer meets it: in a copy
// of the checkout, from a build cache of its own, empty, until its first
// answer; then a second run, warm. It returns the lines to print: the
// times and what the run said of its builds.
func firstRun(root string) ([]string, error) {
	dir, err := os.MkdirTemp("", "testtimes-clone")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := modcopy.Into(root, dir); err != nil {
		return nil, err
	}
	cache, err := os.MkdirTemp("", "testtimes-first-gocache")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(cache) }()
	var lines []string
	for _, label := range []string{"first (empty build cache)", "second"} {
		r, err := localRun(dir, cache)
		if err != nil {
			return lines, err
		}
		lines = append(lines, fmt.Sprintf("`go run ./cmd/local`, %s: first line after %s, first answer after %s.", label,
			r.firstLine.Round(100*time.Millisecond), r.answered.Round(100*time.Millisecond)))
		for _, b := range r.builds {
			lines = append(lines, "    "+b)
		}
	}
	return lines, nil
}

type localResult struct {
	firstLine, answered time.Duration
	builds              []string // the run's "Building …" lines
}

// localRun starts go run ./cmd/local in dir, waits for GET /health to
// answer, and stops it (the whole process group).
func localRun(dir, cache string) (localResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return localResult{}, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command("go", "run", "./cmd/local", "-addr", addr, "-quiet")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOCACHE="+cache)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return localResult{}, err
	}
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return localResult{}, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	var (
		mu sync.Mutex
		r  localResult
	)
	go func() {
		rd := bufio.NewReader(out)
		for {
			line, err := rd.ReadString('\n')
			mu.Lock()
			if r.firstLine == 0 && line != "" {
				r.firstLine = time.Since(start)
			}
			if strings.HasPrefix(line, "Building ") {
				r.builds = append(r.builds, strings.TrimSpace(line))
			}
			mu.Unlock()
			if err != nil {
				_, _ = io.Copy(io.Discard, rd)
				return
			}
		}
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := client.Get("http://" + addr + "/health"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				mu.Lock()
				defer mu.Unlock()
				r.answered = time.Since(start)
				return r, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return r, fmt.Errorf("no answer on %s within 30 minutes (%s)", addr, filepath.Base(dir))
}
