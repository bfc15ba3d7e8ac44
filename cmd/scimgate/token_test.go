package main

import (
	"bytes"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

var bearerLine = regexp.MustCompile(`^sg_[0-9a-f]{12}_\S+$`)

// storedTokens reads the tokens straight from the database file.
func storedTokens(t *testing.T, db string) []storage.Token {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), db, sqlstore.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	toks, err := s.ListTokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "scimgate.db")

	// create prints exactly one line, the bearer token, on stdout.
	out, hint, err := runCLI(t, nil, "token", "create", "--db", db, "--name", "okta", "--role", "writer")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasSuffix(out, "\n") || len(lines) != 1 || !bearerLine.MatchString(lines[0]) {
		t.Fatalf("stdout = %q, want one line matching %s", out, bearerLine)
	}
	bearer := lines[0]
	if !strings.Contains(hint, "cannot be shown again") || strings.Contains(hint, bearer) {
		t.Errorf("stderr hint = %q", hint)
	}

	// The row is there, keyed by the token's id, holding a hash of the secret.
	id, secret, _ := strings.Cut(strings.TrimPrefix(bearer, "sg_"), "_")
	toks := storedTokens(t, db)
	if len(toks) != 1 {
		t.Fatalf("stored %d tokens, want 1", len(toks))
	}
	tok := toks[0]
	if tok.Name != "okta" || tok.Role != storage.RoleWriter || tok.ID != id {
		t.Errorf("stored %+v", tok)
	}
	sum := sha256.Sum256([]byte(secret))
	if bytes.Equal(tok.Hash, []byte(secret)) || !bytes.Equal(tok.Hash, sum[:]) {
		t.Errorf("stored hash %x is not SHA-256 of the secret", tok.Hash)
	}

	// list shows it, never the secret.
	out, _, err = runCLI(t, nil, "token", "list", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "NAME") || !regexp.MustCompile(`(?m)^okta\s+writer\s+`+id+`\s+\d{4}-`).MatchString(out) {
		t.Errorf("list = %q", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("list shows the secret: %q", out)
	}

	// A second token under the same name is refused; nothing is printed.
	out, _, err = runCLI(t, nil, "token", "create", "--db", db, "--name", "okta", "--role", "reader")
	if err == nil || !strings.Contains(err.Error(), `a token named "okta" already exists; revoke it first or pick another name`) {
		t.Errorf("duplicate create: err = %v", err)
	}
	if out != "" {
		t.Errorf("duplicate create printed %q", out)
	}

	// revoke removes it; revoking again names the problem.
	if _, _, err := runCLI(t, nil, "token", "revoke", "--db", db, "okta"); err != nil {
		t.Fatal(err)
	}
	if toks := storedTokens(t, db); len(toks) != 0 {
		t.Errorf("after revoke: %+v", toks)
	}
	out, _, err = runCLI(t, nil, "token", "list", "--db", db)
	if err != nil || strings.Contains(out, "okta") {
		t.Errorf("list after revoke = %q, %v", out, err)
	}
	_, _, err = runCLI(t, nil, "token", "revoke", "--db", db, "okta")
	if err == nil || !strings.Contains(err.Error(), `no token named "okta"`) {
		t.Errorf("second revoke: err = %v", err)
	}
}

func TestTokenDBFromEnvironmentAndFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envDB, fileDB := filepath.Join(dir, "env.db"), filepath.Join(dir, "file.db")
	cfg := writeFile(t, "c.yaml", "db: "+fileDB+"\n")

	if _, _, err := runCLI(t, map[string]string{"SCIMGATE_DB": envDB}, "token", "create", "--name", "a", "--role", "reader"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, map[string]string{"SCIMGATE_CONFIG": cfg}, "token", "create", "--name", "b", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	for db, want := range map[string]string{envDB: "a", fileDB: "b"} {
		toks := storedTokens(t, db)
		if len(toks) != 1 || toks[0].Name != want {
			t.Errorf("%s holds %+v, want only %q", filepath.Base(db), toks, want)
		}
	}
}

func TestTokenCreateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown role", []string{"--name", "x", "--role", "owner"}, `unknown role "owner"`},
		{"blank name", []string{"--name", " ", "--role", "reader"}, "name must not be empty"},
		{"no name", []string{"--role", "reader"}, `"name" not set`},
		{"no role", []string{"--name", "x"}, `"role" not set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "scimgate.db")
			args := append([]string{"token", "create", "--db", db}, tt.args...)
			out, _, err := runCLI(t, nil, args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("stdout = %q", out)
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("a rejected create touched the database (stat: %v)", err)
			}
		})
	}
}

func TestTokenCreateForApp(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "scimgate.db")
	s, err := sqlstore.Open(t.Context(), db, sqlstore.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.CreateApp(t.Context(), storage.App{Name: "crm", Groups: storage.GroupsScope, Scope: storage.AppScope{IncludeInactive: true}})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	// By name or id, the token is a reader bound to the app.
	for _, ref := range []string{"crm", app.ID} {
		name := "crm-" + ref
		out, hint, err := runCLI(t, nil, "token", "create", "--db", db, "--name", name, "--role", "reader", "--app", ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bearerLine.MatchString(strings.TrimSpace(out)) || !strings.Contains(hint, `for application "`+ref+`"`) {
			t.Errorf("create --app %s: stdout %q, stderr %q", ref, out, hint)
		}
	}
	toks := storedTokens(t, db)
	if len(toks) != 2 || toks[0].App != app.ID || toks[1].App != app.ID || toks[0].Role != storage.RoleReader {
		t.Fatalf("stored %+v", toks)
	}
	out, _, err := runCLI(t, nil, "token", "list", "--db", db)
	if err != nil || !regexp.MustCompile(`(?m)^crm-crm\s+reader\s+[0-9a-f]{12}\s+\S+\s+never\s+crm$`).MatchString(out) {
		t.Errorf("list = %q, %v", out, err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "w", "--role", "writer", "--app", "crm"}, "writer tokens cannot belong to an application"},
		{[]string{"--name", "a", "--role", "admin", "--app", "crm"}, "admin tokens cannot belong to an application"},
		{[]string{"--name", "r", "--role", "reader", "--app", "nope"}, `no application has the id or name "nope"`},
	} {
		out, _, err := runCLI(t, nil, append([]string{"token", "create", "--db", db}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
			t.Errorf("%v: err = %v, stdout %q; want %q", tc.args, err, out, tc.want)
		}
	}
	if toks := storedTokens(t, db); len(toks) != 2 {
		t.Errorf("a refused create stored a token: %+v", toks)
	}
}
