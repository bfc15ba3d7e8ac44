package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// runCLI runs one scimgate command line in-process with env as the whole
// environment and returns what it printed.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	m := &Main{Stdout: &out, Stderr: &errOut, LookupEnv: mapEnv(env)}
	err = m.Run(t.Context(), args)
	return out.String(), errOut.String(), err
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines to log into
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeHelpDocumentsEverySetting(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, nil, "serve", "--help")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--config", envConfig, "--" + flagNoExpandEnv}
	for _, s := range settings() {
		want = append(want, "--"+s.flag, s.env, s.key)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("serve --help does not mention %s:\n%s", w, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--lisen", ":1"}, "run 'scimgate serve --help'"},
		{"bad int flag", []string{"serve", "--max-body-bytes", "lots"}, "invalid argument"},
		{"serve takes no args", []string{"serve", "now"}, "unknown command"},
		{"revoke needs a name", []string{"token", "revoke"}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runCLI(t, nil, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "scimgate ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("version printed %q", out)
	}
}
