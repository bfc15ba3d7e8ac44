package okta

import (
	"encoding/json"
	"fmt"
	"time"
)

// cursorVersion is bumped whenever the cursor's meaning changes; a cursor
// of another version makes the next run a full one.
const cursorVersion = 1

// overlap is subtracted from the watermarks when they are used: changes
// committed while a listing ran, or visible a little late, are read again
// rather than missed. Re-reading a record that did not change costs a
// hash comparison in the engine.
const overlap = 2 * time.Minute

// cursor is the position saved after a good run, as JSON:
//
//	{"v":1,"org":"https://acme.okta.com","scope":"9f2c...","usersSince":"...","groupsSince":"...","lastFull":"..."}
//
// usersSince and groupsSince are the server's time (its Date header) when
// the run began: the next run asks for changes after them, less the
// overlap. lastFull is when the last full reconcile ran (our clock); the
// source itself decides when the next one is due. org and scope tie the
// position to the org and the group scoping it was taken with.
type cursor struct {
	Version     int       `json:"v"`
	Org         string    `json:"org"`
	Scope       string    `json:"scope"`
	UsersSince  time.Time `json:"usersSince"`
	GroupsSince time.Time `json:"groupsSince"`
	LastFull    time.Time `json:"lastFull"`
}

func (c cursor) encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("okta: encode cursor: %v", err)) // plain fields cannot fail
	}
	return b
}

// decodeCursor reads a saved cursor; nil input means no cursor.
func decodeCursor(raw []byte) (*cursor, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if c.Version != cursorVersion {
		return nil, fmt.Errorf("version %d, this scimgate writes version %d", c.Version, cursorVersion)
	}
	if c.UsersSince.IsZero() || c.GroupsSince.IsZero() || c.LastFull.IsZero() {
		return nil, fmt.Errorf("incomplete")
	}
	return &c, nil
}

// plan decides whether a run enumerates everything, and says why.
func plan(full bool, raw []byte, s settings, now time.Time) (prev *cursor, fullRun bool, why string) {
	prev, err := decodeCursor(raw)
	switch {
	case full:
		return nil, true, "full reconcile requested"
	case err != nil:
		return nil, true, fmt.Sprintf("the saved position could not be used (%v): full reconcile", err)
	case prev == nil:
		return nil, true, "first run: full reconcile"
	case prev.Org != s.org.String():
		return nil, true, "orgURL changed since the last run: full reconcile"
	case prev.Scope != s.scopeKey():
		return nil, true, "group scoping changed since the last run: full reconcile"
	case now.Sub(prev.LastFull) >= s.fullEvery:
		return nil, true, fmt.Sprintf("the last full reconcile was %s ago (fullReconcileInterval %s): full reconcile",
			now.Sub(prev.LastFull).Round(time.Minute), s.fullEvery)
	}
	return prev, false, ""
}
