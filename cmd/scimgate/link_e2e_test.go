package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/entra/graphtest"
)

// TestLinkHybridTenant is issue 18's end-to-end proof: the Samba AD lab,
// the Graph emulator holding a subset of the lab's users by
// onPremisesImmutableId plus cloud-only users, and an HR csv file keyed by
// employee number and authoritative for title and manager, configured and
// run through the config API of a real scimgate (the binary's own source
// kinds, over HTTP). Whatever order the sources run in, SCIM shows one
// user per person with the attribute winners the rules give, and the
// provenance says where each came from. AD first links everything in one
// round. HR and Entra first make people AD's records then join from both
// sides: those records conflict (two candidates), and the next full runs
// of HR and Entra bring them together.
//
//	scripts/test-env.sh go test -count=1 -run Link ./cmd/scimgate/
func TestLinkHybridTenant(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs the AD lab twice: not in -short")
	}
	lab := needADLab(t)
	// Run counts count groups with users: AD's lab groups, Entra's one.
	labUsers, labGroups := lab.read(t)
	adUsers := len(labUsers)
	if adUsers < hrManager+1 {
		t.Fatalf("the lab has %d users; this test needs more than %d", adUsers, hrManager)
	}
	results := map[string]map[string]string{}

	t.Run("ADFirst", func(t *testing.T) {
		tn := seedTenant(t, labUsers)
		h := newHybrid(t, lab, tn)
		ad := h.sync(t, "corp-ad", "")
		expectCounts(t, "corp-ad", ad, map[string]int{"created": adUsers + labGroups, "linked": 0, "conflicts": 0})
		en := h.sync(t, "entra", "")
		expectCounts(t, "entra", en, map[string]int{"created": cloudOnly + 1, "linked": hybridLast, "conflicts": 0})
		hr := h.sync(t, "hr", "")
		expectCounts(t, "hr", hr, map[string]int{"created": 0, "linked": hrLast - hrFirst + 1, "conflicts": 0})
		people := checkHybrid(t, h, labUsers)
		results["ADFirst"] = fingerprint(t, h, people)

		// Nothing changed: a full run of AD moves no person's version.
		again := h.sync(t, "corp-ad", "full")
		expectCounts(t, "corp-ad again", again, map[string]int{"unchanged": adUsers + labGroups, "updated": 0, "linked": 0, "unlinked": 0})
		for name, u := range h.scimUsers(t) {
			if before := people[name]; meta(before, "version") != meta(u, "version") || meta(before, "lastModified") != meta(u, "lastModified") {
				t.Errorf("%s: version %v -> %v, lastModified %v -> %v after a run that changed nothing", name,
					meta(before, "version"), meta(u, "version"), meta(before, "lastModified"), meta(u, "lastModified"))
				break
			}
		}
		checkLeavers(t, h, tn, labUsers, people)
	})

	t.Run("HRAndEntraFirst", func(t *testing.T) {
		tn := seedTenant(t, labUsers)
		h := newHybrid(t, lab, tn)
		hrCount := hrLast - hrFirst + 1
		expectCounts(t, "hr", h.sync(t, "hr", ""), map[string]int{"created": hrCount, "linked": 0})
		expectCounts(t, "entra", h.sync(t, "entra", ""), map[string]int{"created": hybridLast + cloudOnly + 1, "linked": 0})
		// AD's u00001-u00200 join Entra's people, u00301-u00400 HR's;
		// u00201-u00300 find one person by anchor and another by
		// employeeId: conflicts, each AD record a person of its own.
		ad := h.sync(t, "corp-ad", "")
		both := hybridLast - hrFirst + 1
		expectCounts(t, "corp-ad", ad, map[string]int{"linked": hrLast - both, "conflicts": both, "created": adUsers - hrLast + both + labGroups})
		firstRound := h.scimUsers(t)
		const who = 257
		adChanges := h.changes(t, "corp-ad", ad.ID)
		conflict := findChange(adChanges, "conflict", labUsers[sam(who)].canonicalGUID(t))
		if conflict == nil {
			for _, c := range adChanges {
				if c["action"] == "conflict" {
					t.Logf("a conflict: %v", c)
					break
				}
			}
		}
		cloudPerson, hrPerson := firstRound[fmt.Sprintf("u%05d@example.onmicrosoft.com", who)], firstRound[hrKey(who)+"@hr.example"]
		if conflict == nil || cloudPerson == nil || hrPerson == nil {
			t.Fatalf("after the first round: conflict %v, Entra's person %v, HR's person %v", conflict, cloudPerson, hrPerson)
		}
		if detail := fmt.Sprint(conflict["detail"]); !strings.Contains(detail, cloudPerson["id"].(string)) || !strings.Contains(detail, hrPerson["id"].(string)) {
			t.Errorf("the conflict of %s does not name both candidates (%s, %s): %v", sam(who), cloudPerson["id"], hrPerson["id"], conflict)
		}
		if _, ok := firstRound[adUserName(who)]; !ok {
			t.Errorf("%s's AD record is not a person of its own after its conflict", sam(who))
		}
		// The next full runs link the people the conflicts left apart.
		expectCounts(t, "hr again", h.sync(t, "hr", "full"), map[string]int{"linked": both, "conflicts": 0})
		expectCounts(t, "entra again", h.sync(t, "entra", "full"), map[string]int{"linked": both, "conflicts": 0})
		results["HRAndEntraFirst"] = fingerprint(t, h, checkHybrid(t, h, labUsers))
	})

	// What Entra Connect really does: a hybrid user's UPN in Entra is its
	// AD UPN. With HR and Entra first, AD's u00201-u00300 match two people
	// (a key conflict, as above), and the person of its own such a record
	// becomes would take the userName Entra's person holds (a userName
	// conflict), so it is written nowhere; later runs of HR and Entra find
	// no AD contribution to join, and no order of further runs merges them.
	t.Run("HRAndEntraFirstSameUPN", func(t *testing.T) {
		t.Skip("known, for the lead (issue 18 rules): with Entra's UPN equal to AD's, HR then Entra then AD leaves " +
			"u00201-u00300 as two people each (Entra's, HR's) and AD's record of each nowhere: corp-ad's run counts " +
			"conflicts 200 (100 records: keys match 2 people, then userName taken), unresolved 271; further full runs " +
			"of hr, entra and corp-ad change nothing; 2,151 SCIM users instead of 2,051")
		tn := seedTenant(t, labUsers)
		for i := 1; i <= hybridLast; i++ {
			tn.UpdateUser(entraID(i), map[string]any{"userPrincipalName": adUserName(i)})
		}
		h := newHybrid(t, lab, tn)
		for _, name := range []string{"hr", "entra", "corp-ad", "hr", "entra", "corp-ad"} {
			h.sync(t, name, "full")
		}
		checkHybrid(t, h, labUsers)
	})

	a, b := results["ADFirst"], results["HRAndEntraFirst"]
	if a == nil || b == nil {
		return
	}
	diffs := 0
	for _, name := range slices.Sorted(maps.Keys(a)) {
		if a[name] != b[name] && diffs < 5 {
			t.Errorf("%s differs by run order:\n AD first:  %s\n HR first:  %s", name, a[name], b[name])
			diffs++
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d people with AD first, %d with HR and Entra first", len(a), len(b))
	}
}

