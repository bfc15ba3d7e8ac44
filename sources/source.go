// Package sources is the contract every upstream directory implements
// (AD over LDAP, Entra ID, Okta, CSV files): the records a source streams,
// the Sink it streams them into, Source and Tester, the Config a kind
// decodes and opens with an Env (logger, clock, HTTP client, upstream
// observer: the only way a connector gets them), the Registry of kinds,
// the attribute mapping templates and the errors connectors return.
//
// A source streams; it never holds a whole directory in memory and never
// touches the store. The machinery that applies what it streams (mapping,
// batched writes, deletions behind the guard, runs and schedules) is
// package sources/engine, which no connector imports. Every connector
// passes the conformance suite in sources/sourcetest.
package sources

import "context"

// UserRecord is one user as a source sees it.
type UserRecord struct {
	// Key is the source's stable id (objectGUID, Graph id, Okta id, the
	// CSV externalId): never a DN or an email, which change.
	Key string
	// Attrs are the source's attributes by name; mapping templates refer to
	// them as {name}. The reserved name "active" carries "true"/"false".
	Attrs map[string]string
}

// GroupRecord is one group as a source sees it. Member keys name users or
// groups of the same source.
type GroupRecord struct {
	Key   string
	Attrs map[string]string
	// Members is the complete list of direct member keys when
	// MembersComplete is set; otherwise Add and Remove are changes.
	Members         []string
	MembersComplete bool
	AddMembers      []string
	RemoveMembers   []string
}

// Record kinds.
const (
	KindUser  = "User"
	KindGroup = "Group"
)

// Deletion is an explicit removal reported by a delta.
type Deletion struct {
	Kind string // KindUser or KindGroup
	Key  string
	// Soft says the upstream only disabled or soft-deleted the object: it
	// is deactivated whatever the deletion policy says.
	Soft bool
}

// Problem is a record the source could not read (a malformed CSV row, an
// LDAP entry without a GUID). It is reported in the run; the run goes on,
// but an enumeration with problems is no longer complete, so it deletes
// nothing.
type Problem struct {
	Where   string // e.g. "users.csv line 7"
	Message string
}

// Sink receives what a source streams, page by page. An error from a Sink
// method means the run must stop; the source returns it. Methods are
// called from one goroutine at a time. The engine's sink keeps the records
// (it writes them while the source reads on) but not the page slice, so a
// source may reuse the slice and must not change a record once sent.
type Sink interface {
	Users(ctx context.Context, page []UserRecord) error
	Groups(ctx context.Context, page []GroupRecord) error
	Deletions(ctx context.Context, d []Deletion) error
	Problem(ctx context.Context, p Problem) error
}

// Request is what a run asks of a source.
type Request struct {
	// Cursor is the opaque position saved by the last good run; nil on
	// the first run.
	Cursor []byte
	// Full asks for a complete enumeration even when Cursor is set.
	Full bool
}

// Result is how an enumeration ended.
type Result struct {
	// Complete says the source sent everything it has (a full snapshot),
	// so anything it did not send has gone.
	Complete bool
	// Cursor is the new opaque position, saved only with a successful run.
	Cursor []byte
	// Notes are told to the admin in the run (e.g. "delta token expired:
	// full resync").
	Notes []string
}

// Source is an opened upstream directory.
type Source interface {
	Sync(ctx context.Context, req Request, out Sink) (Result, error)
}

// Tester is implemented by sources that can check connectivity and
// credentials without syncing. The error says precisely what failed.
type Tester interface {
	Test(ctx context.Context) error
}

// Config is a kind's settings, decoded from the source's JSON settings
// (secrets merged in). Validate reports every problem at once. Open
// returns the source, using env's services (see Env) for its logging,
// time, HTTP and request metrics; it contacts nothing yet.
type Config interface {
	Validate() FieldErrors
	Open(env Env) (Source, error)
}

// MappingUser is implemented by configs that fetch only what the mapping
// reads (the ldap kind asks the directory for exactly the attributes the
// templates name). Prepare calls it with the effective mappings, defaults
// merged with the source's overrides, once they validate.
type MappingUser interface {
	UseMappings(user, group Mapping)
}

// Kind describes one source kind in the registry.
type Kind struct {
	// New returns an empty config to decode settings into. Its struct's
	// fields and tags are the description of the kind's settings
	// (Settings, Secrets; see Describe).
	New func() Config
	// UserMapping and GroupMapping are the default attribute mappings.
	UserMapping  Mapping
	GroupMapping Mapping
	// Description is shown in the API.
	Description string
}

// Registry maps kind names (csv, ldap, entra, okta) to kinds. The complete
// list is assembled in one place (the command's wiring), and tests can
// build their own.
type Registry map[string]Kind
