package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
)

// The hybrid tenant of issue 18: the Samba AD lab (scripts/test-env.sh),
// a Graph emulator whose users carry onPremisesImmutableId for a subset of
// the lab's users, and an HR csv file. The lab is read, never changed.

// adLab is the lab as scripts/samba-ad.sh describes it in SCIMGATE_TEST_LDAP_*.
type adLab struct {
	url, ca, bindDN, password, baseDN string
}

// labOU is where scripts/samba-ad.sh seeds: the users u00001 ... uNNNNN
// and fjackson, and the groups. A source based there sees only the seed,
// not the domain's built-in accounts.
func (l adLab) labOU() string { return "OU=Lab," + l.baseDN }

func needADLab(t *testing.T) adLab {
	t.Helper()
	l := adLab{url: os.Getenv("SCIMGATE_TEST_LDAP_URL"), ca: os.Getenv("SCIMGATE_TEST_LDAP_CA"),
		bindDN: os.Getenv("SCIMGATE_TEST_LDAP_BIND_DN"), password: os.Getenv("SCIMGATE_TEST_LDAP_PASSWORD"),
		baseDN: os.Getenv("SCIMGATE_TEST_LDAP_BASE_DN")}
	if l.url == "" {
		t.Skip("no Samba AD lab: SCIMGATE_TEST_LDAP_URL is not set (run under scripts/test-env.sh)")
	}
	return l
}

// labUser is one seeded user as the lab holds it.
type labUser struct {
	sam  string // u00001
	guid []byte // objectGUID, the 16 bytes
}

// canonicalGUID is the objectGUID as the ldap source's {objectGUID} shows it.
func (u labUser) canonicalGUID(t *testing.T) string {
	t.Helper()
	s, err := sources.GUIDString(u.guid)
	if err != nil {
		t.Fatalf("%s: %v", u.sam, err)
	}
	return s
}

// immutableID is what Entra Connect writes into onPremisesImmutableId.
func (u labUser) immutableID() string { return base64.StdEncoding.EncodeToString(u.guid) }

