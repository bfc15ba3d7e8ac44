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

// TestHiddenAndPrivateFilesAreRefusedWhenTheRunOpensThem: a path that was
// harmless when the source was configured is checked again when the run
// opens it, on the opened file: a hard link to the server's key put there
// later, or a hidden file, is refused without its contents in the error.
func TestHiddenAndPrivateFilesAreRefusedWhenTheRunOpensThem(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "scimgate.key")
	if err := os.WriteFile(key, []byte("TOPSECRETKEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".secret"), []byte("externalId,userName\n1,TOPSECRET@x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		plant func(path string) error
		want  string
	}{
		{"a hard link to the key", func(p string) error { return os.Link(key, p) }, "one of scimgate's own files"},
		{"a symlink to a hidden file", func(p string) error { return os.Symlink(filepath.Join(dir, ".secret"), p) }, "is a hidden file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users := filepath.Join(dir, "later"+string(rune('a'+i))+".csv")
			cfg := csv.ConfinedKind([]string{dir}, []string{key}).New()
			raw, _ := json.Marshal(map[string]string{"usersPath": users})
			if err := json.Unmarshal(raw, cfg); err != nil {
				t.Fatal(err)
			}
			if errs := cfg.Validate(); len(errs) != 0 {
				t.Fatalf("a file not written yet: %v", errs)
			}
			if err := tt.plant(users); err != nil {
				t.Fatal(err)
			}
			if errs := cfg.Validate(); !strings.Contains(errs["usersPath"], tt.want) {
				t.Errorf("Validate once planted = %v, want %q", errs, tt.want)
			}
			src, err := cfg.Open(sources.Env{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("run error = %v, want %q and no contents", err, tt.want)
			}
		})
	}
}
