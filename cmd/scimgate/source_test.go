package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testServer is `scimgate serve` running in-process on a random port,
// with an admin token created through `scimgate token create`.
type testServer struct {
	URL    string
	Admin  string
	Dir    string
	reader string // a reader token, made when a test first needs one
	logs   *syncBuffer
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "scimgate.db")
	out, _, err := runCLI(t, nil, "token", "create", "--db", db, "--name", "ops", "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	addrc := make(chan net.Addr, 1)
	logs := &syncBuffer{}
	m := &Main{Stdout: &syncBuffer{}, Stderr: logs, LookupEnv: mapEnv(nil), Listening: func(a net.Addr) { addrc <- a }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(t.Context(), []string{"serve", "--listen", "127.0.0.1:0", "--db", db, "--csv-dir", dir})
	}()
	t.Cleanup(func() { <-done }) // t.Context is canceled before cleanups run
	select {
	case a := <-addrc:
		return &testServer{URL: "http://" + a.String(), Admin: strings.TrimSpace(out), Dir: dir, logs: logs}
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	return nil
}

// cli runs a command against the server with the admin token from the
// environment.
func (s *testServer) cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runCLI(t, map[string]string{envServer: s.URL, envToken: s.Admin}, args...)
}

func (s *testServer) writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(s.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func usersFile(n int) string {
	var b strings.Builder
	b.WriteString("externalId,userName,givenName,familyName\n")
	for i := range n {
		fmt.Fprintf(&b, "%02d,user%02d@example.com,Given,Family\n", i, i)
	}
	return b.String()
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

var heldRun = regexp.MustCompile(`run (\S+) held`)

func TestSourceCommandsAgainstARunningServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	users := s.writeFile(t, "users.csv", usersFile(9))
	groups := s.writeFile(t, "groups.csv", "externalId,displayName,members\ng1,Engineering,00;01\n")

	out, errOut, err := s.cli(t, "source", "add", "--name", "hr", "--kind", "csv", "--schedule", "1h",
		"--setting", "usersPath="+users, "--setting", "groupsPath="+groups)
	if err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	id := strings.TrimSpace(out)
	if id == "" || strings.Count(out, "\n") != 1 {
		t.Fatalf("add printed %q, want the id alone", out)
	}

	// API errors: the message and every field problem.
	_, _, err = s.cli(t, "source", "add", "--name", "hr", "--kind", "csv", "--setting", "usersPath="+users)
	mustContain(t, "duplicate add error", errString(err), "a source named hr already exists", "name: already taken")
	_, _, err = s.cli(t, "source", "add", "--name", "bad", "--kind", "csv", "--schedule", "every tuesday", "--setting", "usersPath=relative.csv")
	mustContain(t, "invalid add error", errString(err), "see fields", "\n  schedule: ", "\n  settings.usersPath: ")

	out, errOut, err = s.cli(t, "source", "sync", "hr", "--wait")
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, errOut)
	}
	mustContain(t, "sync output", out, " succeeded (full): fetched 10, created 10, updated 0")
	mustContain(t, "sync progress", errOut, "hr: succeeded, fetched 10, created 10, updated 0, removed 0, errors 0\n")
	if strings.Contains(errOut, "\r") {
		t.Errorf("progress rewrote lines on a non-terminal: %q", errOut)
	}

	out, _, err = s.cli(t, "source", "runs", id, "--limit", "5")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "RUN ") {
		t.Fatalf("runs table:\n%s", out)
	}
	if f := strings.Fields(lines[1]); f[1] != "succeeded" || f[2] != "manual" || f[3] != "full" || f[7] != "10" {
		t.Errorf("runs row %q", lines[1])
	}

	out, _, err = s.cli(t, "source", "show", "hr")
	var shown struct {
		ID       string            `json:"id"`
		Settings map[string]string `json:"settings"`
	}
	if err != nil || json.Unmarshal([]byte(out), &shown) != nil || shown.ID != id || shown.Settings["usersPath"] != users {
		t.Errorf("show = %v:\n%s", err, out)
	}
	out, _, err = s.cli(t, "source", "test", "hr")
	if err != nil || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("test = %v: %s", err, out)
	}

	// Removing 7 of 10 is held: exit non-zero, say so, then approve.
	s.writeFile(t, "users.csv", usersFile(2))
	out, _, err = s.cli(t, "source", "sync", "hr", "--wait")
	mustContain(t, "held sync error", errString(err), "is HELD for approval", "would remove 7 objects", "scimgate source approve ")
	m := heldRun.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("held sync printed %q", out)
	}
	_, _, err = s.cli(t, "source", "sync", "hr")
	mustContain(t, "sync while held", errString(err), "held for approval", "scimgate source reject "+m[1])
	out, _, err = s.cli(t, "source", "approve", m[1])
	if err != nil || !strings.Contains(out, "succeeded") || !strings.Contains(out, "deactivated 7") {
		t.Fatalf("approve = %v: %s", err, out)
	}

	// A broken file fails the run: exit non-zero with the run's error.
	s.writeFile(t, "users.csv", "externalId,userName,shoeSize\n1,a@example.com,9\n")
	_, _, err = s.cli(t, "source", "sync", "hr", "--wait", "--full")
	mustContain(t, "failed sync error", errString(err), " failed: ", "header columns 3 are not known columns")

	out, _, err = s.cli(t, "source", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME ") {
		t.Fatalf("list table:\n%s", out)
	}
	mustContain(t, "list row", lines[1], "hr ", " csv ", " true ", " 1h ", " failing (1) ", " failed 20", id)
}

