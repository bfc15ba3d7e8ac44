package storetest

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var tokenTests = []subtest{
	{"Ping", testPing},
	{"CreateGetList", testTokens},
	{"DuplicateName", testTokenDuplicateName},
	{"Delete", testDeleteToken},
	{"TouchToken", testTouchToken},
}

// token builds a token as api.NewToken would (CreatedAt set by the caller,
// at full clock resolution).
func token(id, name string, role storage.Role, created time.Time) storage.Token {
	sum := sha256.Sum256([]byte("secret-of-" + id))
	return storage.Token{ID: id, Name: name, Role: role, Hash: sum[:], CreatedAt: created.UTC()}
}

// checkToken compares a token read back with the one the caller created.
// A store may keep CreatedAt at a coarser resolution (down to
// milliseconds), so CreatedAt need only lie within a millisecond.
func checkToken(t *testing.T, what string, got, want storage.Token) {
	t.Helper()
	d := got.CreatedAt.Sub(want.CreatedAt)
	if got.ID != want.ID || got.Name != want.Name || got.Role != want.Role ||
		!bytes.Equal(got.Hash, want.Hash) || d <= -time.Millisecond || d >= time.Millisecond {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// checkStoredToken compares two reads of the same stored token exactly.
func checkStoredToken(t *testing.T, what string, got, want storage.Token) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Role != want.Role ||
		!bytes.Equal(got.Hash, want.Hash) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("%s = %+v, want %+v (as CreateToken returned it)", what, got, want)
	}
}

func testPing(t *testing.T, s storage.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testTokens(t *testing.T, s storage.Store) {
	list, err := s.ListTokens(ctx(t))
	if err != nil || len(list) != 0 {
		t.Fatalf("ListTokens on empty store = %v, %v; want none", list, err)
	}
	base := time.Now().Add(-time.Hour)
	want := []storage.Token{
		token("a1b2c3d4e5f6", "ci", storage.RoleWriter, base),
		token("0123456789ab", "reader", storage.RoleReader, base.Add(time.Minute)),
		token("ffffffffffff", "admin", storage.RoleAdmin, base.Add(2*time.Minute)),
	}
	var stored []storage.Token
	for _, tok := range want {
		got, err := s.CreateToken(ctx(t), tok)
		if err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Name, err)
		}
		checkToken(t, "CreateToken("+tok.Name+")", got, tok)
		stored = append(stored, got)
	}
	for i, tok := range stored {
		got, err := s.GetToken(ctx(t), tok.ID)
		if err != nil {
			t.Fatalf("GetToken(%s): %v", tok.ID, err)
		}
		checkStoredToken(t, "GetToken("+tok.ID+")", got, tok)
		checkToken(t, "GetToken("+tok.ID+")", got, want[i])
		if got.Owner() != "scim:"+tok.Name {
			t.Errorf("Owner() = %q", got.Owner())
		}
	}
	list, err = s.ListTokens(ctx(t))
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if len(list) != len(want) {
		t.Fatalf("ListTokens: %d tokens, want %d", len(list), len(want))
	}
	for i := range stored {
		checkStoredToken(t, "ListTokens (oldest first) item", list[i], stored[i])
	}
	_, err = s.GetToken(ctx(t), "000000000000")
	wantErr(t, "GetToken(unknown)", err, storage.ErrNotFound)
}

func testTokenDuplicateName(t *testing.T, s storage.Store) {
	now := time.Now()
	first := token("aaaaaaaaaaaa", "ci", storage.RoleWriter, now)
	if _, err := s.CreateToken(ctx(t), first); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	dup := token("bbbbbbbbbbbb", "ci", storage.RoleReader, now.Add(time.Second))
	_, err := s.CreateToken(ctx(t), dup)
	wantErr(t, "CreateToken with a taken name", err, storage.ErrConflict)
	_, err = s.GetToken(ctx(t), dup.ID)
	wantErr(t, "GetToken(rejected duplicate)", err, storage.ErrNotFound)
	list, err := s.ListTokens(ctx(t))
	if err != nil || len(list) != 1 {
		t.Fatalf("ListTokens after duplicate = %v, %v; want the first only", list, err)
	}
	checkToken(t, "remaining token", list[0], first)
}

