package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// oktaGroup is the part of Okta's Group object we read.
type oktaGroup struct {
	ID                    string                     `json:"id"`
	Type                  string                     `json:"type"`
	Created               string                     `json:"created"`
	LastUpdated           string                     `json:"lastUpdated"`
	LastMembershipUpdated string                     `json:"lastMembershipUpdated"`
	Profile               map[string]json.RawMessage `json:"profile"`
}

// memberRef is all we read of a group member (a full User object).
type memberRef struct {
	ID string `json:"id"`
}

// groupFilter selects groups whose profile or membership changed after
// since (Groups API, "List Groups updated after timestamp"). A membership
// change moves only the group's lastMembershipUpdated, never the user's
// lastUpdated, so both clocks are needed.
func groupFilter(since time.Time) string {
	t := formatTime(since)
	return fmt.Sprintf(`lastUpdated gt "%s" or lastMembershipUpdated gt "%s"`, t, t)
}

// inScope applies the group scoping settings.
func (s settings) inScope(g oktaGroup, name string) bool {
	if !s.groupTypes[g.Type] {
		return false
	}
	if s.groupIDs != nil && !s.groupIDs[g.ID] {
		return false
	}
	if s.prefix != "" && (len(name) < len(s.prefix) || !strings.EqualFold(name[:len(s.prefix)], s.prefix)) {
		return false
	}
	return true
}

// streamGroups lists groups (all of them, or those matching filter) and
// sends the ones in scope with their complete member lists. In a delta
// (filter set), a changed group that is now out of scope, or that vanished
// while its members were read, is sent as a deletion. It returns how many
// groups it sent.
func (s *oktaSource) streamGroups(ctx context.Context, c *client, filter string, out sources.Sink) (int, error) {
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if filter != "" {
		q.Set("filter", filter)
	}
	delta := filter != ""
	n := 0
	err := pages(ctx, c, c.listURL("/api/v1/groups", q), func(page []oktaGroup) error {
		var recs []sources.GroupRecord
		var gone []sources.Deletion
		for _, g := range page {
			attrs := map[string]string{}
			flattenInto(attrs, g.Profile)
			if !s.cfg.inScope(g, attrs["name"]) {
				if delta {
					gone = append(gone, sources.Deletion{Kind: sources.KindGroup, Key: g.ID})
				}
				continue
			}
			for k, v := range map[string]string{"id": g.ID, "type": g.Type, "created": g.Created,
				"lastUpdated": g.LastUpdated, "lastMembershipUpdated": g.LastMembershipUpdated} {
				if v != "" {
					attrs[k] = v
				}
			}
			recs = append(recs, sources.GroupRecord{Key: g.ID, Attrs: attrs, MembersComplete: true})
		}
		members, err := s.readMembers(ctx, c, recs)
		if err != nil {
			return err
		}
		kept := recs[:0]
		for i, rec := range recs {
			if members[i] == nil { // deleted while we read it
				if delta {
					gone = append(gone, sources.Deletion{Kind: sources.KindGroup, Key: rec.Key})
				}
				continue
			}
			rec.Members = members[i]
			kept = append(kept, rec)
		}
		n += len(kept)
		if len(kept) > 0 {
			if err := out.Groups(ctx, kept); err != nil {
				return err
			}
		}
		if len(gone) > 0 {
			return out.Deletions(ctx, gone)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("list groups: %w", err)
	}
	return n, nil
}

// readMembers reads the member lists of a page of groups, up to the
// concurrency cap at once. A group that no longer exists gets nil; an
// empty group an empty, non-nil list.
func (s *oktaSource) readMembers(ctx context.Context, c *client, recs []sources.GroupRecord) ([][]string, error) {
	out := make([][]string, len(recs))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(s.cfg.workers, len(recs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				var ids []string
				err := sources.Recover(func() (err error) {
					ids, err = members(ctx, c, recs[i].Key)
					return err
				})
				if err != nil {
					cancel(err)
					return
				}
				out[i] = ids
			}
		}()
	}
feed:
	for i := range recs {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// members lists one group's member ids; nil when the group is gone.
func members(ctx context.Context, c *client, groupID string) ([]string, error) {
	first := c.listURL("/api/v1/groups/"+url.PathEscape(groupID)+"/users", url.Values{"limit": {strconv.Itoa(pageSize)}})
	ids := []string{}
	err := pages(ctx, c, first, func(page []memberRef) error {
		for _, m := range page {
			if m.ID != "" {
				ids = append(ids, m.ID)
			}
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("members of group %s: %w", groupID, err)
	}
	return ids, nil
}
