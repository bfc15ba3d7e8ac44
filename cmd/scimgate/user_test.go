package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceLinkFlagsAndUserCommands: source add and update carry link
// and authoritative; two linked csv sources make one user of ann, whose
// provenance the user command shows, and user unlink splits hr off.
func TestSourceLinkFlagsAndUserCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ad := s.writeFile(t, "ad.csv", "externalId,userName,title,employeeNumber\na1,ann@example.com,Engineer,E1\n")
	hr := s.writeFile(t, "hr.csv", "externalId,userName,title,department,employeeNumber\nh1,ann.lee@hr.example.com,Director,Research,E1\n")
	if _, errOut, err := s.cli(t, "source", "add", "--name", "ad", "--kind", "csv", "--setting", "usersPath="+ad, "--link", "employeeId={employeeNumber}"); err != nil {
		t.Fatalf("add ad: %v\n%s", err, errOut)
	}
	// The flags' link replaces the file's whole.
	spec := s.writeFile(t, "hr.json", `{"precedence": 200, "link": {"old": "{externalId}"}}`)
	if _, errOut, err := s.cli(t, "source", "add", "--file", spec, "--name", "hr", "--kind", "csv",
		"--setting", "usersPath="+hr, "--link", "employeeId={employeeNumber}", "--authoritative", "manager,Title"); err != nil {
		t.Fatalf("add hr: %v\n%s", err, errOut)
	}
	show := func(name string) (link map[string]string, authoritative []string) {
		t.Helper()
		out, _, err := s.cli(t, "source", "show", name)
		var v struct {
			Link          map[string]string `json:"link"`
			Authoritative []string          `json:"authoritative"`
		}
		if err != nil || json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("show %s = %v:\n%s", name, err, out)
		}
		return v.Link, v.Authoritative
	}
	if link, authz := show("hr"); len(link) != 1 || link["employeeId"] != "{employeeNumber}" || strings.Join(authz, ",") != "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager,title" {
		t.Errorf("hr after add: link %v authoritative %q", link, authz)
	}

	// update: the flags' problems, the API's field errors, then changes.
	for _, tc := range []struct {
		args []string
		says []string
	}{
		{[]string{"--link", "employeeId"}, []string{"must be NAME=TEMPLATE"}},
		{[]string{"--link", "k={a", "--authoritative", "shoeSize"}, []string{"see fields", "\n  link.k: ", "\n  authoritative[0]: "}},
		{[]string{"--no-link", "--link", "k={a}"}, []string{"contradict"}},
		{nil, []string{"nothing to change"}},
	} {
		_, _, err := s.cli(t, append([]string{"source", "update", "hr"}, tc.args...)...)
		mustContain(t, "update "+strings.Join(tc.args, " "), errString(err), tc.says...)
	}
	if _, errOut, err := s.cli(t, "source", "update", "ad", "--no-authoritative", "--link", "employeeId={employeeNumber}", "--link", "mail={userName|lower}"); err != nil {
		t.Fatalf("update ad: %v\n%s", err, errOut)
	}
	if link, authz := show("ad"); len(link) != 2 || link["mail"] != "{userName|lower}" || len(authz) != 0 {
		t.Errorf("ad after update: link %v authoritative %q", link, authz)
	}
	_, errOut, err := s.cli(t, "source", "update", "ad", "--no-link", "--authoritative", "title")
	mustContain(t, "update ad's warning", errOut, "warning: authoritative is set but link is not")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.cli(t, "source", "update", "ad", "--link", "employeeId={employeeNumber}", "--no-authoritative"); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"ad", "hr"} {
		out, errOut, err := s.cli(t, "source", "sync", name, "--wait", "--full")
		if err != nil {
			t.Fatalf("sync %s: %v\n%s\n%s", name, err, errOut, s.logs.String())
		}
		if name == "hr" {
			mustContain(t, "hr's run", out, ", linked 1")
		}
	}
	ann := s.userID(t, "ann@example.com")
	out, _, err := s.cli(t, "user", "provenance", ann)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "provenance", out, "SOURCE", "ad ", "a1 ", "hr ", "h1 ", "employeeId", "ATTRIBUTE", "userName", "title ")
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			rows[f[0]] = f[1]
		}
	}
	if rows["userName"] != "ad" || rows["title"] != "hr" || rows["enterprise.department"] != "hr" {
		t.Errorf("attribute rows %v, want userName from ad, title and enterprise.department from hr:\n%s", rows, out)
	}
	if out, _, err := s.cli(t, "user", "provenance", ann, "--json"); err != nil || !strings.Contains(out, `"sourceName": "hr"`) {
		t.Errorf("provenance --json = %v:\n%s", err, out)
	}
	_, _, err = s.cli(t, "user", "unlink", ann)
	mustContain(t, "unlink without --source", errString(err), "source")
	_, _, err = s.cli(t, "user", "unlink", "nobody", "--source", "hr")
	mustContain(t, "unlink of nobody", errString(err), "user nobody does not exist")
	out, errOut, err = s.cli(t, "user", "unlink", ann, "--source", "hr")
	if err != nil {
		t.Fatalf("unlink: %v\n%s", err, errOut)
	}
	split := strings.TrimSpace(out)
	if split == "" || split == ann || split != s.userID(t, "ann.lee@hr.example.com") {
		t.Errorf("unlink printed %q, want the new user's id", out)
	}
	mustContain(t, "unlink message", errOut, "Split source hr off user "+ann)
	_, _, err = s.cli(t, "user", "unlink", ann, "--source", "ad")
	mustContain(t, "unlink of the only source", errString(err), "only source")
}

// userID finds a user by userName over SCIM, with a reader token made
// for it.
func (s *testServer) userID(t *testing.T, userName string) string {
	t.Helper()
	if s.reader == "" {
		out, _, err := runCLI(t, nil, "token", "create", "--db", filepath.Join(s.Dir, "scimgate.db"), "--name", "reader", "--role", "reader")
		if err != nil {
			t.Fatal(err)
		}
		s.reader = strings.TrimSpace(out)
	}
	req, err := http.NewRequest("GET", s.URL+"/scim/v2/Users?filter="+url.QueryEscape(`userName eq "`+userName+`"`), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.reader)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct {
		Resources []struct {
			ID string `json:"id"`
		} `json:"Resources"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil || len(list.Resources) != 1 {
		t.Fatalf("SCIM users named %s: %v, %d", userName, err, len(list.Resources))
	}
	return list.Resources[0].ID
}
