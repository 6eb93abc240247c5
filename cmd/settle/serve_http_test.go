package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeHTTPFlags(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	if code, _, errOut := runCLI(t, "--db", db, "init"); code != 0 {
		t.Fatal(errOut)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--http", "0.0.0.0:8080"}, "--token-file"},
		{[]string{"--http", ":8080"}, "every interface"},
		{[]string{"--http", "8080"}, "HOST:PORT"},
		{[]string{"--token-file", short}, "goes with --http"},
		{[]string{"--http", "127.0.0.1:8080", "--once"}, "--once"},
		{[]string{"--http", "0.0.0.0:8080", "--token-file", short}, "at least 16"},
	} {
		code, _, errOut := runCLI(t, append([]string{"--db", db, "serve"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("serve %v: exit %d, %s", c.args, code, errOut)
		}
	}
}

// TestServeHTTP starts settle serve --http with a token, talks to it, and
// stops it with SIGTERM; the token never reaches the log.
func TestServeHTTP(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	if code, _, errOut := runCLI(t, "--db", db, "record", "../../testdata/demo/events.jsonl"); code != 0 {
		t.Fatal(errOut)
	}
	const token = "tok-0123456789abcdef"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := settleProcess(t, "--db", db, "serve", "--http", "127.0.0.1:0", "--token-file", tokenFile)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/ `)
	deadline := time.Now().Add(15 * time.Second)
	for addr.FindStringSubmatch(stderr.String()) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	m := addr.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("serve did not say where it listens:\n%s", stderr.String())
	}
	get := func(auth string) int {
		req, _ := http.NewRequest("GET", "http://"+m[1]+"/api/balances", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get(""); c != 401 {
		t.Errorf("without the token: %d", c)
	}
	if c := get("Bearer " + token); c != 200 {
		t.Errorf("with the token: %d", c)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM\n%s", stderr.String())
	}
	if log := stderr.String(); strings.Contains(log, token) || !strings.Contains(log, "path=/api/balances status=401") {
		t.Errorf("the log:\n%s", log)
	}
}
