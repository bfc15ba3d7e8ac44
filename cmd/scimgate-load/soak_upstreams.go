package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
)

// upstreams are the three directories the soak syncs from: a csv file, an
// emulated Okta org with small rate-limit budgets, and an emulated Graph
// tenant that throttles on a timer. Each grows by a user per tick, so
// every run has something to write.
type upstreams struct {
	dir      string
	csvPath  string
	csvRows  []string
	okta     *oktatest.Server
	oktaTok  string
	graph    *graphtest.Server
	cleanup  *cleanupTB
	added    int
	stopTime chan struct{}
	// throttles is how many Graph faults were injected; new ones wait
	// until those were answered and throttleGap has passed, so no single
	// request meets more than three in a row (the entra client rightly
	// gives up on a request after 8 attempts).
	throttles     int
	lastThrottled time.Time
}

// cleanupTB is the little of testing.TB the Okta emulator uses (Helper
// and Cleanup), so the soak command can run it outside a test.
type cleanupTB struct {
	testing.TB
	mu  sync.Mutex
	fns []func()
}

func (c *cleanupTB) Helper() {}
func (c *cleanupTB) Cleanup(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, f)
}
func (c *cleanupTB) run() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
}

// oktaLimits are per-minute budgets far below Okta's real ones: a full
// run of the seeded org needs more list-users calls than its window
// holds, so every run meets the limit and must wait for the reset.
var oktaLimits = map[string]int{"users": 3, "groups": 6, "group": 20, "api": 30}

// oktaConcurrency is the org's limit on simultaneous requests, below the
// client's default of 4 workers, so member lists meet 429s for
// concurrency too.
const oktaConcurrency = 2

func startUpstreams(dir string, users int) (*upstreams, error) {
	u := &upstreams{dir: dir, csvPath: filepath.Join(dir, "users.csv"), cleanup: &cleanupTB{}, stopTime: make(chan struct{})}
	u.csvRows = []string{strings.Join([]string{"externalId", "userName", "givenName", "familyName", "email", "title", "department"}, ",")}
	for i := range users {
		u.csvRows = append(u.csvRows, csvRow(i))
	}
	if err := u.writeCSV(); err != nil {
		return nil, err
	}

	// The Okta emulator keeps a manual clock (its tests move time by
	// hand); here it follows the wall clock, so its rate-limit windows
	// and X-Rate-Limit-Reset agree with the time the client sleeps.
	clock := oktatest.NewClock(time.Now())
	u.okta = oktatest.New(u.cleanup, oktatest.Options{Clock: clock, RateLimits: oktaLimits, ConcurrencyLimit: oktaConcurrency})
	go followWallClock(clock, u.stopTime)
	u.oktaTok = "soak-okta-api-token"
	u.okta.AddAPIToken(u.oktaTok, true)
	u.okta.Seed(users, 5, func(i int) oktatest.UserSpec {
		return oktatest.UserSpec{Login: fmt.Sprintf("okta%06d@soak.example", i), Email: fmt.Sprintf("okta%06d@soak.example", i),
			FirstName: "Okta", LastName: fmt.Sprintf("User%d", i)}
	}, func(i int) []int { return []int{i % 5} })

	u.graph = graphtest.New(graphtest.Options{})
	u.graph.Seed(graphtest.SeedOptions{Users: users, Groups: 5})
	return u, nil
}

func followWallClock(c *oktatest.Clock, stop <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if d := time.Until(c.Now()); d < 0 {
				c.Advance(-d)
			}
		}
	}
}

func csvRow(i int) string {
	return fmt.Sprintf("csv-%d,csv%06d@soak.example,Csv,User%d,csv%06d@soak.example,Clerk,ops", i, i, i, i)
}

func (u *upstreams) writeCSV() error {
	tmp := u.csvPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(u.csvRows, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, u.csvPath) // a run never reads half a file
}

// churn adds a user to each directory and throttles Graph: the next
// requests answer 429 with Retry-After and a 503, which the entra client
// must wait out without failing the run.
func (u *upstreams) churn(users int) error {
	i := users + u.added
	u.added++
	u.csvRows = append(u.csvRows, csvRow(i))
	if err := u.writeCSV(); err != nil {
		return err
	}
	u.okta.AddUser(oktatest.UserSpec{Login: fmt.Sprintf("okta%06d@soak.example", i), Email: fmt.Sprintf("okta%06d@soak.example", i),
		FirstName: "Okta", LastName: fmt.Sprintf("User%d", i)})
	u.graph.AddUser(graphtest.User{UserPrincipalName: fmt.Sprintf("user%06d@contoso.example", i), DisplayName: fmt.Sprintf("User %d", i),
		GivenName: "New", Surname: "User", Mail: fmt.Sprintf("user%06d@contoso.example", i)})
	if u.graphThrottled() >= u.throttles && time.Since(u.lastThrottled) >= throttleGap {
		u.lastThrottled = time.Now()
		u.graph.Throttle(2, http.StatusTooManyRequests, time.Second)
		u.graph.Throttle(1, http.StatusServiceUnavailable, time.Second)
		u.throttles += 3
	}
	return nil
}

// graphThrottled counts the Graph answers that were injected faults.
func (u *upstreams) graphThrottled() int {
	n := 0
	for _, r := range u.graph.Requests() {
		if r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable {
			n++
		}
	}
	return n
}

// throttleFigures reports how the clients met throttling: Okta 429s
// (over budget or over the concurrency limit), Graph 429/503s, and Graph retries that came before the
// Retry-After.
func (u *upstreams) throttleFigures() (okta429, graphThrottled, graphEarly int) {
	st := u.okta.Stats()
	return st.OverBudget + st.OverConcurrency, u.graphThrottled(), u.graph.EarlyRetries()
}

// throttleGap spaces Graph's throttling bursts: three faults with 1 s
// Retry-After cost a request about 3 s, so by the next burst it is done.
const throttleGap = 10 * time.Second

func (u *upstreams) close() {
	close(u.stopTime)
	u.graph.Close()
	u.cleanup.run()
}

// createSources registers the three sources; schedule is "" when the soak
// triggers the runs itself (intervals under the scheduler's 1m minimum).
func (u *upstreams) createSources(ctx context.Context, s *soakServer, schedule string) (map[string]string, error) {
	maxWait := "10m"
	specs := []map[string]any{
		{"name": "soak-csv", "kind": "csv", "settings": map[string]any{"usersPath": u.csvPath}},
		{"name": "soak-okta", "kind": "okta", "settings": map[string]any{"orgURL": u.okta.URL, "apiToken": u.oktaTok, "maxRateLimitWait": maxWait}},
		{"name": "soak-entra", "kind": "entra", "settings": map[string]any{"tenantId": u.graph.TenantID(), "clientId": u.graph.ClientID(),
			"clientSecret": u.graph.ClientSecret(), "loginURL": u.graph.URL(), "graphURL": u.graph.URL()}},
	}
	ids := map[string]string{}
	for _, spec := range specs {
		if schedule != "" {
			spec["schedule"] = schedule
		}
		var out struct{ ID string }
		if err := s.adminCall(ctx, http.MethodPost, "/api/v1/sources", spec, http.StatusCreated, &out); err != nil {
			return nil, err
		}
		ids[spec["kind"].(string)] = out.ID
	}
	return ids, nil
}