func testDeleteToken(t *testing.T, s storage.Store) {
	now := time.Now()
	keep := token("aaaaaaaaaaaa", "keep", storage.RoleReader, now)
	gone := token("bbbbbbbbbbbb", "gone", storage.RoleWriter, now.Add(time.Second))
	for _, tok := range []storage.Token{keep, gone} {
		if _, err := s.CreateToken(ctx(t), tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Name, err)
		}
	}
	if err := s.DeleteToken(ctx(t), "gone"); err != nil {
		t.Fatalf("DeleteToken(gone): %v", err)
	}
	_, err := s.GetToken(ctx(t), gone.ID)
	wantErr(t, "GetToken after delete", err, storage.ErrNotFound)
	if _, err := s.GetToken(ctx(t), keep.ID); err != nil {
		t.Errorf("GetToken(keep) after deleting another: %v", err)
	}
	list, err := s.ListTokens(ctx(t))
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	var names []string
	for _, tok := range list {
		names = append(names, tok.Name)
	}
	if !slices.Equal(names, []string{"keep"}) {
		t.Errorf("ListTokens after delete = %v, want [keep]", names)
	}
	err = s.DeleteToken(ctx(t), "gone")
	wantErr(t, "DeleteToken twice", err, storage.ErrNotFound)
	err = s.DeleteToken(ctx(t), "never-existed")
	wantErr(t, "DeleteToken(unknown)", err, storage.ErrNotFound)

	// The name can be reused after revocation (rotation keeps the owner).
	again := token("cccccccccccc", "gone", storage.RoleWriter, now.Add(2*time.Second))
	if _, err := s.CreateToken(ctx(t), again); err != nil {
		t.Fatalf("CreateToken(reused name): %v", err)
	}
	got, err := s.GetToken(ctx(t), again.ID)
	if err != nil {
		t.Fatalf("GetToken(reused name): %v", err)
	}
	checkToken(t, "GetToken(reused name)", got, again)
}

func testTouchToken(t *testing.T, s storage.Store) {
	created := time.Now().Add(-time.Hour)
	tok, err := s.CreateToken(ctx(t), token("aaaaaaaaaaaa", "ci", storage.RoleWriter, created))
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	lastUsed := func() time.Time {
		t.Helper()
		got, err := s.GetToken(ctx(t), tok.ID)
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		list, err := s.ListTokens(ctx(t))
		if err != nil || len(list) != 1 || !list[0].LastUsed.Equal(got.LastUsed) {
			t.Fatalf("ListTokens = %+v, %v; want LastUsed %v as GetToken says", list, err, got.LastUsed)
		}
		return got.LastUsed
	}
	if got := lastUsed(); !got.IsZero() {
		t.Errorf("LastUsed of an unused token = %v, want zero", got)
	}
	used := time.Now()
	for _, step := range []struct {
		at, want time.Time
	}{
		{used, used},
		{used.Add(-time.Minute), used}, // an older report does not move it back
		{used.Add(time.Minute), used.Add(time.Minute)},
	} {
		if err := s.TouchToken(ctx(t), tok.ID, step.at); err != nil {
			t.Fatalf("TouchToken(%v): %v", step.at, err)
		}
		if got := lastUsed(); got.Sub(step.want).Abs() >= time.Millisecond {
			t.Errorf("after TouchToken(%v): LastUsed = %v, want %v", step.at, got, step.want)
		}
	}
	wantErr(t, "TouchToken(unknown)", s.TouchToken(ctx(t), "000000000000", used), storage.ErrNotFound)
}
