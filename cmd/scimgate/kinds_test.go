package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultKeyFile(t *testing.T) {
	tests := []struct{ db, want string }{
		{"scimgate.db", "scimgate.key"},
		{"/data/scimgate.db", "/data/scimgate.key"},
		{filepath.Join("var", "lib", "s.db"), filepath.Join("var", "lib", "scimgate.key")},
		{"postgres://u:p@db.example.com:5432/scim?sslmode=require", "scimgate.key"},
		{"postgresql://db/scim", "scimgate.key"},
	}
	for _, tt := range tests {
		if got := defaultKeyFile(tt.db); got != tt.want {
			t.Errorf("defaultKeyFile(%q) = %q, want %q", tt.db, got, tt.want)
		}
	}
}

// TestKindsDescribeTheirSettings: every kind the binary knows describes
// each of its settings (a Config field without help fails here), and the
// description agrees with the kind's Validate: what it calls required is
// asked for, and its examples and defaults are accepted.
func TestKindsDescribeTheirSettings(t *testing.T) {
	reg := kinds(Config{})
	for _, name := range reg.Names() {
		t.Run(name, func(t *testing.T) {
			k := reg[name]
			if err := k.CheckSettings(); err != nil {
				t.Errorf("%s's settings description:\n%v", name, err)
			}
			if len(k.Settings()) == 0 {
				t.Errorf("%s describes no settings", name)
			}
		})
	}
}

// TestREADMENamesEverySetting: the README's "Source kinds" section is
// prose over the same description, so it names each kind's every
// setting; a setting added to a Config without a word there fails here.
func TestREADMENamesEverySetting(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Source kinds\n")
	if !ok {
		t.Fatal(`the README has no "## Source kinds" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	reg := kinds(Config{})
	for _, name := range reg.Names() {
		_, entry, ok := strings.Cut(section, "- **`"+name+"`**")
		if !ok {
			t.Errorf("the README's Source kinds section has no entry for %s", name)
			continue
		}
		entry, _, _ = strings.Cut(entry, "\n- **")
		for _, s := range reg[name].Settings() {
			if !strings.Contains(entry, "`"+s.Name+"`") {
				t.Errorf("the README's %s entry does not name the setting `%s`", name, s.Name)
			}
		}
	}
}
