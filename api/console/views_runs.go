package console

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// The run pages' reading of the API's answers (GET .../runs,
// .../runs/{runId}, .../changes, .../pending).

// runCount is one of a run's counts with the name an admin reads.
type runCount struct {
	Key   string // the API's JSON name ("created")
	Name  string // "Created"
	Value int
}

// runCountField is one field of storage.RunCounts.
type runCountField struct {
	key, name string
	index     int
}

// runCountFields are storage.RunCounts' fields in their declared order,
// named after the field: the type is the one list of counts, so a count
// added there shows up here (and in the live progress) by itself.
var runCountFields = func() []runCountField {
	t := reflect.TypeOf(storage.RunCounts{})
	out := make([]runCountField, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.Int {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if key == "" {
			key = f.Name
		}
		out = append(out, runCountField{key: key, name: f.Name, index: i})
	}
	return out
}()

// countsOf lists a run's counts by name, in storage.RunCounts' order.
func countsOf(c storage.RunCounts) []runCount {
	v := reflect.ValueOf(c)
	out := make([]runCount, len(runCountFields))
	for i, f := range runCountFields {
		out[i] = runCount{Key: f.key, Name: f.name, Value: int(v.Field(f.index).Int())}
	}
	return out
}

// countSummary is a run's non-zero counts in a few words ("11 fetched,
// 11 created"); "nothing counted" when all are zero.
func countSummary(c storage.RunCounts) string {
	var parts []string
	for _, n := range countsOf(c) {
		if n.Value != 0 {
			parts = append(parts, strconv.Itoa(n.Value)+" "+strings.ToLower(n.Name))
		}
	}
	if len(parts) == 0 {
		return "nothing counted"
	}
	return strings.Join(parts, ", ")
}

// live says whether a run may still change: its page polls for progress.
func live(s storage.RunStatus) bool { return s == storage.RunQueued || s == storage.RunRunning }

// duration is how long a run took (or, while live, has taken by now),
// from its start, or from its queueing when it never started.
func duration(r runView, now time.Time) string {
	if r.Finished == nil && !live(r.Status) {
		return "" // held: it stopped, and has not finished yet
	}
	from := r.Queued
	if r.Started != nil {
		from = *r.Started
	}
	if from.IsZero() {
		return ""
	}
	to := now
	if r.Finished != nil {
		to = *r.Finished
	}
	d := to.Sub(from)
	switch {
	case d < 0:
		return ""
	case d < time.Second:
		return "less than a second"
	case d < time.Minute:
		return plural(int(d/time.Second), "second")
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " " + plural(int(d%time.Minute/time.Second), "second")
	}
	return plural(int(d/time.Hour), "hour") + " " + plural(int(d%time.Hour/time.Minute), "minute")
}

// changeWords are a change log's actions in words.
var changeWords = map[string]string{
	storage.ChangeCreate: "Created", storage.ChangeUpdate: "Updated", storage.ChangeReactivate: "Reactivated",
	storage.ChangeDeactivate: "Deactivated", storage.ChangeDelete: "Deleted", storage.ChangeConflict: "Conflict",
	storage.ChangeError: "Error", storage.ChangeUnresolved: "Unresolved reference",
	storage.ChangeLink: "Linked", storage.ChangeUnlink: "Unlinked", storage.ChangeLeave: "Left (the person stays)",
}

func changeWord(action string) string {
	if w, ok := changeWords[action]; ok {
		return w
	}
	return action
}

// changeView is one entry of a run's change log as its page shows it.
type changeView struct {
	storage.Change
	Word string
	// UserPage is the console's page of the user changed; "" for groups
	// and entries without a resource.
	UserPage string
	Diff     *attrDiff
}

// removalWords are a pending removal's actions in words: what approving
// will do.
var removalWords = map[string]string{storage.ChangeDeactivate: "Deactivate", storage.ChangeDelete: "Delete"}

func removalWord(action string) string {
	if w, ok := removalWords[action]; ok {
		return w
	}
	return action
}

type pendingView struct {
	storage.PendingDeletion
	Word     string
	UserPage string
}

// userPage is the directory's page of a user, for entries that name one.
func userPage(kind, id string) string {
	if kind != "User" || id == "" {
		return ""
	}
	return Prefix + "/directory/users/" + url.PathEscape(id)
}

// runsTable is the list of an owner's runs, for the "runs-table"
// template (templates/_runs.html), which other pages include too.
type runsTable struct {
	Base string // the console path of the owner's runs: row links are Base/{runId}
	Rows []runRow
}

type runRow struct {
	runView
	Href string
	// Label names the run's link: when it was queued, to the second, so
	// runs of the same minute have links of their own names.
	Label   string
	Summary string
}

// runLabel is when a run was queued, to the second, in UTC.
func runLabel(r runView) string { return r.Queued.UTC().Format("2006-01-02 15:04:05 UTC") }

func runsTableOf(base string, runs []runView) runsTable {
	t := runsTable{Base: base, Rows: make([]runRow, len(runs))}
	for i, r := range runs {
		t.Rows[i] = runRow{runView: r, Href: base + "/" + url.PathEscape(r.ID), Label: runLabel(r), Summary: countSummary(r.Counts)}
	}
	return t
}