func TestSourceAddFromFile(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	users := s.writeFile(t, "users.csv", usersFile(3))
	spec := s.writeFile(t, "source.json", `{"name": "from-file", "kind": "csv", "enabled": false,
		"settings": {"usersPath": "/nowhere.csv"}, "deletion": {"policy": "delete", "maxCount": 7}}`)
	// Flags win over the file; the token comes from --token this time.
	out, errOut, err := runCLI(t, map[string]string{envServer: s.URL}, "source", "add", "--token", s.Admin,
		"--file", spec, "--name", "hr-file", "--setting", "usersPath="+users, "--setting", "extra:=true")
	mustContain(t, "add with an unknown setting", errString(err), "settings")
	if err == nil {
		t.Fatalf("an unknown setting was accepted: %s %s", out, errOut)
	}
	out, errOut, err = runCLI(t, map[string]string{envServer: s.URL}, "source", "add", "--token", s.Admin,
		"--file", spec, "--name", "hr-file", "--setting", "usersPath="+users)
	if err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	id := strings.TrimSpace(out)
	out, _, err = s.cli(t, "source", "show", id)
	mustContain(t, "show", out, `"name": "hr-file"`, `"enabled": false`, `"policy": "delete"`, `"maxCount": 7`, `"usersPath": "`+users+`"`)
	if err != nil {
		t.Fatal(err)
	}
	// Without --wait, sync prints the new run's id and returns.
	out, errOut, err = s.cli(t, "source", "sync", "hr-file", "--dry-run")
	runID := strings.TrimSpace(out)
	if err != nil || runID == "" || strings.Count(out, "\n") != 1 {
		t.Fatalf("sync = %v, printed %q %q", err, out, errOut)
	}
	out, _, err = s.cli(t, "source", "runs", id)
	mustContain(t, "runs", out, runID, "(dry run)")
	if err != nil {
		t.Fatal(err)
	}
}

func TestSourceCommandErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no token", map[string]string{envServer: closed}, []string{"source", "list"}, "no admin token"},
		{"bad server", map[string]string{envToken: "t"}, []string{"source", "list", "--server", "localhost:8080"}, "must be an http(s) URL"},
		{"server down", map[string]string{envServer: closed, envToken: "t"}, []string{"source", "list"}, "cannot reach the server at " + closed},
		{"flag wins over env", map[string]string{envServer: "http://example.invalid", envToken: "t"}, []string{"source", "list", "--server", closed}, "cannot reach the server at " + closed},
		{"bad setting", map[string]string{envToken: "t"}, []string{"source", "add", "--name", "x", "--setting", "novalue"}, "must be KEY=VALUE"},
		{"bad json setting", map[string]string{envToken: "t"}, []string{"source", "add", "--name", "x", "--setting", "n:={"}, "not JSON"},
		{"missing file", map[string]string{envToken: "t"}, []string{"source", "add", "--file", "/does/not/exist.json"}, "source file"},
		{"show needs a source", nil, []string{"source", "show"}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runCLI(t, tt.env, tt.args...)
			mustContain(t, "error", errString(err), tt.want)
		})
	}
}

func TestParseSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		key     string
		value   any
		wantErr bool
	}{
		{in: "usersPath=/data/u.csv", key: "usersPath", value: "/data/u.csv"},
		{in: "filter=a=b", key: "filter", value: "a=b"},
		{in: "port=389", key: "port", value: "389"},
		{in: "port:=389", key: "port", value: float64(389)},
		{in: "insecureSkipVerify:=true", key: "insecureSkipVerify", value: true},
		{in: "empty=", key: "empty", value: ""},
		{in: "novalue", wantErr: true},
		{in: "=x", wantErr: true},
		{in: "x:=nope", wantErr: true},
	}
	for _, tt := range tests {
		key, value, err := parseSetting(tt.in)
		if (err != nil) != tt.wantErr || key != tt.key || value != tt.value {
			t.Errorf("parseSetting(%q) = %q, %#v, %v", tt.in, key, value, err)
		}
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	steps := []string{"run r1 running: fetched 100", "run r1 running: fetched 100", "run r1 done: 7"}
	tests := []struct {
		tty  bool
		want string
	}{
		{tty: false, want: "run r1 running: fetched 100\nrun r1 done: 7\n"},
		// The shorter line blanks out the rest of the longer one.
		{tty: true, want: "\rrun r1 running: fetched 100\rrun r1 done: 7" + strings.Repeat(" ", 13) + "\n"},
	}
	long := strings.Repeat("x", 100)
	var b strings.Builder
	p := &progressLine{w: &b, tty: true}
	p.show(long)
	if want := "\r" + strings.Repeat("x", maxProgressWidth-1) + "…"; b.String() != want {
		t.Errorf("a long line on a terminal = %q, want it cut to %d runes", b.String(), maxProgressWidth)
	}
	for _, tt := range tests {
		var b strings.Builder
		p := &progressLine{w: &b, tty: tt.tty}
		for _, s := range steps {
			p.show(s)
		}
		p.done()
		if b.String() != tt.want {
			t.Errorf("tty=%v: wrote %q, want %q", tt.tty, b.String(), tt.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestSourceKinds: 'scimgate source kinds' prints each kind's settings
// from the server's description, and one kind alone when named.
func TestSourceKinds(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		name     string
		args     []string
		want     []string
		wantNot  []string
		wantFail string
	}{
		{name: "every kind", args: []string{"source", "kinds"},
			want: []string{"csv: Users and groups from CSV", "ldap: Active Directory", "entra: ", "okta: "}},
		{name: "one kind", args: []string{"source", "kinds", "ldap"},
			want: []string{
				"ldap: Active Directory",
				"\n  url (url; required)\n      The domain controller's LDAP URL",
				"\n      Example: ldaps://dc.example.com\n",
				"\n  bindPassword (string; required; secret)\n",
				"\n  pageSize (integer; default 500)\n",
				"\n  startTLS (boolean; default false)\n",
				"\n  userNameAttribute (one of userPrincipalName, sAMAccountName; default userPrincipalName)\n",
			},
			wantNot: []string{"csv:", "okta:"}},
		{name: "a list with allowed items", args: []string{"source", "kinds", "okta"},
			want: []string{"\n  groupTypes (string list of OKTA_GROUP, APP_GROUP, BUILT_IN; default OKTA_GROUP,APP_GROUP)\n"}},
		{name: "an unknown kind", args: []string{"source", "kinds", "workday"}, wantFail: `no kind "workday" on this server; it has csv, entra, ldap, okta`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := s.cli(t, tt.args...)
			if tt.wantFail != "" {
				mustContain(t, "the error", errString(err), tt.wantFail)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mustContain(t, "the kinds", out, tt.want...)
			for _, no := range tt.wantNot {
				if strings.Contains(out, no) {
					t.Errorf("the output has %q:\n%s", no, out)
				}
			}
			for _, line := range strings.Split(out, "\n") {
				help := strings.HasPrefix(line, "      ") && !strings.HasPrefix(line, "      Example: ")
				if help && len(line) > helpWidth {
					t.Errorf("a help line is longer than %d columns: %q", helpWidth, line)
				}
			}
		})
	}
}
