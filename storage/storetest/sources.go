package storetest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var sourceTests = []subtest{
	{"CreateGetList", testCreateGetSources},
	{"GetNotFound", testGetSourceNotFound},
	{"NameConflict", testSourceNameConflict},
	{"CreateWithID", testCreateSourceWithID},
	{"Update", testUpdateSource},
	{"UpdateClosureError", testUpdateSourceClosureError},
	{"Delete", testDeleteSource},
}

// fullSource sets every field of Source the caller controls.
func fullSource(name string) storage.Source {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	return storage.Source{
		Name:          name,
		Kind:          "ldap",
		Enabled:       true,
		Schedule:      "15m",
		Settings:      json.RawMessage(`{"url":"ldaps://dc1.example.com","baseDN":"dc=example,dc=com","pageSize":500}`),
		Secrets:       map[string][]byte{"bindPassword": {0x00, 0xff, 0x10, 'x'}},
		Mapping:       storage.SourceMapping{User: map[string]string{"userName": "{{.sAMAccountName}}@example.com"}},
		Scope:         `department eq "R&D"`,
		Deletion:      storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 5.5, MaxCount: 100, GraceDays: 30},
		Precedence:    10,
		Link:          map[string]string{"anchor": "{objectGUID|guid}", "employeeId": "{employeeID}"},
		Authoritative: []string{"title", storage.EnterpriseSchema + ":manager"},
		Cursor:        []byte{1, 2, 3, 0},
		Health: storage.SourceHealth{ConsecutiveFailures: 2, Unhealthy: true, LastError: "timeout",
			LastRunAt: at, LastSuccessAt: at.Add(-time.Hour)},
	}
}

func mustCreateSource(t *testing.T, s storage.Store, src storage.Source) storage.Source {
	t.Helper()
	got, err := s.CreateSource(ctx(t), src)
	if err != nil {
		t.Fatalf("CreateSource(%q): %v", src.Name, err)
	}
	return got
}

// checkSource compares the caller-controlled fields of two sources. JSON
// settings compare by value: a store may re-encode them.
func checkSource(t *testing.T, what string, got, want storage.Source) {
	t.Helper()
	if !jsonEqual(got.Settings, want.Settings) {
		t.Errorf("%s: settings = %s, want %s", what, got.Settings, want.Settings)
	}
	if !bytes.Equal(got.Cursor, want.Cursor) {
		t.Errorf("%s: cursor = %v, want %v", what, got.Cursor, want.Cursor)
	}
	if !sameHealth(got.Health, want.Health) {
		t.Errorf("%s: health = %+v, want %+v", what, got.Health, want.Health)
	}
	got.Settings, want.Settings, got.Cursor, want.Cursor = nil, nil, nil, nil
	got.Health, want.Health = storage.SourceHealth{}, storage.SourceHealth{}
	got.ID, got.Created, got.Updated, got.Version = want.ID, want.Created, want.Updated, want.Version
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got: %+v\nwant: %+v", what, got, want)
	}
}

func sameHealth(a, b storage.SourceHealth) bool {
	times := func(h storage.SourceHealth) []time.Time {
		return []time.Time{h.LastRunAt, h.LastSuccessAt, h.LastFullAt, h.BackoffUntil}
	}
	ta, tb := times(a), times(b)
	for i := range ta {
		if !ta[i].Equal(tb[i]) {
			return false
		}
	}
	return a.ConsecutiveFailures == b.ConsecutiveFailures && a.Unhealthy == b.Unhealthy && a.LastError == b.LastError
}

