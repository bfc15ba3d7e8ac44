package csv_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// configIn builds a Config the way the runner does: from the kind, then the
// stored settings.
func configIn(t *testing.T, dirs []string, users string) sources.Config {
	t.Helper()
	cfg := csv.Kind(dirs...).New()
	raw, _ := json.Marshal(map[string]string{"usersPath": users})
	if err := json.Unmarshal(raw, cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestFilesOutsideTheAllowedDirsAreRefused: settings name only regular
// files inside the operator's directories, after symlinks are resolved;
// the same holds when the source runs, for files changed since.
func TestFilesOutsideTheAllowedDirsAreRefused(t *testing.T) {
	allowed := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "scimgate.key")
	if err := os.WriteFile(secret, []byte("externalId,userName\nTOPSECRET,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(allowed, "users.csv")
	if err := os.WriteFile(good, []byte("externalId,userName\ne1,a@x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(allowed, "link.csv")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(allowed, "sub.csv"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"inside", good, ""},
		{"not written yet", filepath.Join(allowed, "later.csv"), ""},
		{"outside", secret, "must be inside the csv directories the server allows (" + allowed},
		{"dot-dot out", filepath.Join(allowed, "..", filepath.Base(outside), "scimgate.key"), "must be inside"},
		{"system file", "/etc/shadow", "must be inside"},
		{"symlink out", link, "must be inside"},
		{"device", "/dev/zero", "must be inside"},
		{"directory", filepath.Join(allowed, "sub.csv"), "is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := configIn(t, []string{allowed}, tc.path).Validate()
			if got := errs["usersPath"]; (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("usersPath error = %q, want %q", got, tc.want)
			}
		})
	}
	// Devices are refused even where they are allowed.
	errs := configIn(t, []string{"/dev"}, "/dev/zero").Validate()
	if !strings.Contains(errs["usersPath"], "is not a regular file") {
		t.Errorf("/dev/zero: %v", errs)
	}

	// A link swapped in after the source was configured fails the run and
	// the test, without the file's text.
	if err := os.Remove(good); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, good); err != nil {
		t.Fatal(err)
	}
	src, err := configIn(t, []string{allowed}, good).Open(sources.Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{})
	if err == nil || !strings.Contains(err.Error(), "outside the csv directories") || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("run error = %v", err)
	}
	terr := src.(sources.Tester).Test(context.Background())
	if terr == nil || !strings.Contains(terr.Error(), "outside the csv directories") {
		t.Errorf("test error = %v", terr)
	}
}

// TestLimitsNameTheLineNotTheText: a line over MaxLineBytes stops the run
// with its line number, and no error quotes the file.
func TestLimitsNameTheLineNotTheText(t *testing.T) {
	long := strings.Repeat("S", 2<<20)
	for _, tc := range []struct {
		name, file, want string
	}{
		{"2 MiB line", "externalId,userName\ne1,a@x\ne2," + long + "\n", "users.csv line 3: longer than 1048576 bytes"},
		{"secret header", "root:$6$SECRETHASH:19000:0:99999:7:::\n", "line 1: header columns 1 are not known columns"},
		{"bare quote", "externalId,userName\ne1,SECRET\"x\n", "users.csv line 2 column 10: bare \""},
		{"json garbage", "", "element 1 is not a valid JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			if tc.file == "" {
				path = write(t, "users.json", `[{"externalId": SECRET}]`)
			} else {
				path = write(t, "users.csv", tc.file)
			}
			_, err := open(t, path, "").Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "SSSS") {
				t.Errorf("error quotes the file: %.200s", err)
			}
		})
	}
}
