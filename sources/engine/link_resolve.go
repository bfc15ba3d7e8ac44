package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// linkCase is what the engine knows about one record of a linked source
// when it decides where the record belongs.
type linkCase struct {
	source string // the source's id
	key    string // the record's key in it
	keys   []storage.LinkKey
	// own is the record's contribution as stored; nil for a new record.
	own *storage.ContributionRef
	// holders are the contributions holding each of keys (any source).
	holders map[storage.LinkKey][]storage.LinkHolder
	// people are the contributions of the record's person and of every
	// holder's person.
	people map[string][]storage.ContributionRef
	// inRun names, for each key, the record of this source that claimed
	// it earlier in this run.
	inRun map[storage.LinkKey]string
}

// linkDecision is where a record goes.
type linkDecision struct {
	userID   string // the person; "" for a new one
	linkedBy string // the link key that joined it to the person
	// action is storage.ChangeLink, storage.ChangeUnlink or "" (it stays,
	// or is a new person of its own); detail says why.
	action, detail string
	// conflicts describe why the record could not be linked; it is then
	// left where it is (or made a person of its own).
	conflicts []string
}

// resolveLink applies the linking rules to one record:
//  1. another record of the source on one of its keys (stored, or earlier
//     in this run) is a conflict: the record is not linked;
//  2. the candidates are the people other sources' records on its keys
//     belong to, except people kept apart from it (unlink) and people that
//     already have a record of this source;
//  3. a new record joins its one candidate, or is a new person (several
//     candidates: a conflict);
//  4. a stored record stays while a key still ties it to another source's
//     record on its person; otherwise the link is broken if the person has
//     other contributions (it moves to its one candidate, or to a new
//     person), and a person of its own joins its one candidate.
func resolveLink(c linkCase) linkDecision {
	stay := linkDecision{}
	if c.own != nil {
		stay = linkDecision{userID: c.own.UserID, linkedBy: c.own.LinkedBy}
	}
	var conflicts []string
	ownPerson := ""
	var apart []string
	if c.own != nil {
		ownPerson, apart = c.own.UserID, c.own.ApartFrom
	}
	// candidates are the people the keys point at, by id, with the first
	// key (in key order) that points there.
	candidates := map[string]string{}
	var order []string
	onOwn := false // a key ties it to another source's record on its person
	for _, k := range c.keys {
		if other := c.inRun[k]; other != "" && other != c.key {
			conflicts = append(conflicts, fmt.Sprintf("record %q of this source has the same %s", other, k.Name))
		}
		for _, h := range c.holders[k] {
			switch {
			case h.Source == c.source && h.Key == c.key:
				continue // its own contribution
			case h.Source == c.source:
				conflicts = append(conflicts, fmt.Sprintf("record %q of this source has the same %s", h.Key, k.Name))
				continue
			case h.UserID == ownPerson:
				onOwn = true
				continue
			case ownPerson != "" && (slices.Contains(h.ApartFrom, ownPerson) || slices.Contains(apart, h.UserID)):
				continue // split by hand: kept apart
			case hasSource(c.people[h.UserID], c.source):
				continue // that person has its record of this source already
			}
			if _, ok := candidates[h.UserID]; !ok {
				candidates[h.UserID] = k.Name
				order = append(order, h.UserID)
			}
		}
	}
	if len(conflicts) > 0 {
		stay.conflicts = dedupe(conflicts)
		return stay
	}
	several := func() []string {
		return []string{fmt.Sprintf("its link keys match %d people (%s)", len(order), strings.Join(order, ", "))}
	}
	link := func(to string) linkDecision {
		by := candidates[to]
		return linkDecision{userID: to, linkedBy: by, action: storage.ChangeLink,
			detail: fmt.Sprintf("linked by %s to %s", by, to)}
	}
	switch {
	case c.own == nil && len(order) == 1:
		return link(order[0])
	case c.own == nil && len(order) > 1:
		stay.conflicts = several()
		return stay
	case c.own == nil:
		return stay // a new person
	case onOwn:
		if len(order) > 0 {
			stay.conflicts = []string{fmt.Sprintf("its link keys also match %s, not only its person %s", strings.Join(order, ", "), ownPerson)}
		}
		return stay
	}
	others := len(c.people[ownPerson]) > 1
	if !others {
		switch len(order) {
		case 0:
			return stay
		case 1:
			return link(order[0])
		default:
			stay.conflicts = several()
			return stay
		}
	}
	// The link is broken: it leaves the person.
	why := brokenKey(c.own, c.people[ownPerson])
	out := linkDecision{action: storage.ChangeUnlink}
	switch len(order) {
	case 1:
		out.userID, out.linkedBy = order[0], candidates[order[0]]
		out.detail = fmt.Sprintf("%s no longer matches %s; linked by %s to %s", why, ownPerson, out.linkedBy, out.userID)
	default:
		out.detail = fmt.Sprintf("%s no longer matches %s; a person of its own", why, ownPerson)
		if len(order) > 1 {
			out.conflicts = several()
		}
	}
	return out
}

// brokenKey names the link key that tied own to its person: its own
// LinkedBy, or that of the contributions that joined it.
func brokenKey(own *storage.ContributionRef, person []storage.ContributionRef) string {
	if own.LinkedBy != "" {
		return "link key " + own.LinkedBy
	}
	var names []string
	for _, c := range person {
		if c.LinkedBy != "" && !slices.Contains(names, c.LinkedBy) {
			names = append(names, c.LinkedBy)
		}
	}
	if len(names) == 0 {
		return "no link key"
	}
	slices.Sort(names)
	return "link key " + strings.Join(names, ", ")
}

func hasSource(refs []storage.ContributionRef, source string) bool {
	return slices.ContainsFunc(refs, func(r storage.ContributionRef) bool { return r.Source == source })
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