func testCreateGetSources(t *testing.T, s storage.Store) {
	list, err := s.ListSources(ctx(t))
	if err != nil || len(list) != 0 {
		t.Fatalf("ListSources on an empty store = %v, %v; want none", list, err)
	}
	minimal := storage.Source{Name: "okta", Kind: "okta"}
	before := time.Now()
	ad := mustCreateSource(t, s, fullSource("corp AD"))
	okta := mustCreateSource(t, s, minimal)
	after := time.Now()

	if ad.ID == "" || okta.ID == "" || ad.ID == okta.ID {
		t.Fatalf("CreateSource ids %q, %q: want distinct, non-empty", ad.ID, okta.ID)
	}
	checkFreshMeta(t, "CreateSource", storage.Meta{Created: ad.Created, LastModified: ad.Updated, Version: ad.Version}, before, after)
	if ad.Owner() != storage.SourceOwnerPrefix+ad.ID {
		t.Errorf("Owner() = %q", ad.Owner())
	}
	checkSource(t, "CreateSource result", ad, fullSource("corp AD"))
	checkSource(t, "CreateSource(minimal) result", okta, minimal)

	for _, want := range []storage.Source{ad, okta} {
		got, err := s.GetSource(ctx(t), want.ID)
		if err != nil {
			t.Fatalf("GetSource(%s): %v", want.Name, err)
		}
		checkSource(t, "GetSource", got, want)
		if !got.Created.Equal(want.Created) || !got.Updated.Equal(want.Updated) || got.Version != want.Version {
			t.Errorf("GetSource(%s) meta = %v %v %d, want %v %v %d", want.Name,
				got.Created, got.Updated, got.Version, want.Created, want.Updated, want.Version)
		}
	}
	list, err = s.ListSources(ctx(t))
	if err != nil || len(list) != 2 || list[0].ID != ad.ID || list[1].ID != okta.ID {
		t.Fatalf("ListSources = %v, %v; want corp AD then okta", list, err)
	}
	checkSource(t, "ListSources item", list[0], ad)
}

func testGetSourceNotFound(t *testing.T, s storage.Store) {
	_, err := s.GetSource(ctx(t), "00000000-0000-4000-8000-00000000dead")
	wantErr(t, "GetSource(unknown)", err, storage.ErrNotFound)
}

func testSourceNameConflict(t *testing.T, s storage.Store) {
	mustCreateSource(t, s, fullSource("AD"))
	other := mustCreateSource(t, s, fullSource("Entra"))
	_, err := s.CreateSource(ctx(t), fullSource("AD"))
	wantErr(t, "CreateSource with a taken name", err, storage.ErrConflict)
	_, err = s.UpdateSource(ctx(t), other.ID, func(src *storage.Source) error { src.Name = "AD"; return nil })
	wantErr(t, "UpdateSource to a taken name", err, storage.ErrConflict)
	if got, _ := s.GetSource(ctx(t), other.ID); got.Name != "Entra" || got.Version != other.Version {
		t.Errorf("after the failed rename: name %q, version %d; want Entra, %d", got.Name, got.Version, other.Version)
	}
	if list, _ := s.ListSources(ctx(t)); len(list) != 2 {
		t.Errorf("ListSources after conflicts: %d sources, want 2", len(list))
	}
}

// testCreateSourceWithID: a caller may choose the id (the API does, to
// seal a new source's secrets for it); a taken id is a conflict.
func testCreateSourceWithID(t *testing.T, s storage.Store) {
	in := fullSource("AD")
	in.ID = storage.NewID()
	got := mustCreateSource(t, s, in)
	if got.ID != in.ID {
		t.Fatalf("CreateSource with id %s stored id %s", in.ID, got.ID)
	}
	if read, err := s.GetSource(ctx(t), in.ID); err != nil || read.Name != "AD" {
		t.Fatalf("GetSource(chosen id) = %q, %v", read.Name, err)
	}
	dup := fullSource("Entra")
	dup.ID = in.ID
	_, err := s.CreateSource(ctx(t), dup)
	wantErr(t, "CreateSource with a taken id", err, storage.ErrConflict)
}

