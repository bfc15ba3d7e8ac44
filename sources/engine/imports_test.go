package engine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestConnectorsReachNeitherTheEngineNorTheStore: a connector knows only
// the contract in package sources. It never touches the store, and the
// imports show it: no package under sources/ but the engine itself
// depends on sources/engine or storage/sqlstore (their tests may).
func TestConnectorsReachNeitherTheEngineNorTheStore(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	const module = "github.com/scimgate/scimgate"
	forbidden := map[string]bool{module + "/sources/engine": true, module + "/storage/sqlstore": true}
	out, err := exec.Command(gotool, "list", module+"/sources/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if !forbidden[p] {
			pkgs = append(pkgs, p)
		}
	}
	for _, want := range []string{"csv", "ldap", "entra", "okta"} {
		if !strings.Contains(string(out), module+"/sources/"+want+"\n") {
			t.Errorf("go list does not show the %s connector: %q", want, out)
		}
	}
	for _, pkg := range pkgs {
		deps, err := exec.Command(gotool, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(deps)) {
			if forbidden[dep] {
				t.Errorf("%s depends on %s; connectors know only package sources", pkg, dep)
			}
		}
	}
}
