package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// UserDoc is a user as a list returns it: the stored JSON document (the
// encoding of User) plus the fields kept beside it. Serving lists from the
// document avoids decoding and re-encoding every row.
type UserDoc struct {
	ID    string
	Owner string
	Meta  Meta
	JSON  []byte
	// Departed is set on a view read (Query.View) for a user who left the
	// view within its leave grace: the app sees them as active false,
	// whatever JSON says.
	Departed bool
}

// Decode turns the document back into a User.
func (d UserDoc) Decode() (User, error) {
	var u User
	if err := json.Unmarshal(d.JSON, &u); err != nil {
		return User{}, fmt.Errorf("storage: decode user %s: %w", d.ID, err)
	}
	u.ID, u.Owner, u.Meta = d.ID, d.Owner, d.Meta
	if d.Departed {
		u.Active = false
	}
	return u, nil
}

// UserPage is one page of a user query.
type UserPage struct {
	Total  int // every match, not just this page; -1 with Query.NoTotal
	Users  []UserDoc
	Bounds PageBounds
}

// GroupPage is one page of a group query.
type GroupPage struct {
	Total  int
	Groups []Group
	Bounds PageBounds
}

// Check inspects the current state of a resource inside the write
// transaction, before anything changes; a non-nil error aborts the write
// and is returned as is. It is where callers enforce ownership and If-Match.
type Check func(owner string, meta Meta) error

// UserStore reads and writes users.
type UserStore interface {
	// CreateUser stores u with a new id and fresh meta (version 1) and
	// returns what was stored. ErrConflict if the userName is taken
	// (case-insensitively).
	CreateUser(ctx context.Context, u User) (User, error)
	// CreateUsers stores many users in one transaction (the bulk path a
	// sync uses): all of them or, on any error, none. Ids and meta are set
	// as in CreateUser and the stored users are returned in order.
	CreateUsers(ctx context.Context, users []User) ([]User, error)
	// GetUser returns one user. ErrNotFound if there is none.
	GetUser(ctx context.Context, id string) (User, error)
	// UpdateUser runs update on the current user inside a transaction and
	// stores the result with the version increased, unless update returns an
	// error, which is returned and leaves the store unchanged. The id,
	// owner and created time cannot be changed by update. ErrNotFound,
	// ErrConflict as for CreateUser.
	UpdateUser(ctx context.Context, id string, update func(*User) error) (User, error)
	// DeleteUser removes a user and its group memberships after check
	// (which may be nil) has passed. ErrNotFound if there is none.
	DeleteUser(ctx context.Context, id string, check Check) error
	// ListUsers returns one page of the users matching q, with the total
	// count of matches. ErrInvalid for a filter or sort it cannot run.
	ListUsers(ctx context.Context, q Query) (UserPage, error)
}

// GroupStore reads and writes groups and their members.
type GroupStore interface {
	// CreateGroup stores g and its members. ErrConflict if another group has
	// the same displayName (case-insensitively); ErrInvalid if a member does
	// not exist.
	CreateGroup(ctx context.Context, g Group) (Group, error)
	// GetGroup returns one group, with its members when withMembers is set.
	GetGroup(ctx context.Context, id string, withMembers bool) (Group, error)
	// UpdateGroup runs update inside a transaction on the current group
	// (members loaded only when loadMembers is set). update may change the
	// group's own attributes and returns the membership edits to apply;
	// only the membership rows named there are touched. The version
	// increases whenever anything changed. The group returned carries no
	// members (GetGroup reads them), so that changing one membership of a
	// large group costs the same as of a small one. Errors as for
	// CreateGroup.
	UpdateGroup(ctx context.Context, id string, loadMembers bool, update func(*Group) (MemberChange, error)) (Group, error)
	// DeleteGroup removes a group, its member rows and its membership in
	// other groups after check (may be nil) has passed.
	DeleteGroup(ctx context.Context, id string, check Check) error
	// ListGroups returns one page of matching groups, each with its
	// members when withMembers is set.
	ListGroups(ctx context.Context, q Query, withMembers bool) (GroupPage, error)
	// GroupMembers returns one page of a group's direct members, in the
	// order GetGroup lists them, with displays filled, and how many there
	// are in all; reading a page of a large group costs a page, not the
	// group. ErrNotFound if there is no such group.
	GroupMembers(ctx context.Context, groupID string, offset, limit int) ([]Member, int, error)
}

// Role says what a token may do.
type Role string

// Token roles.
const (
	RoleReader Role = "reader" // read /scim/v2
	RoleWriter Role = "writer" // read and write /scim/v2, owning what it writes
	RoleAdmin  Role = "admin"  // the config API
)

// Roles are the token roles, least power first: the one list forms and
// checks derive from.
var Roles = []Role{RoleReader, RoleWriter, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Token is an API credential. Only a hash of its secret is stored.
type Token struct {
	ID        string
	Name      string
	Role      Role
	Hash      []byte // SHA-256 of the secret part
	CreatedAt time.Time
	LastUsed  time.Time // zero until TouchToken records a use
	// App, for a reader token, is the id of the application whose view it
	// reads; empty reads the whole directory. Deleting the app deletes
	// the token.
	App string
}

// ClientOwnerPrefix starts the owner tag of resources a push client (a
// writer token) writes through /scim/v2.
const ClientOwnerPrefix = "scim:"

// Owner is the ownership tag of resources this token writes. It follows the
// name, so a token rotated under the same name keeps its resources.
func (t Token) Owner() string { return ClientOwnerPrefix + t.Name }

// TokenStore keeps API tokens.
type TokenStore interface {
	// CreateToken stores t (ID and Hash set by the caller). ErrConflict if
	// the name is taken.
	CreateToken(ctx context.Context, t Token) (Token, error)
	// GetToken returns a token by id. ErrNotFound if there is none.
	GetToken(ctx context.Context, id string) (Token, error)
	// ListTokens returns every token, oldest first.
	ListTokens(ctx context.Context) ([]Token, error)
	// DeleteToken revokes a token by name. ErrNotFound if there is none.
	DeleteToken(ctx context.Context, name string) error
	// TouchToken records that the token was used at at; an earlier at than
	// the one recorded changes nothing. ErrNotFound if there is none.
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// Clock is the time a store stamps on what it writes: lastModified,
// deactivation times, run, source and token times. Whatever measures
// against those stamps (deletion grace periods, back-offs, run times) reads
// the same clock, so two clocks never meet in one comparison.
type Clock interface {
	// Now is the current time as the store stamps it.
	Now() time.Time
}

// Store is everything a scimgate database offers.
type Store interface {
	Clock
	UserStore
	GroupStore
	TokenStore
	SourceStore
	RunStore
	SyncStore
	AuditStore
	AppStore
	PushStore
	ConsoleSessionStore
	LinkStore
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}