func testUpdateSource(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	var seen storage.Source
	got, err := s.UpdateSource(ctx(t), src.ID, func(u *storage.Source) error {
		seen = *u
		u.Enabled, u.Schedule, u.Secrets = false, "", map[string][]byte{"token": []byte("sealed")}
		u.Link, u.Authoritative = map[string]string{"employeeId": "{employeeNumber}"}, nil
		u.ID, u.Created = "forged", time.Unix(0, 0) // ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateSource: %v", err)
	}
	checkSource(t, "closure input", seen, src)
	want := fullSource("AD")
	want.Enabled, want.Schedule, want.Secrets = false, "", map[string][]byte{"token": []byte("sealed")}
	want.Link, want.Authoritative = map[string]string{"employeeId": "{employeeNumber}"}, nil
	checkSource(t, "UpdateSource result", got, want)
	if stored, _ := s.GetSource(ctx(t), src.ID); !reflect.DeepEqual(stored.Link, want.Link) || stored.Authoritative != nil {
		t.Errorf("GetSource after update: link %v, authoritative %v; want %v and none", stored.Link, stored.Authoritative, want.Link)
	}
	if got.ID != src.ID || !got.Created.Equal(src.Created) || got.Version != src.Version+1 || got.Updated.Before(src.Updated) {
		t.Errorf("UpdateSource: id %q, created %v, version %d, updated %v; want %q, %v, %d, not before %v",
			got.ID, got.Created, got.Version, got.Updated, src.ID, src.Created, src.Version+1, src.Updated)
	}
	if stored, _ := s.GetSource(ctx(t), src.ID); stored.Version != got.Version {
		t.Errorf("GetSource after update: version %d, want %d", stored.Version, got.Version)
	}
	_, err = s.UpdateSource(ctx(t), "00000000-0000-4000-8000-00000000dead", func(*storage.Source) error { return nil })
	wantErr(t, "UpdateSource(unknown)", err, storage.ErrNotFound)
}

func testUpdateSourceClosureError(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	_, err := s.UpdateSource(ctx(t), src.ID, func(u *storage.Source) error { u.Name = "changed"; return errTest })
	wantErr(t, "UpdateSource with a failing closure", err, errTest)
	got, err := s.GetSource(ctx(t), src.ID)
	if err != nil || got.Name != "AD" || got.Version != src.Version {
		t.Errorf("after the failed update: %q, version %d, %v; want AD, %d", got.Name, got.Version, err, src.Version)
	}
}

// Deleting a source removes its runs but keeps the users and groups it
// owns: an admin decides what happens to them.
func testDeleteSource(t *testing.T, s storage.Store) {
	src := mustCreateSource(t, s, fullSource("AD"))
	keep := mustCreateSource(t, s, fullSource("Entra"))
	run := mustCreateRun(t, s, storage.Run{SourceID: src.ID, Trigger: "manual"})
	if err := s.AddChanges(ctx(t), run.ID, []storage.Change{{Seq: 1, Action: storage.ChangeCreate, Kind: "User"}}); err != nil {
		t.Fatalf("AddChanges: %v", err)
	}
	alice := createSynced(t, s, src.Owner(), "alice")["alice"]
	team := syncedGroup(t, s, src.Owner(), groupWrite("Team"))

	if err := s.DeleteSource(ctx(t), src.ID); err != nil {
		t.Fatalf("DeleteSource: %v", err)
	}
	_, err := s.GetSource(ctx(t), src.ID)
	wantErr(t, "GetSource after delete", err, storage.ErrNotFound)
	_, err = s.GetRun(ctx(t), src.ID, run.ID)
	wantErr(t, "GetRun of a deleted source", err, storage.ErrNotFound)
	if runs, err := s.ListRuns(ctx(t), src.ID, 10); err != nil || len(runs) != 0 {
		t.Errorf("ListRuns of a deleted source = %v, %v; want none", runs, err)
	}
	if changes, total, err := s.ListChanges(ctx(t), run.ID, 0, 10); err != nil || total != 0 || len(changes) != 0 {
		t.Errorf("ListChanges of a deleted run = %v, %d, %v; want none", changes, total, err)
	}
	if got := mustGetUser(t, s, alice.ID); got.Owner != src.Owner() {
		t.Errorf("user of the deleted source: owner %q, want %q kept", got.Owner, src.Owner())
	}
	mustGetGroup(t, s, team.ID, false)
	if _, err := s.GetSource(ctx(t), keep.ID); err != nil {
		t.Errorf("GetSource(other source): %v", err)
	}
	wantErr(t, "DeleteSource twice", s.DeleteSource(ctx(t), src.ID), storage.ErrNotFound)
}
