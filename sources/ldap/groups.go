package ldap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// flushMembers bounds the member values a page of groups holds before it
// goes to the engine: a page of big groups is sent early.
const flushMembers = 50_000

// groups pages through groups. Each group's members are read to the end
// (range retrieval) before it is sent; with expandNestedGroups the whole
// group graph is read first and sent expanded.
func (r *reader) groups(ctx context.Context, filter string) error {
	seen := sent{}
	var graph []sources.GroupRecord // only with expansion
	err := r.retried(ctx, "read groups under "+r.set.groupBaseDN, func() error {
		graph = nil // a restart reads the whole graph again
		return r.groupsOnce(ctx, filter, seen, &graph)
	})
	if err != nil || !r.set.expand {
		return err
	}
	expanded := expandMembers(graph)
	for start := 0; start < len(expanded); start += r.set.pageSize {
		if err := r.out.Groups(ctx, expanded[start:min(start+r.set.pageSize, len(expanded))]); err != nil {
			return err
		}
	}
	return nil
}

// groupsOnce is one attempt at the group search. Groups sent before a
// restart (seen) are not sent again; with expansion they are collected
// into graph and sent by the caller.
func (r *reader) groupsOnce(ctx context.Context, filter string, seen sent, graph *[]sources.GroupRecord) error {
	lookup := attrSpelling(r.set.groupAttrs)
	attrs := append(slices.Clone(r.set.groupAttrs), rangeAttr("member", 0, r.set.rangeStep))
	return r.paged(ctx, r.set.groupBaseDN, filter, attrs, []goldap.Control{extendedDNControl()}, r.set.groupPageSize, func(entries []*goldap.Entry) error {
		var page []sources.GroupRecord
		held := 0
		for _, e := range entries {
			rec, ok, err := r.groupRecord(ctx, e, lookup, seen)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if r.set.expand {
				*graph = append(*graph, rec)
				continue
			}
			if !seen.first(rec.Key) {
				continue // sent before a restart
			}
			page = append(page, rec)
			if held += len(rec.Members); held >= flushMembers {
				if err := r.out.Groups(ctx, page); err != nil {
					return err
				}
				page, held = nil, 0
			}
		}
		if len(page) == 0 {
			return nil
		}
		return r.out.Groups(ctx, page)
	})
}

// groupRecord builds one group with all its direct members; ok is false
// when a problem was reported instead.
func (r *reader) groupRecord(ctx context.Context, e *goldap.Entry, spelling map[string]string, seen sent) (sources.GroupRecord, bool, error) {
	guid, problem := entryGUID(e)
	if problem != nil {
		return sources.GroupRecord{}, false, r.problem(ctx, seen, *problem)
	}
	attrs := commonAttrs(e, spelling)
	values, err := r.memberValues(ctx, e, guid)
	if err != nil {
		return sources.GroupRecord{}, false, err
	}
	members := make([]string, 0, len(values))
	bad := 0
	for _, v := range values {
		ext, ok := parseExtendedDN(v)
		if !ok {
			bad++
			continue
		}
		members = append(members, ext.GUID)
	}
	if bad > 0 {
		// Members without a GUID cannot be matched: the group is not sent
		// rather than sent short, and the run deletes nothing.
		return sources.GroupRecord{}, false, r.problem(ctx, seen, sources.Problem{Where: attrs["dn"],
			Message: fmt.Sprintf("%d member values carry no GUID (the extended-DN control was not applied)", bad)})
	}
	return sources.GroupRecord{Key: guid, Attrs: attrs, Members: members, MembersComplete: true}, true, nil
}

// memberValues returns every member value of a group. The search asked
// for member;range=0-(step-1); AD answers a big group with
// member;range=0-1499 and no plain member, Samba and small groups with
// member;range=0-*, servers without range support with plain member.
// Further ranges are asked for by GUID until one ends in "*".
func (r *reader) memberValues(ctx context.Context, e *goldap.Entry, guid string) ([]string, error) {
	values, next, done := memberChunk(e)
	for !done {
		r.stats.rangeRequests.Add(1)
		more, err := r.base(ctx, "<GUID="+guid+">", []string{rangeAttr("member", next, r.set.rangeStep)}, extendedDNControl())
		if err != nil {
			return nil, fmt.Errorf("ldap: read members %d and on of %s: %w", next, entryDN(e), err)
		}
		if more == nil {
			return nil, fmt.Errorf("ldap: group %s disappeared while its members were read", entryDN(e))
		}
		chunk, after, last := memberChunk(more)
		if !last && after <= next {
			return nil, fmt.Errorf("ldap: the server answered member range %d and on of %s without progress", next, entryDN(e))
		}
		values = append(values, chunk...)
		next, done = after, last
	}
	return values, nil
}

// memberChunk reads the member values of one reply: the values, where the
// next range starts, and whether this was the last chunk.
func memberChunk(e *goldap.Entry) (values []string, next int, last bool) {
	last = true
	for _, a := range e.Attributes {
		if a == nil {
			continue
		}
		name, rng, hasRange, ok := splitAttr(a.Name)
		if !strings.EqualFold(name, "member") || !ok {
			continue
		}
		values = append(values, a.Values...)
		if hasRange && !rng.last {
			next, last = rng.high+1, false
		}
	}
	return values, next, last
}

// expandMembers replaces each group's members by every non-group member
// reachable through nested groups. Each group is walked with its own
// visited set, so cycles (A in B in A) end.
func expandMembers(groups []sources.GroupRecord) []sources.GroupRecord {
	byKey := make(map[string]int, len(groups))
	for i, g := range groups {
		byKey[g.Key] = i
	}
	out := make([]sources.GroupRecord, len(groups))
	for i, g := range groups {
		visited := map[string]bool{g.Key: true}
		seen := map[string]bool{}
		var users []string
		stack := []string{g.Key}
		for len(stack) > 0 {
			cur := groups[byKey[stack[len(stack)-1]]]
			stack = stack[:len(stack)-1]
			for _, m := range cur.Members {
				if _, isGroup := byKey[m]; isGroup {
					if !visited[m] {
						visited[m] = true
						stack = append(stack, m)
					}
					continue
				}
				if !seen[m] {
					seen[m] = true
					users = append(users, m)
				}
			}
		}
		slices.Sort(users)
		g.Members = users
		out[i] = g
	}
	return out
}
