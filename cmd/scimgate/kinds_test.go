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
