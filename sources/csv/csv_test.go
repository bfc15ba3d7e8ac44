package csv_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t *testing.T, users, groups string) sources.Source {
	t.Helper()
	cfg := &csv.Config{UsersPath: users, GroupsPath: groups}
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatalf("validate: %v", errs)
	}
	src, err := cfg.Open(sources.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestReadsUsersAndGroups(t *testing.T) {
	users := write(t, "users.csv", "\ufeffexternalId,userName,givenName,familyName,email,active,manager\n"+
		"e1,ann@example.com,Ann,Lee,ann@example.com,true,\n"+
		"e2,bob@example.com,Bob,\"Smith, Jr\",bob@example.com,false,e1\n")
	groups := write(t, "groups.csv", "externalId,displayName,members\ng1,Sales,e1; e2;g2\ng2,Empty,\n")
	rec := &sourcetest.Recorder{}
	res, err := open(t, users, groups).Sync(context.Background(), sources.Request{}, rec)
	if err != nil || !res.Complete {
		t.Fatalf("sync: %+v %v", res, err)
	}
	if len(rec.Got.Users) != 2 || rec.Got.Users[1].Key != "e2" || rec.Got.Users[1].Attrs["familyName"] != "Smith, Jr" ||
		rec.Got.Users[1].Attrs["active"] != "false" || rec.Got.Users[1].Attrs["manager"] != "e1" {
		t.Errorf("users = %+v", rec.Got.Users)
	}
	if len(rec.Got.Groups) != 2 || !reflect.DeepEqual(rec.Got.Groups[0].Members, []string{"e1", "e2", "g2"}) || !rec.Got.Groups[0].MembersComplete ||
		len(rec.Got.Groups[1].Members) != 0 {
		t.Errorf("groups = %+v", rec.Got.Groups)
	}
}

func TestReadsJSON(t *testing.T) {
	users := write(t, "users.json", `[{"externalId":"e1","userName":"ann@example.com","active":false},{"externalId":"e2","userName":"bob@example.com"}]`)
	groups := write(t, "groups.json", `[{"externalId":"g1","displayName":"Sales","members":["e1","e2"]}]`)
	rec := &sourcetest.Recorder{}
	if _, err := open(t, users, groups).Sync(context.Background(), sources.Request{}, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Got.Users) != 2 || rec.Got.Users[0].Attrs["active"] != "false" || len(rec.Got.Groups) != 1 || len(rec.Got.Groups[0].Members) != 2 {
		t.Errorf("users %+v groups %+v", rec.Got.Users, rec.Got.Groups)
	}
}

func TestMalformedRowsAreReportedWithLines(t *testing.T) {
	users := write(t, "users.csv", "externalId,userName,active\n"+
		"e1,ann@example.com,true\n"+
		",nobody@example.com,true\n"+
		"e3,,true\n"+
		"e4,dan@example.com,maybe\n"+
		"e5,eve@example.com\n"+
		"e6,fay@example.com,false\n")
	rec := &sourcetest.Recorder{}
	if _, err := open(t, users, "").Sync(context.Background(), sources.Request{}, rec); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rec.Got.Problems {
		got = append(got, p.Where+": "+p.Message)
	}
	want := []string{
		"users.csv line 3: externalId is empty",
		"users.csv line 4: userName is empty",
		"users.csv line 5: active must be true, false or empty",
		"users.csv line 6: 2 fields, the header has 3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(rec.Got.Users) != 2 {
		t.Errorf("%d users, want e1 and e6", len(rec.Got.Users))
	}
}

// TestBrokenFilesFailBeforeAnyRecord: a file that cannot be parsed sends
// nothing at all, so the run fails without touching the directory.
func TestBrokenFilesFailBeforeAnyRecord(t *testing.T) {
	ok := "externalId,userName\ne1,a@example.com\n"
	for _, tc := range []struct {
		name, users, groups, wantErr string
	}{
		{"unknown columns are named", "externalId,userName,shoeSize,hat\ne1,a@x,42,no\n", "", "line 1: header columns 3, 4 are not known columns"},
		{"missing required column", "externalId,email\ne1,a@x\n", "", "missing required columns userName"},
		{"bare quote late in the file", ok + "e2,b\"ad@example.com\n", "", `bare " in non-quoted-field`},
		{"empty file", "", "", "is empty; it needs a header row"},
		{"broken groups file after good users", ok, "externalId,displayName,members\ng1,\"unterminated\n", "extraneous or missing"},
		{"missing file", "", "", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users := filepath.Join(t.TempDir(), "absent.csv")
			if tc.wantErr != "does not exist" {
				users = write(t, "users.csv", tc.users)
			}
			groups := ""
			if tc.groups != "" {
				groups = write(t, "groups.csv", tc.groups)
			}
			rec := &sourcetest.Recorder{}
			_, err := open(t, users, groups).Sync(context.Background(), sources.Request{}, rec)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if len(rec.Got.Users)+len(rec.Got.Groups) != 0 {
				t.Errorf("records were sent before the failure: %d users", len(rec.Got.Users))
			}
		})
	}
}

func TestValidate(t *testing.T) {
	errs := (&csv.Config{GroupsPath: "rel/groups.csv"}).Validate()
	if errs["usersPath"] == "" || errs["groupsPath"] == "" {
		t.Errorf("errs = %v", errs)
	}
}
