package engine

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

func TestResolveLink(t *testing.T) {
	anchor := storage.LinkKey{Name: "anchor", Value: "a1"}
	emp := storage.LinkKey{Name: "employeeId", Value: "e1"}
	ref := func(user, source, key, by string, apart ...string) storage.ContributionRef {
		return storage.ContributionRef{UserID: user, Source: source, Key: key, LinkedBy: by, ApartFrom: apart}
	}
	holder := func(r storage.ContributionRef) storage.LinkHolder {
		return storage.LinkHolder{UserID: r.UserID, Source: r.Source, Key: r.Key, ApartFrom: r.ApartFrom}
	}
	// The record under decision is record "r" of source "S".
	type want struct {
		userID, linkedBy, action string
		conflicts                int
		detail                   string // a part of the detail
	}
	tests := []struct {
		name    string
		keys    []storage.LinkKey
		own     *storage.ContributionRef
		holders map[storage.LinkKey][]storage.ContributionRef
		people  []storage.ContributionRef // every contribution of the people involved
		inRun   map[storage.LinkKey]string
		want    want
	}{
		{name: "new, no holder: a new person", keys: []storage.LinkKey{anchor}},
		{name: "new, no keys: a new person"},
		{name: "new, one candidate: linked to it",
			keys:    []storage.LinkKey{anchor, emp},
			holders: map[storage.LinkKey][]storage.ContributionRef{emp: {ref("Q", "ad", "x", "")}},
			people:  []storage.ContributionRef{ref("Q", "ad", "x", "")},
			want:    want{userID: "Q", linkedBy: "employeeId", action: storage.ChangeLink, detail: "linked by employeeId to Q"}},
		{name: "new, one candidate on two keys: linked by the first key",
			keys: []storage.LinkKey{anchor, emp},
			holders: map[storage.LinkKey][]storage.ContributionRef{
				anchor: {ref("Q", "ad", "x", "")}, emp: {ref("Q", "entra", "y", "anchor")}},
			people: []storage.ContributionRef{ref("Q", "ad", "x", ""), ref("Q", "entra", "y", "anchor")},
			want:   want{userID: "Q", linkedBy: "anchor", action: storage.ChangeLink}},
		{name: "new, two candidates: a conflict, a person of its own",
			keys: []storage.LinkKey{anchor, emp},
			holders: map[storage.LinkKey][]storage.ContributionRef{
				anchor: {ref("Q1", "ad", "x", "")}, emp: {ref("Q2", "hr", "y", "")}},
			people: []storage.ContributionRef{ref("Q1", "ad", "x", ""), ref("Q2", "hr", "y", "")},
			want:   want{conflicts: 1, detail: "Q1, Q2"}},
		{name: "new, another record of the source holds the key: a conflict, not linked",
			keys: []storage.LinkKey{anchor},
			holders: map[storage.LinkKey][]storage.ContributionRef{
				anchor: {ref("Q", "ad", "x", ""), ref("P2", "S", "r2", "anchor")}},
			people: []storage.ContributionRef{ref("Q", "ad", "x", ""), ref("Q", "S", "r2", "anchor")},
			want:   want{conflicts: 1, detail: `"r2"`}},
		{name: "new, another record of this run had the key: a conflict",
			keys:    []storage.LinkKey{anchor},
			holders: map[storage.LinkKey][]storage.ContributionRef{anchor: {ref("Q", "ad", "x", "")}},
			people:  []storage.ContributionRef{ref("Q", "ad", "x", "")},
			inRun:   map[storage.LinkKey]string{anchor: "r3"},
			want:    want{conflicts: 1, detail: `"r3"`}},
		{name: "new, the candidate has a record of the source already: a new person",
			keys:    []storage.LinkKey{anchor},
			holders: map[storage.LinkKey][]storage.ContributionRef{anchor: {ref("Q", "ad", "x", "")}},
			people:  []storage.ContributionRef{ref("Q", "ad", "x", ""), ref("Q", "S", "r9", "employeeId")}},
		{name: "existing, a key still ties it: it stays",
			keys: []storage.LinkKey{anchor},
			own:  ptr(ref("P", "S", "r", "anchor")),
			holders: map[storage.LinkKey][]storage.ContributionRef{
				anchor: {ref("P", "S", "r", "anchor"), ref("P", "ad", "x", "")}},
			people: []storage.ContributionRef{ref("P", "ad", "x", ""), ref("P", "S", "r", "anchor")},
			want:   want{userID: "P", linkedBy: "anchor"}},
		{name: "existing, tied and also matching another person: a conflict, it stays",
			keys: []storage.LinkKey{anchor, emp},
			own:  ptr(ref("P", "S", "r", "anchor")),
			holders: map[storage.LinkKey][]storage.ContributionRef{
				anchor: {ref("P", "ad", "x", "")}, emp: {ref("Q", "hr", "y", "")}},
			people: []storage.ContributionRef{ref("P", "ad", "x", ""), ref("P", "S", "r", "anchor"), ref("Q", "hr", "y", "")},
			want:   want{userID: "P", linkedBy: "anchor", conflicts: 1}},
		{name: "existing, keys stopped matching its person: the link breaks to a new person",
			keys:   []storage.LinkKey{{Name: "anchor", Value: "other"}},
			own:    ptr(ref("P", "S", "r", "anchor")),
			people: []storage.ContributionRef{ref("P", "ad", "x", ""), ref("P", "S", "r", "anchor")},
			want:   want{action: storage.ChangeUnlink, detail: "link key anchor no longer matches P"}},
		{name: "existing, the first contribution whose partner's key stopped matching: it breaks",
			own:    ptr(ref("P", "S", "r", "")),
			people: []storage.ContributionRef{ref("P", "S", "r", ""), ref("P", "hr", "h", "employeeId")},
			want:   want{action: storage.ChangeUnlink, detail: "link key employeeId no longer matches P"}},
		{name: "existing, broken and matching another person: it moves there",
			keys:    []storage.LinkKey{emp},
			own:     ptr(ref("P", "S", "r", "anchor")),
			holders: map[storage.LinkKey][]storage.ContributionRef{emp: {ref("Q", "hr", "y", "")}},
			people:  []storage.ContributionRef{ref("P", "ad", "x", ""), ref("P", "S", "r", "anchor"), ref("Q", "hr", "y", "")},
			want:    want{userID: "Q", linkedBy: "employeeId", action: storage.ChangeUnlink, detail: "linked by employeeId to Q"}},
		{name: "existing, broken and matching two people: a conflict, a new person",
			keys: []storage.LinkKey{anchor, emp},
			own:  ptr(ref("P", "S", "r", "anchor")),
			holders: map[storage.LinkKey][]storage.ContributionRef{
				anchor: {ref("Q1", "ad", "x", "")}, emp: {ref("Q2", "hr", "y", "")}},
			people: []storage.ContributionRef{ref("P", "okta", "o", ""), ref("P", "S", "r", "anchor"),
				ref("Q1", "ad", "x", ""), ref("Q2", "hr", "y", "")},
			want: want{action: storage.ChangeUnlink, conflicts: 1}},
		{name: "existing, alone, one candidate: it joins the candidate",
			keys:    []storage.LinkKey{anchor},
			own:     ptr(ref("P", "S", "r", "")),
			holders: map[storage.LinkKey][]storage.ContributionRef{anchor: {ref("Q", "ad", "x", "")}},
			people:  []storage.ContributionRef{ref("P", "S", "r", ""), ref("Q", "ad", "x", "")},
			want:    want{userID: "Q", linkedBy: "anchor", action: storage.ChangeLink}},
		{name: "existing, alone, two candidates: a conflict, it stays",
			keys: []storage.LinkKey{anchor, emp},
			own:  ptr(ref("P", "S", "r", "")),
			holders: map[storage.LinkKey][]storage.ContributionRef{
				anchor: {ref("Q1", "ad", "x", "")}, emp: {ref("Q2", "hr", "y", "")}},
			people: []storage.ContributionRef{ref("P", "S", "r", ""), ref("Q1", "ad", "x", ""), ref("Q2", "hr", "y", "")},
			want:   want{userID: "P", conflicts: 1}},
		{name: "existing, split by hand from the candidate: it stays apart",
			keys:    []storage.LinkKey{anchor},
			own:     ptr(ref("P2", "S", "r", "", "P")),
			holders: map[storage.LinkKey][]storage.ContributionRef{anchor: {ref("P", "ad", "x", "")}},
			people:  []storage.ContributionRef{ref("P2", "S", "r", "", "P"), ref("P", "ad", "x", "")},
			want:    want{userID: "P2"}},
		{name: "existing, the holder was split by hand from its person: kept apart",
			keys:    []storage.LinkKey{anchor},
			own:     ptr(ref("P", "S", "r", "")),
			holders: map[storage.LinkKey][]storage.ContributionRef{anchor: {ref("P2", "ad", "x", "", "P")}},
			people:  []storage.ContributionRef{ref("P", "S", "r", ""), ref("P2", "ad", "x", "", "P")},
			want:    want{userID: "P"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := linkCase{source: "S", key: "r", keys: tt.keys, own: tt.own, inRun: tt.inRun,
				holders: map[storage.LinkKey][]storage.LinkHolder{}, people: map[string][]storage.ContributionRef{}}
			for k, refs := range tt.holders {
				for _, r := range refs {
					c.holders[k] = append(c.holders[k], holder(r))
				}
			}
			for _, r := range tt.people {
				c.people[r.UserID] = append(c.people[r.UserID], r)
			}
			d := resolveLink(c)
			got := want{userID: d.userID, linkedBy: d.linkedBy, action: d.action, conflicts: len(d.conflicts), detail: tt.want.detail}
			if got != tt.want {
				t.Errorf("decision %+v, want %+v", d, tt.want)
			}
			all := d.detail + " " + strings.Join(d.conflicts, "; ")
			if !strings.Contains(all, tt.want.detail) {
				t.Errorf("detail %q, conflicts %q: want them to say %q", d.detail, d.conflicts, tt.want.detail)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestLinkKeys(t *testing.T) {
	var errs sources.FieldErrors
	l := compileLink(map[string]string{"anchor": "{objectGUID}", "employeeId": "{employeeID}", "mail": "{mail}"}, &errs)
	if len(errs) > 0 {
		t.Fatalf("errors %v", errs)
	}
	got := l.keys(map[string]string{"objectGUID": "  ABC-Def ", "employeeID": "E7", "mail": "   "})
	want := []storage.LinkKey{{Name: "anchor", Value: "abc-def"}, {Name: "employeeId", Value: "e7"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys %v, want %v (folded, trimmed, empty dropped, in name order)", got, want)
	}

	tests := []struct {
		link  map[string]string
		field string
	}{
		{map[string]string{"anchor": "{objectGUID"}, "link.anchor"},
		{map[string]string{"anchor": " "}, "link.anchor"},
		{map[string]string{"": "{x}"}, "link"},
	}
	for _, tt := range tests {
		var errs sources.FieldErrors
		compileLink(tt.link, &errs)
		if _, ok := errs[tt.field]; !ok || len(errs) != 1 {
			t.Errorf("compileLink(%v) errors %v, want one for %s", tt.link, errs, tt.field)
		}
	}
}
