package main

import (
	"path/filepath"
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
