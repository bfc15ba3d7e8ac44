package sqlstore

import (
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestMigrationSplitsSourceMappings makes a database as a release on
// schema version 5 left it, whose source mappings were one flat map with
// user. and group. prefixes, and opens it with the current schema: each
// mapping comes back split into its user and group parts, an override
// that removes a default ("") included, a key with neither prefix
// dropped, and a source without overrides has none.
func TestMigrationSplitsSourceMappings(t *testing.T) {
	for _, db := range migrationDatabases {
		t.Run(db.name, func(t *testing.T) {
			ctx := t.Context()
			dsn := db.dsn(t)
			old, err := Open(ctx, dsn, Options{schemaVersion: 5})
			if err != nil {
				t.Fatalf("Open at version 5: %v", err)
			}
			policy := storage.DeletionPolicy{Policy: storage.PolicyDeactivate}
			mapped, err := old.CreateSource(ctx, storage.Source{Name: "ad", Kind: "ldap", Deletion: policy})
			if err != nil {
				t.Fatalf("CreateSource: %v", err)
			}
			plain, err := old.CreateSource(ctx, storage.Source{Name: "hr", Kind: "csv", Deletion: policy})
			if err != nil {
				t.Fatalf("CreateSource: %v", err)
			}
			// What releases before migration 6 stored.
			for id, text := range map[string]string{
				mapped.ID: `{"user.title":"{extensionAttribute3}","user.phoneNumbers.mobile":"","group.displayName":"{cn}","stray":"{x}"}`,
				plain.ID:  `null`,
			} {
				if err := old.db.Exec("UPDATE sources SET mapping = ? WHERE id = ?", text, id).Error; err != nil {
					t.Fatalf("store the old form: %v", err)
				}
			}
			old.Close()

			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatalf("Open with the current schema: %v", err)
			}
			defer s.Close()
			got, err := s.GetSource(ctx, mapped.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := storage.SourceMapping{
				User:  map[string]string{"title": "{extensionAttribute3}", "phoneNumbers.mobile": ""},
				Group: map[string]string{"displayName": "{cn}"},
			}
			if !reflect.DeepEqual(got.Mapping, want) {
				t.Errorf("migrated mapping = %#v\nwant %#v", got.Mapping, want)
			}
			got, err = s.GetSource(ctx, plain.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Mapping, storage.SourceMapping{}) {
				t.Errorf("a source without overrides migrated to %#v", got.Mapping)
			}
		})
	}
}