// read returns every user under the lab OU, by sAMAccountName, and how
// many groups it holds.
func (l adLab) read(t *testing.T) (map[string]labUser, int) {
	t.Helper()
	pem, err := os.ReadFile(l.ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := goldap.DialURL(l.url, goldap.DialWithTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetTimeout(time.Minute)
	if err := c.Bind(l.bindDN, l.password); err != nil {
		t.Fatal(err)
	}
	req := goldap.NewSearchRequest(l.labOU(), goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(&(objectCategory=person)(objectClass=user))", []string{"objectGUID", "sAMAccountName"}, nil)
	res, err := c.SearchWithPaging(req, 500)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]labUser, len(res.Entries))
	for _, e := range res.Entries {
		u := labUser{sam: e.GetAttributeValue("sAMAccountName"), guid: e.GetRawAttributeValue("objectGUID")}
		out[u.sam] = u
	}
	groups, err := c.SearchWithPaging(goldap.NewSearchRequest(l.labOU(), goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(objectCategory=group)", []string{"sAMAccountName"}, nil), 500)
	if err != nil {
		t.Fatal(err)
	}
	return out, len(groups.Entries)
}

// The tenant's shape: AD holds every seeded user; Entra the hybrid ones
// (u00001 ... u00300, by anchor) and cloudOnly more; HR u00201 ... u00400
// by employee number. So u00001-u00200 are AD+Entra, u00201-u00300
// AD+Entra+HR, u00301-u00400 AD+HR, the rest AD alone.
const (
	hybridLast = 300
	hrFirst    = 201
	hrLast     = 400
	cloudOnly  = 50
	// hrManager manages everyone HR lists up to 300 (HR wins the manager
	// there); HR's rows after 300 have no manager (AD's stays).
	hrManager = 400
)

func sam(i int) string        { return fmt.Sprintf("u%05d", i) }
func adUserName(i int) string { return fmt.Sprintf("u%05d@example.test", i) }
func entraID(i int) string    { return fmt.Sprintf("e0000000-0000-4000-8000-%012d", i) }
func cloudID(i int) string    { return fmt.Sprintf("c0000000-0000-4000-8000-%012d", i) }
func cloudName(i int) string  { return fmt.Sprintf("cloud%03d@contoso.example", i) }
func hrKey(i int) string      { return fmt.Sprintf("hr%05d", i) }

// seedTenant is the Graph emulator with the hybrid and cloud-only users
// and one group holding a hybrid user and a cloud-only one. Hybrid users
// have a cloud UPN of their own, so that only the anchor ties them to AD.
func seedTenant(t *testing.T, lab map[string]labUser) *graphtest.Server {
	t.Helper()
	tn := graphtest.New(graphtest.Options{})
	t.Cleanup(tn.Close)
	for i := 1; i <= hybridLast; i++ {
		u, ok := lab[sam(i)]
		if !ok {
			t.Fatalf("the lab has no %s", sam(i))
		}
		tn.AddUser(graphtest.User{ID: entraID(i), UserPrincipalName: fmt.Sprintf("u%05d@example.onmicrosoft.com", i),
			DisplayName: "Cloud " + sam(i), Mail: fmt.Sprintf("u%05d@contoso.example", i), JobTitle: "Cloud Title",
			Department: "Cloud Dept", PreferredLanguage: "fr-FR", OnPremisesImmutableID: u.immutableID()})
	}
	for i := 1; i <= cloudOnly; i++ {
		tn.AddUser(graphtest.User{ID: cloudID(i), UserPrincipalName: cloudName(i), DisplayName: fmt.Sprintf("Cloud %03d", i),
			Mail: cloudName(i), JobTitle: "Cloud Title", PreferredLanguage: "de-DE"})
	}
	tn.AddGroup(graphtest.Group{DisplayName: "Cloud-Team", Members: []string{entraID(1), cloudID(1)}})
	return tn
}

// writeHR writes the HR export, without the rows of skip.
func writeHR(t *testing.T, path string, skip ...int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("externalId,userName,displayName,title,employeeNumber,manager\n")
	for i := hrFirst; i <= hrLast; i++ {
		if slices.Contains(skip, i) {
			continue
		}
		mgr := ""
		if i <= hybridLast {
			mgr = hrKey(hrManager)
		}
		fmt.Fprintf(&b, "%s,%s@hr.example,HR %d,HR Title %d,E%05d,%s\n", hrKey(i), hrKey(i), i, i, i, mgr)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// hybrid is a running scimgate with the three sources configured
// through the config API.
type hybrid struct {
	*testServer
	reader  string
	sources map[string]string // name -> id
	names   map[string]string // id -> name
}

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// newHybrid starts scimgate and configures corp-ad, entra and hr as issue
// 18's example does.
func newHybrid(t *testing.T, lab adLab, tn *graphtest.Server) *hybrid {
	t.Helper()
	h := &hybrid{testServer: startServer(t), sources: map[string]string{}, names: map[string]string{}}
	tok := h.api(t, "POST", "/api/v1/tokens", map[string]any{"name": "crm", "role": "reader"}, http.StatusCreated)
	h.reader, _ = tok["token"].(string)
	hrPath := filepath.Join(h.Dir, "hr.csv")
	writeHR(t, hrPath)
	for _, body := range []map[string]any{
		{"name": "corp-ad", "kind": "ldap", "precedence": 10,
			"settings": map[string]any{"url": lab.url, "bindDN": lab.bindDN, "bindPassword": lab.password, "baseDN": lab.labOU(), "caFile": lab.ca},
			"link":     map[string]any{"anchor": "{objectGUID}", "employeeId": "{employeeID}"}},
		{"name": "entra", "kind": "entra", "precedence": 20,
			"settings": map[string]any{"tenantId": tn.TenantID(), "clientId": tn.ClientID(), "clientSecret": tn.ClientSecret(),
				"loginURL": tn.URL(), "graphURL": tn.URL()},
			"link": map[string]any{"anchor": "{onPremisesImmutableId|guid}"}},
		{"name": "hr", "kind": "csv", "precedence": 30,
			"settings":      map[string]any{"usersPath": hrPath},
			"link":          map[string]any{"employeeId": "{employeeNumber}"},
			"authoritative": []string{"title", enterpriseURN + ":manager"}},
	} {
		name := body["name"].(string)
		body["enabled"] = true
		src := h.api(t, "POST", "/api/v1/sources", body, http.StatusCreated)
		id, _ := src["id"].(string)
		if link, _ := src["link"].(map[string]any); len(link) == 0 {
			t.Errorf("source %s came back without its link: %v", name, src)
		}
		h.sources[name], h.names[id] = id, name
	}
	return h
}

// runCounts is what the assertions read of a run.
type runCounts struct {
	ID     string         `json:"id"`
	Status string         `json:"status"`
	Mode   string         `json:"mode"`
	Error  string         `json:"error"`
	Counts map[string]int `json:"counts"`
}

// sync runs a source (mode "full" forces a full run) and waits for it to
// succeed.
func (h *hybrid) sync(t *testing.T, name, mode string) runCounts {
	t.Helper()
	path := "/api/v1/sources/" + h.sources[name] + "/sync"
	if mode != "" {
		path += "?mode=" + mode
	}
	started := h.api(t, "POST", path, nil, http.StatusAccepted)
	runID, _ := started["id"].(string)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var run runCounts
		h.get(t, h.Admin, "/api/v1/sources/"+h.sources[name]+"/runs/"+runID, &run)
		if run.Status != "queued" && run.Status != "running" {
			if run.Status != "succeeded" {
				t.Fatalf("run of %s: %+v", name, run)
			}
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run of %s did not finish: %+v", name, run)
		}
	}
}

// changes is a run's whole change log.
func (h *hybrid) changes(t *testing.T, name, runID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for {
		var page struct {
			Total   int              `json:"total"`
			Changes []map[string]any `json:"changes"`
		}
		h.get(t, h.Admin, fmt.Sprintf("/api/v1/sources/%s/runs/%s/changes?limit=1000&offset=%d", h.sources[name], runID, len(out)), &page)
		out = append(out, page.Changes...)
		if len(page.Changes) == 0 || len(out) >= page.Total {
			return out
		}
	}
}

// api sends a config API request as the admin and decodes the answer,
// failing unless the status is want.
func (h *hybrid) api(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	status, raw := h.do(t, h.Admin, method, path, body)
	out := map[string]any{}
	json.Unmarshal(raw, &out)
	if status != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, status, raw, want)
	}
	return out
}

// get GETs path with token into out, failing on anything but 200.
func (h *hybrid) get(t *testing.T, token, path string, out any) {
	t.Helper()
	status, raw := h.do(t, token, "GET", path, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, status, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
}

func (h *hybrid) do(t *testing.T, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, h.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		// Tokens have a request rate (api's limits): wait as told, as a
		// client should. Only GETs come here often enough to meet it.
		wait, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if res.StatusCode != http.StatusTooManyRequests || method != http.MethodGet || err != nil {
			return res.StatusCode, raw
		}
		time.Sleep(time.Duration(wait) * time.Second)
	}
}

// scimUsers reads every SCIM user, by userName.
func (h *hybrid) scimUsers(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for start := 1; ; {
		var page struct {
			TotalResults int              `json:"totalResults"`
			Resources    []map[string]any `json:"Resources"`
		}
		h.get(t, h.reader, fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=500", start), &page)
		for _, u := range page.Resources {
			name, _ := u["userName"].(string)
			if _, dup := out[name]; dup {
				t.Errorf("two SCIM users named %s", name)
			}
			out[name] = u
		}
		start += len(page.Resources)
		if len(page.Resources) == 0 || start > page.TotalResults {
			if len(out) != page.TotalResults {
				t.Errorf("paged through %d users, totalResults %d", len(out), page.TotalResults)
			}
			return out
		}
	}
}

// scimGroup reads the one group named displayName.
func (h *hybrid) scimGroup(t *testing.T, displayName string) map[string]any {
	t.Helper()
	var page struct {
		Resources []map[string]any `json:"Resources"`
	}
	h.get(t, h.reader, "/scim/v2/Groups?filter="+url.QueryEscape(`displayName eq "`+displayName+`"`), &page)
	if len(page.Resources) != 1 {
		t.Fatalf("groups named %s: %v", displayName, page.Resources)
	}
	return page.Resources[0]
}

// provenance is GET /api/v1/users/{id}/provenance.
type provenance struct {
	ID            string `json:"id"`
	Contributions []struct {
		Source     string `json:"source"`
		SourceName string `json:"sourceName"`
		SourceKey  string `json:"sourceKey"`
		LinkedBy   string `json:"linkedBy"`
	} `json:"contributions"`
	Attributes map[string]struct {
		Source     string `json:"source"`
		SourceName string `json:"sourceName"`
	} `json:"attributes"`
}

func (h *hybrid) provenance(t *testing.T, userID string) provenance {
	t.Helper()
	var p provenance
	h.get(t, h.Admin, "/api/v1/users/"+userID+"/provenance", &p)
	return p
}
