package csv_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		New:           newFiles,
		PageSize:      500,
		IsUnreachable: func(err error) bool { return errors.Is(err, fs.ErrNotExist) },
	})
}

// files is a users and a groups file the harness rewrites before every
// open.
type files struct {
	t          *testing.T
	dir        string
	users      []string // rows after the header
	groups     []string
	usersPath  string
	groupsPath string
}

func newFiles(t *testing.T) sourcetest.Upstream {
	dir := t.TempDir()
	return &files{t: t, dir: dir, usersPath: filepath.Join(dir, "users.csv"), groupsPath: filepath.Join(dir, "groups.csv")}
}

func (f *files) AddUser(i int) string {
	key := fmt.Sprintf("e%05d", i)
	f.users = append(f.users, fmt.Sprintf("%s,user%d@example.com,Given%d,Family%d,Engineer", key, i, i, i))
	return key
}

func (f *files) AddGroup(name string, members ...string) string {
	key := "g-" + strings.ToLower(name)
	f.groups = append(f.groups, fmt.Sprintf("%s,%s,%s", key, name, strings.Join(members, ";")))
	return key
}

func (f *files) row(key string) int {
	i := slices.IndexFunc(f.users, func(r string) bool { return strings.HasPrefix(r, key+",") })
	if i < 0 {
		f.t.Fatalf("no user %s", key)
	}
	return i
}

func (f *files) ChangeUser(key string) {
	i := f.row(key)
	f.users[i] = strings.TrimSuffix(f.users[i], ",Engineer") + ",Manager"
}

func (f *files) DeleteUser(key string) { f.users = slices.Delete(f.users, f.row(key), f.row(key)+1) }

func (f *files) AddMalformed() { f.users = append(f.users, "e-broken,,No,Name,Engineer") }

func (f *files) BreakCredentials() { f.t.Fatal("csv has no credentials") }

func (f *files) BreakHost() { f.usersPath = filepath.Join(f.dir, "missing", "users.csv") }

func (f *files) Open(env sources.Env) sources.Source {
	write := func(path, header string, rows []string) {
		if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(rows, "\n")+"\n"), 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.t.Fatal(err)
		}
	}
	write(f.usersPath, "externalId,userName,givenName,familyName,title", f.users)
	write(f.groupsPath, "externalId,displayName,members", f.groups)
	src, err := (&csv.Config{UsersPath: f.usersPath, GroupsPath: f.groupsPath}).Open(env)
	if err != nil {
		f.t.Fatal(err)
	}
	return src
}