// person is what checkHybrid expects of one person.
type person struct {
	userName  string
	lab       int // the lab user's number; 0 for a cloud-only user
	cloud     int // the cloud-only user's number
	title     string
	language  string // preferredLanguage, from Entra only
	manager   int    // the lab number of the manager; 0 for none
	sources   []string
	fromTitle string // the source title came from
	fromMgr   string
}

func dept(i int) string { return []string{"Sales", "Engineering", "Support"}[i%3] }

// checkHybrid asserts the merged directory and returns it by userName.
func checkHybrid(t *testing.T, h *hybrid, lab map[string]labUser) map[string]map[string]any {
	t.Helper()
	people := h.scimUsers(t)
	if want := len(lab) + cloudOnly; len(people) != want {
		t.Errorf("%d SCIM users, want %d (AD's %d and %d cloud-only): identity linking made one per person", len(people), want, len(lab), cloudOnly)
	}
	fromHR, fromEntra := 0, 0
	for _, u := range people {
		if strings.HasPrefix(fmt.Sprint(u["title"]), "HR Title") {
			fromHR++
		}
		if u["preferredLanguage"] == "fr-FR" {
			fromEntra++
		}
	}
	if fromHR != hrLast-hrFirst+1 || fromEntra != hybridLast {
		t.Errorf("%d people with HR's title (want %d), %d with Entra's language (want %d)", fromHR, hrLast-hrFirst+1, fromEntra, hybridLast)
	}
	for _, p := range []person{
		{userName: adUserName(157), lab: 157, title: "Engineer", language: "fr-FR", manager: 151,
			sources: []string{"corp-ad", "entra"}, fromTitle: "corp-ad", fromMgr: "corp-ad"},
		{userName: adUserName(257), lab: 257, title: "HR Title 257", language: "fr-FR", manager: hrManager,
			sources: []string{"corp-ad", "entra", "hr"}, fromTitle: "hr", fromMgr: "hr"},
		{userName: adUserName(357), lab: 357, title: "HR Title 357", manager: 351,
			sources: []string{"corp-ad", "hr"}, fromTitle: "hr", fromMgr: "corp-ad"},
		{userName: adUserName(1507), lab: 1507, title: "Engineer", manager: 1501,
			sources: []string{"corp-ad"}, fromTitle: "corp-ad", fromMgr: "corp-ad"},
		{userName: cloudName(7), cloud: 7, title: "Cloud Title", language: "de-DE",
			sources: []string{"entra"}, fromTitle: "entra"},
	} {
		checkPerson(t, h, people, lab, p)
	}
	// Groups stay per source; their members are the merged people.
	for _, g := range []struct {
		source, name string
		members      []string
	}{
		{"corp-ad", "GG-Child", []string{adUserName(2), adUserName(3)}},
		{"entra", "Cloud-Team", []string{adUserName(1), cloudName(1)}},
	} {
		group := h.scimGroup(t, g.name)
		got := map[string]bool{}
		for _, m := range group["members"].([]any) {
			got[fmt.Sprint(m.(map[string]any)["value"])] = true
		}
		for _, name := range g.members {
			if !got[fmt.Sprint(people[name]["id"])] {
				t.Errorf("%s group %s lacks the person %s (%v): members %v", g.source, g.name, name, people[name]["id"], group["members"])
			}
		}
	}
	return people
}

