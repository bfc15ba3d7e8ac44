package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestAppCommandsAgainstARunningServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	users := s.writeFile(t, "users.csv", usersFile(6))
	groups := s.writeFile(t, "groups.csv", "externalId,displayName,members\ng1,Engineering,00;01;02\n")
	if _, errOut, err := s.cli(t, "source", "add", "--name", "hr", "--kind", "csv", "--setting", "usersPath="+users, "--setting", "groupsPath="+groups); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if out, errOut, err := s.cli(t, "source", "sync", "hr", "--wait"); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}

	def := s.writeFile(t, "crm.json", `{"name": "crm", "scope": {"groups": ["Engineering", "Later"], "sources": ["hr"]}, "leaveGraceDays": 7}`)
	out, errOut, err := s.cli(t, "app", "create", "--file", def)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	id := strings.TrimSpace(out)
	if id == "" || strings.Contains(id, "\n") {
		t.Fatalf("create printed %q", out)
	}
	mustContain(t, "create stderr", errOut, `Created application "crm"`, `warning: scope group "Later" matches no group now`)

	out, _, err = s.cli(t, "app", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^crm\s+` + id + `\s+3\s+1\s+0\s+1\s+-$`).MatchString(out) {
		t.Errorf("list = %q", out)
	}
	out, _, err = s.cli(t, "app", "preview", "crm")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "preview", out, "3 users, 1 groups, 0 departed", "Engineering")
	patch := s.writeFile(t, "patch.json", `{"description": "Sales CRM", "groups": "none"}`)
	if _, errOut, err = s.cli(t, "app", "update", "crm", "--file", patch); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	mustContain(t, "update stderr", errOut, `Updated application "crm" (version 2)`)
	out, _, err = s.cli(t, "app", "show", id)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "show", out, `"description": "Sales CRM"`, `"groups": "none"`, `"leaveGraceDays": 7`)

	out, errOut, err = s.cli(t, "app", "token", "crm", "--name", "crm-prod")
	if err != nil || !bearerLine.MatchString(strings.TrimSpace(out)) {
		t.Fatalf("token: %q %v\n%s", out, err, errOut)
	}
	mustContain(t, "token stderr", errOut, `reader token "crm-prod" for application "crm"`)

	// The API's problems come back field by field.
	bad := s.writeFile(t, "bad.json", `{"name": "x", "groups": "some", "scope": {"sources": ["nowhere"]}}`)
	_, _, err = s.cli(t, "app", "create", "--file", bad)
	if err == nil {
		t.Fatal("a bad definition was accepted")
	}
	mustContain(t, "create error", err.Error(), "groups: must be", `scope.sources: no source or push client (writer token) named "nowhere"`)

	if _, errOut, err = s.cli(t, "app", "delete", "crm"); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	_, _, err = s.cli(t, "app", "show", "crm")
	if err == nil || !strings.Contains(err.Error(), "application crm does not exist") {
		t.Errorf("show after delete: %v", err)
	}
}
