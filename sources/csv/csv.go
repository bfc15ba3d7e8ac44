// Package csv is the csv source kind: users and groups read from CSV (or
// JSON) files on disk, re-read on every run. It is how a newcomer sees
// scimgate sync without a directory, and a real import path for HR
// exports.
//
// Users file (CSV with a header row; columns in any order; externalId and
// userName required):
//
//	externalId,userName,givenName,familyName,displayName,email,active,title,department,employeeNumber,manager
//
// externalId is the stable id, manager the manager's externalId, active
// true or false (empty means true). Groups file:
//
//	externalId,displayName,members
//
// with members as ;-separated user or group externalIds. A .json file holds
// an array of objects with the same field names (members as an array).
//
// Every run is a complete enumeration, so users missing from the file are
// removed per the source's deletion policy. A file that cannot be parsed
// fails the run before anything is written; malformed rows are reported
// with their line numbers (and then the run removes nothing).
package csv

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/scimgate/scimgate/sources"
)

// Kind registers the csv kind, reading files only inside dirs (made
// absolute, symlinks resolved). No dirs means no confinement, for tests and
// library callers; the scimgate binary uses ConfinedKind.
func Kind(dirs ...string) sources.Kind { return ConfinedKind(dirs, nil) }

// ConfinedKind registers the csv kind, reading files only inside dirs,
// never a hidden file there (a name that starts with a dot, at any level
// below the directory) and never one of private, compared by file
// identity: the server's own database and keys, in case a directory it
// allows holds them.
func ConfinedKind(dirs, private []string) sources.Kind {
	allowed, err := ResolveDirs(dirs)
	if err != nil || len(dirs) == 0 {
		allowed = nil
	}
	if err != nil && len(dirs) > 0 {
		// The working directory is gone: allow nothing rather than everything.
		allowed = Dirs{}
	}
	allow := Confinement{dirs: allowed, private: private}
	return sources.Kind{
		New:         func() sources.Config { return &Config{allow: allow} },
		Description: "Users and groups from CSV or JSON files on the server's disk, re-read on every run.",
		UserMapping: sources.Mapping{
			"externalId":                "{externalId}",
			"userName":                  "{userName}",
			"name.givenName":            "{givenName}",
			"name.familyName":           "{familyName}",
			"displayName":               "{displayName}",
			"emails.work":               "{email}",
			"active":                    "{active}",
			"title":                     "{title}",
			"enterprise.department":     "{department}",
			"enterprise.employeeNumber": "{employeeNumber}",
			"enterprise.manager":        "{manager}",
		},
		GroupMapping: sources.Mapping{
			"displayName": "{displayName}",
			"externalId":  "{externalId}",
		},
	}
}

// UserColumns are the columns a users file may have.
var UserColumns = []string{"externalId", "userName", "givenName", "familyName", "displayName", "email", "active", "title", "department", "employeeNumber", "manager"}

// GroupColumns are the columns a groups file may have.
var GroupColumns = []string{"externalId", "displayName", "members"}

// Config is the csv kind's settings.
type Config struct {
	UsersPath  string `json:"usersPath" type:"path" required:"true" example:"/data/users.csv" help:"Absolute path of the users file on the server, .csv (a header row, then one user a row; externalId and userName columns required) or .json (an array of objects with the same names). It must be inside one of the server's csvDirs; it is read on every run, so it may be written after the source is added."`
	GroupsPath string `json:"groupsPath,omitempty" type:"path" example:"/data/groups.csv" help:"Absolute path of the groups file, .csv with columns externalId, displayName and members (user or group externalIds separated by ;) or .json with members as an array. Leave empty to sync users only. Same rules as usersPath."`

	allow Confinement // which files may be read
}

// Validate checks the settings; files are checked when the source runs
// (they may be written after the source is configured).
func (c *Config) Validate() sources.FieldErrors {
	var errs sources.FieldErrors
	if strings.TrimSpace(c.UsersPath) == "" {
		errs.Add("usersPath", "required: the path of the users file (.csv or .json)")
	} else if !filepath.IsAbs(c.UsersPath) {
		errs.Add("usersPath", "must be an absolute path (the server's working directory is not the admin's)")
	} else if problem := c.allow.check(c.UsersPath); problem != "" {
		errs.Add("usersPath", "%s", problem)
	}
	if c.GroupsPath != "" && !filepath.IsAbs(c.GroupsPath) {
		errs.Add("groupsPath", "must be an absolute path")
	} else if problem := c.allow.check(c.GroupsPath); c.GroupsPath != "" && problem != "" {
		errs.Add("groupsPath", "%s", problem)
	}
	return errs
}

// Open returns the source.
func (c *Config) Open(env sources.Env) (sources.Source, error) {
	env = env.WithDefaults()
	return &csvSource{cfg: *c, log: env.Logger, upstream: env.Upstream}, nil
}

type csvSource struct {
	cfg Config
	log *slog.Logger
	// upstream is told whether each file could be opened: a file read is
	// this kind's upstream request.
	upstream sources.UpstreamObserver
}

// open opens one of the source's files and reports the outcome.
func (s *csvSource) open(path string) (io.ReadCloser, error) {
	f, err := s.cfg.allow.open(path)
	if err != nil {
		s.upstream.ObserveUpstream(sources.UpstreamError)
		return nil, err
	}
	s.upstream.ObserveUpstream(sources.UpstreamOK)
	return f, nil
}

var (
	_ sources.Source = (*csvSource)(nil)
	_ sources.Tester = (*csvSource)(nil)
)

// pageSize is how many records go to the engine at a time.
const pageSize = 500

// Test checks that the files exist and their headers are right.
func (s *csvSource) Test(ctx context.Context) error {
	if err := checkHeader(s.open, s.cfg.UsersPath, UserColumns, []string{"externalId", "userName"}); err != nil {
		return err
	}
	if s.cfg.GroupsPath != "" {
		return checkHeader(s.open, s.cfg.GroupsPath, GroupColumns, []string{"externalId", "displayName"})
	}
	return nil
}

// Sync reads the files twice: once to prove they parse, so a broken file
// fails the run before anything is written, then to stream the records.
func (s *csvSource) Sync(ctx context.Context, _ sources.Request, out sources.Sink) (sources.Result, error) {
	discard := &countSink{}
	if err := s.stream(ctx, discard); err != nil {
		return sources.Result{}, err
	}
	if err := s.stream(ctx, out); err != nil {
		return sources.Result{}, err
	}
	return sources.Result{Complete: true}, nil
}

func (s *csvSource) stream(ctx context.Context, out sources.Sink) error {
	if err := readUsers(ctx, s.open, s.cfg.UsersPath, out); err != nil {
		return err
	}
	if s.cfg.GroupsPath != "" {
		return readGroups(ctx, s.open, s.cfg.GroupsPath, out)
	}
	return nil
}

// countSink swallows records during the validation pass.
type countSink struct{}

func (countSink) Users(context.Context, []sources.UserRecord) error   { return nil }
func (countSink) Groups(context.Context, []sources.GroupRecord) error { return nil }
func (countSink) Deletions(context.Context, []sources.Deletion) error { return nil }
func (countSink) Problem(context.Context, sources.Problem) error      { return nil }