func checkPerson(t *testing.T, h *hybrid, people map[string]map[string]any, lab map[string]labUser, p person) {
	t.Helper()
	u := people[p.userName]
	if u == nil {
		t.Errorf("no SCIM user %s", p.userName)
		return
	}
	ext, _ := u[enterpriseURN].(map[string]any)
	mgr, _ := ext["manager"].(map[string]any)
	wantMgr, wantExternal, wantMail, wantDept, wantNumber := any(nil), any(cloudID(p.cloud)), cloudName(p.cloud), any(nil), any(nil)
	if p.manager != 0 {
		wantMgr = people[adUserName(p.manager)]["id"]
	}
	if p.lab != 0 {
		wantExternal, wantMail = lab[sam(p.lab)].canonicalGUID(t), adUserName(p.lab)
		wantDept, wantNumber = dept(p.lab), fmt.Sprintf("E%05d", p.lab)
	}
	emails, _ := u["emails"].([]any)
	mail := ""
	if len(emails) > 0 {
		mail = fmt.Sprint(emails[0].(map[string]any)["value"])
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"title", u["title"], p.title},
		{"preferredLanguage", u["preferredLanguage"], nilIfEmpty(p.language)},
		{"manager", mgr["value"], wantMgr},
		{"externalId", u["externalId"], wantExternal},
		{"email", mail, wantMail},
		{"department", ext["department"], wantDept},
		{"employeeNumber", ext["employeeNumber"], wantNumber},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %s = %v, want %v", p.userName, c.what, c.got, c.want)
		}
	}

	prov := h.provenance(t, fmt.Sprint(u["id"]))
	var got []string
	first := 0
	for _, c := range prov.Contributions {
		got = append(got, c.SourceName)
		if h.names[c.Source] != c.SourceName {
			t.Errorf("%s: contribution of source %s named %q, want %q", p.userName, c.Source, c.SourceName, h.names[c.Source])
		}
		wantKey, linkers := "", []string{""}
		switch c.SourceName {
		case "corp-ad":
			wantKey, linkers = lab[sam(p.lab)].canonicalGUID(t), []string{"", "anchor", "employeeId"}
		case "entra":
			wantKey, linkers = entraID(p.lab), []string{"", "anchor"}
			if p.cloud != 0 {
				wantKey = cloudID(p.cloud)
			}
		case "hr":
			wantKey, linkers = hrKey(p.lab), []string{"", "employeeId"}
		}
		if c.SourceKey != wantKey || !slices.Contains(linkers, c.LinkedBy) {
			t.Errorf("%s: %s's contribution has key %q linked by %q; want key %q linked by one of %q", p.userName, c.SourceName, c.SourceKey, c.LinkedBy, wantKey, linkers)
		}
		if c.LinkedBy == "" {
			first++
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, p.sources) || first != 1 {
		t.Errorf("%s: contributions from %v (%d not linked by a key), want %v and one first: %+v", p.userName, got, first, p.sources, prov.Contributions)
	}
	fromName := "corp-ad"
	if p.lab == 0 {
		fromName = "entra"
	}
	wantFrom := map[string]string{"userName": fromName, "emails": fromName, "title": p.fromTitle, "externalId": fromName}
	if p.language != "" {
		wantFrom["preferredLanguage"] = "entra"
	}
	if p.fromMgr != "" {
		wantFrom[enterpriseURN+":manager"] = p.fromMgr
	}
	for attr, want := range wantFrom {
		if a, ok := prov.Attributes[attr]; !ok || a.SourceName != want || h.names[a.Source] != want {
			t.Errorf("%s: %s comes from %+v, want %s", p.userName, attr, a, want)
		}
	}
	if _, ok := prov.Attributes["preferredLanguage"]; ok && p.language == "" {
		t.Errorf("%s: provenance names a source for preferredLanguage, which it has not", p.userName)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkLeavers removes people from one source each and checks that only
// that contribution goes: the person keeps its id, and its attributes are
// recomputed from the sources left; a cloud-only person whose only source
// lets go of it is deactivated (the default deletion policy).
func checkLeavers(t *testing.T, h *hybrid, tn *graphtest.Server, lab map[string]labUser, before map[string]map[string]any) {
	t.Helper()
	const offEntra, offHR = 270, 260
	tn.DeleteUser(entraID(offEntra))
	tn.DeleteUser(cloudID(7))
	en := h.sync(t, "entra", "")
	expectCounts(t, "entra after deletions", en, map[string]int{"left": 1, "deactivated": 1})
	if c := findChange(h.changes(t, "entra", en.ID), "leave", entraID(offEntra)); c == nil {
		t.Errorf("entra's change log has no leave of %s", entraID(offEntra))
	}
	writeHR(t, filepath.Join(h.Dir, "hr.csv"), offHR)
	expectCounts(t, "hr without a row", h.sync(t, "hr", ""), map[string]int{"left": 1, "deactivated": 0, "deleted": 0})

	after := h.scimUsers(t)
	if len(after) != len(before) {
		t.Errorf("%d SCIM users after the leavers, %d before", len(after), len(before))
	}
	for _, name := range []string{adUserName(offEntra), adUserName(offHR), cloudName(7)} {
		if after[name]["id"] != before[name]["id"] {
			t.Errorf("%s: id %v became %v", name, before[name]["id"], after[name]["id"])
		}
	}
	if c := after[cloudName(7)]; c["active"] != false {
		t.Errorf("%s left its only source and is active: %v", cloudName(7), c["active"])
	}
	checkPerson(t, h, after, lab, person{userName: adUserName(offEntra), lab: offEntra, title: fmt.Sprintf("HR Title %d", offEntra),
		manager: hrManager, sources: []string{"corp-ad", "hr"}, fromTitle: "hr", fromMgr: "hr"})
	checkPerson(t, h, after, lab, person{userName: adUserName(offHR), lab: offHR, title: "Engineer", language: "fr-FR",
		manager: 251, sources: []string{"corp-ad", "entra"}, fromTitle: "corp-ad", fromMgr: "corp-ad"})
}

// expectCounts checks a run's counts (absent counts are zero).
func expectCounts(t *testing.T, what string, run runCounts, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if run.Counts[k] != v {
			t.Errorf("%s run: %s = %d, want %d (counts %v)", what, k, run.Counts[k], v, run.Counts)
		}
	}
}

// findChange finds the change of action on the record key.
func findChange(changes []map[string]any, action, key string) map[string]any {
	for _, c := range changes {
		if c["action"] == action && c["sourceKey"] == key {
			return c
		}
	}
	return nil
}

func meta(u map[string]any, field string) any {
	m, _ := u["meta"].(map[string]any)
	return m[field]
}

// fingerprint is the directory as two scimgates can compare it: each
// person's SCIM document without ids, meta and groups (the manager by
// userName), and for the people of every tenth lab number and the
// cloud-only ones the provenance's sources, keys and attribute winners.
func fingerprint(t *testing.T, h *hybrid, people map[string]map[string]any) map[string]string {
	t.Helper()
	byID := map[string]string{}
	for name, u := range people {
		byID[fmt.Sprint(u["id"])] = name
	}
	out := map[string]string{}
	for name, u := range people {
		doc := maps.Clone(u)
		delete(doc, "id")
		delete(doc, "meta")
		delete(doc, "groups")
		if ext, ok := doc[enterpriseURN].(map[string]any); ok {
			ext = maps.Clone(ext)
			if m, ok := ext["manager"].(map[string]any); ok {
				ext["manager"] = byID[fmt.Sprint(m["value"])]
			}
			doc[enterpriseURN] = ext
		}
		raw, _ := json.Marshal(doc)
		out[name] = string(raw)
		var n int
		if _, err := fmt.Sscanf(name, "u%05d@example.test", &n); (err == nil && n%10 == 7) || strings.HasPrefix(name, "cloud") {
			prov := h.provenance(t, fmt.Sprint(u["id"]))
			var parts []string
			for _, c := range prov.Contributions {
				parts = append(parts, c.SourceName+"="+c.SourceKey)
			}
			for attr, a := range prov.Attributes {
				parts = append(parts, attr+"<-"+a.SourceName)
			}
			slices.Sort(parts)
			out[name] += " " + strings.Join(parts, " ")
		}
	}
	return out
}

// TestLinkKeyOverAnUnmappedADAttribute: a link template may name an AD
// attribute the mapping does not read. The ldap kind asks the directory
// only for what the mapping names (sources.MappingUser), so the engine
// must tell it about the link templates' attributes too.
func TestLinkKeyOverAnUnmappedADAttribute(t *testing.T) {
	lab := needADLab(t)
	labUsers, _ := lab.read(t)
	h := newHybrid(t, lab, seedTenant(t, labUsers))
	h.api(t, "PATCH", "/api/v1/sources/"+h.sources["corp-ad"], map[string]any{
		"mapping": map[string]any{"user": map[string]any{"enterprise.employeeNumber": "{mail}"}}}, 200)
	h.sync(t, "corp-ad", "")
	expectCounts(t, "hr", h.sync(t, "hr", ""), map[string]int{"created": 0, "linked": hrLast - hrFirst + 1})
}
