package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// pageSize is the limit asked of every listing: Okta's maximum for users
// and its recommendation for groups and group members.
const pageSize = 200

// oktaUser is the part of Okta's User object we read. Profile holds the
// base and custom attributes flat, any of them possibly null.
type oktaUser struct {
	ID              string                     `json:"id"`
	Status          string                     `json:"status"`
	Created         string                     `json:"created"`
	Activated       string                     `json:"activated"`
	StatusChanged   string                     `json:"statusChanged"`
	LastLogin       string                     `json:"lastLogin"`
	LastUpdated     string                     `json:"lastUpdated"`
	PasswordChanged string                     `json:"passwordChanged"`
	Profile         map[string]json.RawMessage `json:"profile"`
}

// userFilter selects users updated after since. The full reconcile uses
// it too, with the epoch: a listing without filter or search leaves out
// DEPROVISIONED users (Users API, "List all users": "To return all users,
// use a filter or search query instead"), and filter, unlike search,
// reads the most up-to-date data. A lastUpdated filter every user matches
// also keeps statuses Okta may add later, which a list of statuses would
// silently drop.
func userFilter(since time.Time) string {
	return fmt.Sprintf(`lastUpdated gt "%s"`, formatTime(since))
}

// statusTally counts users whose status the table does not know.
type statusTally map[string]int

// streamUsers lists users matching filter and sends them to out page by
// page; it returns how many it sent.
func (s *oktaSource) streamUsers(ctx context.Context, c *client, filter string, out sources.Sink, unknown statusTally) (int, error) {
	first := c.listURL("/api/v1/users", url.Values{"limit": {strconv.Itoa(pageSize)}, "filter": {filter}})
	n := 0
	err := pages(ctx, c, first, func(page []oktaUser) error {
		recs := make([]sources.UserRecord, 0, len(page))
		for _, u := range page {
			if u.ID == "" {
				if err := out.Problem(ctx, sources.Problem{Where: "Okta user list", Message: "a user without an id was skipped"}); err != nil {
					return err
				}
				continue
			}
			rec, known := userRecord(u)
			if !known {
				unknown[u.Status]++
			}
			recs = append(recs, rec)
		}
		n += len(recs)
		return out.Users(ctx, recs)
	})
	if err != nil {
		return n, fmt.Errorf("list users: %w", err)
	}
	return n, nil
}

// userRecord turns an Okta user into a record: every profile attribute by
// its own name ({login}, {email}, {employeeNumber}, custom ones too), the
// object's own fields (id, status, created, activated, statusChanged,
// lastLogin, lastUpdated, passwordChanged; they win over a custom profile
// attribute of the same name) and active from the status table.
func userRecord(u oktaUser) (rec sources.UserRecord, knownStatus bool) {
	attrs := make(map[string]string, len(u.Profile)+10)
	flattenInto(attrs, u.Profile)
	for _, f := range [...]struct{ name, value string }{
		{"id", u.ID}, {"status", u.Status}, {"created", u.Created}, {"activated", u.Activated},
		{"statusChanged", u.StatusChanged}, {"lastLogin", u.LastLogin}, {"lastUpdated", u.LastUpdated},
		{"passwordChanged", u.PasswordChanged},
	} {
		if f.value != "" {
			attrs[f.name] = f.value
		}
	}
	active, known := activeFor(u.Status)
	attrs["active"] = active
	return sources.UserRecord{Key: u.ID, Attrs: attrs}, known
}

// flattenInto renders profile values as text: strings as they are,
// numbers and booleans in JSON form, arrays of them comma-separated;
// nulls and nested objects are left out.
func flattenInto(attrs map[string]string, profile map[string]json.RawMessage) {
	for k, raw := range profile {
		if v, ok := scalarText(raw); ok {
			attrs[k] = v
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
			continue
		}
		parts := make([]string, 0, len(list))
		for _, item := range list {
			if v, ok := scalarText(item); ok {
				parts = append(parts, v)
			}
		}
		if len(parts) > 0 {
			attrs[k] = strings.Join(parts, ",")
		}
	}
}

func scalarText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil || s == "" {
			return "", false
		}
		return s, true
	case 't', 'f':
		return string(raw), true
	case 'n', '[', '{':
		return "", false
	}
	return string(raw), true // a number, as written
}
