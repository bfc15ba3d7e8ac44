package main

import (
	"strings"
	"testing"
)

// TestSyncWaitNamesConflicts: a run that left records out still exits 0,
// and says so: the outcome line counts the conflicts and stderr says where
// to read them.
func TestSyncWaitNamesConflicts(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	users := s.writeFile(t, "users.csv", "externalId,userName,givenName,familyName\n"+
		"1,ann@example.com,Ann,A\n2,ann@example.com,Ann,B\n3,bob@example.com,Bob,C\n")
	if _, errOut, err := s.cli(t, "source", "add", "--name", "hr", "--kind", "csv", "--setting", "usersPath="+users); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	out, errOut, err := s.cli(t, "source", "sync", "hr", "--wait")
	if err != nil {
		t.Fatalf("sync with a conflict = %v, want exit 0 (the run succeeded)\n%s", err, errOut)
	}
	mustContain(t, "sync output", out, " succeeded with 1 conflict (full): fetched 3, created 2, ", "conflicts 1, errors 0")
	mustContain(t, "sync stderr", errOut, "warning: 1 record was not applied", "/api/v1/sources/", "/changes")
	if strings.Count(out, "\n") != 1 {
		t.Errorf("stdout has more than the outcome line:\n%s", out)
	}
}
