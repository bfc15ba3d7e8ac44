package storage

import (
	"context"
	"encoding/json"
	"time"
)

// Deletion policies: what happens to users a source no longer has.
const (
	// PolicyDeactivate sets active=false; with GraceDays > 0 the user is
	// deleted once it has been deactivated that long.
	PolicyDeactivate = "deactivate"
	// PolicyDelete deactivates and then deletes after GraceDays; with
	// GraceDays 0 the user is deleted in the same run.
	PolicyDelete = "delete"
)

// DeletionPolicy says how a source's disappearances are applied and how
// much one run may remove before an admin has to approve it.
type DeletionPolicy struct {
	Policy     string  `json:"policy"`
	MaxPercent float64 `json:"maxPercent"` // of the source's users; 0 means no percent limit
	MaxCount   int     `json:"maxCount"`   // 0 means no count limit
	GraceDays  int     `json:"graceDays"`
}

// SourceHealth is the scheduler's view of a source.
type SourceHealth struct {
	ConsecutiveFailures int       `json:"consecutiveFailures"`
	Unhealthy           bool      `json:"unhealthy"`
	LastError           string    `json:"lastError,omitempty"`
	LastRunAt           time.Time `json:"lastRunAt,omitzero"`
	LastSuccessAt       time.Time `json:"lastSuccessAt,omitzero"`
	LastFullAt          time.Time `json:"lastFullAt,omitzero"` // last complete enumeration
	BackoffUntil        time.Time `json:"backoffUntil,omitzero"`
}

// SourceMapping overrides a kind's default attribute mappings, for users
// and for groups: target attribute -> template, where "" removes the
// kind's default for that target.
type SourceMapping struct {
	User  map[string]string `json:"user,omitempty"`
	Group map[string]string `json:"group,omitempty"`
}

// MaxNameChars bounds the names of sources and tokens.
const MaxNameChars = 128

// Source is a configured upstream directory (a pull source).
type Source struct {
	ID       string
	Name     string
	Kind     string
	Enabled  bool
	Schedule string // an interval such as "15m" or a cron expression; "" means manual only
	// Settings holds the kind's settings without its secrets.
	Settings json.RawMessage
	// Secrets holds the kind's secret settings by name, sealed (encrypted)
	// by the caller; the store never sees them in the clear.
	Secrets map[string][]byte
	// Mapping overrides the kind's default attribute mappings.
	Mapping SourceMapping
	// Scope is a filter on source attributes; records outside it are
	// treated as absent. "" imports everything.
	Scope      string
	Deletion   DeletionPolicy
	Precedence int // lower wins when two sources claim one userName
	// Link names this source's link keys (storage/link.go) and the
	// mapping template that computes each from the source's attributes.
	// A source with link keys contributes to people instead of owning
	// users; nil or empty: a plain source.
	Link map[string]string
	// Authoritative are the attributes (MergeAttributes paths) this
	// source wins on a linked person whenever it has a value.
	Authoritative []string
	// Cursor is the opaque position saved by the last good run.
	Cursor  []byte
	Health  SourceHealth
	Created time.Time
	Updated time.Time
	Version int64
}

// SourceOwnerPrefix starts the owner tag of resources a pull source owns.
const SourceOwnerPrefix = "source:"

// Owner is the ownership tag of the resources this source writes.
func (s Source) Owner() string { return SourceOwnerPrefix + s.ID }

// SourceStore keeps source configurations.
type SourceStore interface {
	// CreateSource stores src (version 1) under src.ID, or under a new ID
	// when src.ID is empty (a caller that must know the id first, to seal
	// the source's secrets for it, takes one from NewID). ErrConflict if the
	// name or the id is taken.
	CreateSource(ctx context.Context, src Source) (Source, error)
	// GetSource returns one source. ErrNotFound if there is none.
	GetSource(ctx context.Context, id string) (Source, error)
	// ListSources returns every source, oldest first.
	ListSources(ctx context.Context) ([]Source, error)
	// UpdateSource runs update on the current source inside a transaction
	// and stores the result with the version increased; an error from
	// update is returned and changes nothing. ID and Created are kept.
	// ErrNotFound, ErrConflict (name).
	UpdateSource(ctx context.Context, id string, update func(*Source) error) (Source, error)
	// DeleteSource removes a source and its runs. The users and groups it
	// owns stay (an admin decides what to do with them). ErrNotFound.
	DeleteSource(ctx context.Context, id string) error
}

// AuditEntry records one configuration change or token action.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // the token name that acted, or "cli"
	Action string    `json:"action"` // e.g. source.create, token.revoke
	Target string    `json:"target"` // e.g. the source id or token name
	Detail string    `json:"detail,omitempty"`
}

// AuditQuery selects audit entries. Zero fields select everything.
type AuditQuery struct {
	// Limit is the most entries to return (zero or less: the store's
	// default page).
	Limit int
	// Before keeps entries with a smaller ID (0: from the newest); the
	// last ID of a page is the next page's Before.
	Before int64
	// Actor and Target keep the entries with exactly that actor or target.
	Actor, Target string
	// Since keeps entries at or after it, Until those before it.
	Since, Until time.Time
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AddAudit appends an entry; ID and (when zero) At are set by the store.
	AddAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns the entries q selects, newest (highest ID) first;
	// an empty list, not nil, when none match.
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}
