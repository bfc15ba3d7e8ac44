package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCSVSourcesAreConfinedToCSVDirs: through the config API of a running
// server, a csv source may name only regular files inside --csv-dir.
func TestCSVSourcesAreConfinedToCSVDirs(t *testing.T) {
	s := startServer(t)
	outside := filepath.Join(t.TempDir(), "secret.csv")
	if err := os.WriteFile(outside, []byte("externalId,userName\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(s.Dir, "link.csv")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	longLine := s.writeFile(t, "long.csv", "externalId,userName\ne1,a@x\ne2,"+strings.Repeat("S", 2<<20)+"\n")
	// The server's own files sit in the allowed directory here (as they do
	// when an admin allows the working directory); a hard link gives the
	// key another name, which only the file's identity gives away.
	keyFile := filepath.Join(s.Dir, "scimgate.key")
	keyLink := filepath.Join(s.Dir, "keys.csv")
	if err := os.Link(keyFile, keyLink); err != nil {
		t.Fatal(err)
	}
	keySymlink := filepath.Join(s.Dir, "key-link.csv")
	if err := os.Symlink(keyFile, keySymlink); err != nil {
		t.Fatal(err)
	}
	dotEnv := s.writeFile(t, ".env", "externalId,userName\n")
	if err := os.Mkdir(filepath.Join(s.Dir, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	inHiddenDir := s.writeFile(t, filepath.Join(".ssh", "users.csv"), "externalId,userName\n")
	for i, tc := range []struct {
		path       string
		wantStatus int
		want       string
	}{
		{"/etc/shadow", 422, "must be inside the csv directories the server allows (" + s.Dir},
		{"/proc/self/environ", 422, "must be inside"},
		{link, 422, "must be inside"},
		{filepath.Join(s.Dir, "scimgate.db"), 422, "one of scimgate's own files"},
		{keyFile, 422, "one of scimgate's own files"},
		{keyLink, 422, "one of scimgate's own files"},
		{keySymlink, 422, "one of scimgate's own files"},
		{dotEnv, 422, "is a hidden file"},
		{inHiddenDir, 422, "is a hidden file"},
		{longLine, 201, ""},
	} {
		body, _ := json.Marshal(map[string]any{"name": "c" + string(rune('a'+i)), "kind": "csv", "settings": map[string]any{"usersPath": tc.path}})
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/sources", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.Admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		raw, _ := json.Marshal(got)
		if resp.StatusCode != tc.wantStatus || !strings.Contains(string(raw), tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.path, resp.StatusCode, raw, tc.wantStatus, tc.want)
		}
		if tc.path == longLine && resp.StatusCode == 201 {
			out, _, err := s.cli(t, "source", "sync", got["id"].(string), "--wait")
			if err == nil || !strings.Contains(out+err.Error(), "long.csv line 3: longer than 1048576 bytes") || strings.Contains(out+err.Error(), "SSSS") {
				t.Errorf("sync of the long line: %v %.300s", err, out)
			}
		}
	}
}

func TestDefaultCSVDirsKeepTheKeyAndDatabaseOut(t *testing.T) {
	dirs := DefaultConfig().csvDirList()
	if len(dirs) != 2 || dirs[0] != "csv" || dirs[1] != filepath.Join("sources", "csv", "example") {
		t.Errorf("default csvDirs = %v", dirs)
	}
	cfg := DefaultConfig()
	cfg.CSVDirs = ":"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "csvDirs must name at least one directory") {
		t.Errorf("empty csvDirs: %v", err)
	}
}
