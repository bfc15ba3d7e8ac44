package outbound_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
)

// observed records what Observe was told.
type observed struct {
	mu   sync.Mutex
	seen []string
}

func (o *observed) observe(method, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, method+" "+outcome)
}

func (o *observed) all() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.seen)
}

func TestClientRetries(t *testing.T) {
	ctx := context.Background()
	retryAt := time.Date(2026, 1, 5, 9, 0, 12, 0, time.UTC).Format(http.TimeFormat) // the target's clock + 12 s
	cases := []struct {
		name      string
		fault     targettest.Fault
		method    string // GET (a read) or POST (a create)
		wantErr   func(error) bool
		wantWaits []time.Duration // nil: only count them
		waits     int
		requests  int // requests the target saw
		observed  []string
		created   bool // the user exists afterwards
	}{
		{
			name: "5xx then success", fault: targettest.Fault{Times: 2, Status: 500}, method: "GET",
			waits: 2, requests: 3, observed: []string{"GET server_error", "GET server_error", "GET ok"},
		},
		{
			name: "5xx outlasting the attempts", fault: targettest.Fault{Times: 9, Status: 502}, method: "GET",
			wantErr: isTargetError(502), waits: 4, requests: 5,
		},
		{
			name: "429 waits for Retry-After", fault: targettest.Fault{Times: 2, Status: 429, RetryAfter: "7"}, method: "GET",
			wantWaits: []time.Duration{7 * time.Second, 7 * time.Second}, requests: 3,
			observed: []string{"GET throttled", "GET throttled", "GET ok"},
		},
		{
			name: "503 with an HTTP-date Retry-After", fault: targettest.Fault{Times: 1, Status: 503, RetryAfter: retryAt}, method: "GET",
			wantWaits: []time.Duration{12 * time.Second}, requests: 2,
		},
		{
			name: "Retry-After past the cap is not waited for", fault: targettest.Fault{Times: 1, Status: 429, RetryAfter: "600"}, method: "GET",
			wantErr: func(err error) bool {
				var te *outbound.TargetError
				return errors.As(err, &te) && te.Status == 429 && te.RetryAfter == 600*time.Second
			},
			wantWaits: []time.Duration{}, requests: 1,
		},
		{
			name: "POST retried after 429", fault: targettest.Fault{Times: 1, Status: 429, RetryAfter: "3"}, method: "POST",
			wantWaits: []time.Duration{3 * time.Second}, requests: 2, created: true,
		},
		{
			name: "POST retried after 503 with Retry-After", fault: targettest.Fault{Times: 1, Status: 503, RetryAfter: "1"}, method: "POST",
			wantWaits: []time.Duration{time.Second}, requests: 2, created: true,
		},
		{
			name: "POST not retried after 500", fault: targettest.Fault{Times: 1, Status: 500}, method: "POST",
			wantErr:   func(err error) bool { return errors.Is(err, outbound.ErrOutcomeUnknown) && isTargetError(500)(err) },
			wantWaits: []time.Duration{}, requests: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tgt := targettest.New(t, targettest.Options{Token: testToken})
			id := tgt.AddUser(t, map[string]any{"userName": "seed@example.com"})
			obs := &observed{}
			c, s := newClient(t, tgt, "generic", func(cfg *outbound.ClientConfig) { cfg.Observe = obs.observe })
			tgt.Inject(tc.fault)
			var err error
			if tc.method == "POST" {
				_, err = c.Create(ctx, outbound.KindUsers, userBody("new@example.com", "x"))
			} else {
				_, err = c.Get(ctx, outbound.KindUsers, id)
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("err = %v, want success", err)
			}
			if tc.wantErr != nil && !tc.wantErr(err) {
				t.Fatalf("err = %v (%T), not the error wanted", err, err)
			}
			if tc.wantWaits != nil && !slices.Equal(s.all(), tc.wantWaits) {
				t.Errorf("waits = %v, want %v", s.all(), tc.wantWaits)
			}
			if tc.wantWaits == nil && len(s.all()) != tc.waits {
				t.Errorf("waits = %v, want %d of them", s.all(), tc.waits)
			}
			if n := len(tgt.Requests()); n != tc.requests {
				t.Errorf("target saw %d requests, want %d", n, tc.requests)
			}
			if tc.observed != nil && !slices.Equal(obs.all(), tc.observed) {
				t.Errorf("observed %v, want %v", obs.all(), tc.observed)
			}
			if _, ok := tgt.UserByName("new@example.com"); ok != tc.created {
				t.Errorf("user created = %v, want %v", ok, tc.created)
			}
		})
	}
}

func isTargetError(status int) func(error) bool {
	return func(err error) bool {
		var te *outbound.TargetError
		return errors.As(err, &te) && te.Status == status
	}
}

func TestClientLostCreateAnswer(t *testing.T) {
	ctx := context.Background()
	tgt := targettest.New(t, targettest.Options{Token: testToken})
	c, s := newClient(t, tgt, "generic")
	tgt.LoseCreateResponses(1)
	_, err := c.Create(ctx, outbound.KindUsers, userBody("lost@example.com", "ext-lost"))
	if !errors.Is(err, outbound.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	var te *outbound.TargetError
	if errors.As(err, &te) {
		t.Fatalf("a lost answer is not the target's answer: %v", err)
	}
	if _, ok := tgt.UserByName("lost@example.com"); !ok {
		t.Fatal("the target should hold the user whose answer was lost")
	}
	if n := tgt.Count("POST", "/Users"); n != 1 || len(s.all()) != 0 {
		t.Fatalf("POSTs = %d, waits = %v: a create whose answer was lost must not be resent", n, s.all())
	}
	// What the engine does next: find it by its match attribute.
	rs, err := c.Find(ctx, outbound.KindUsers, "userName", "lost@example.com")
	if err != nil || len(rs) != 1 || rs[0].ExternalID != "ext-lost" {
		t.Fatalf("find after the lost answer = %+v, %v", rs, err)
	}
}

func TestClientNetworkErrors(t *testing.T) {
	ctx := context.Background()
	// A listener that was closed: every dial is refused, before anything
	// is sent, so even a POST is safe to retry.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/scim/v2"
	srv.Close()
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			obs := &observed{}
			s := &sleeps{}
			p, _ := outbound.ProfileByName("generic")
			c, err := outbound.NewClient(outbound.ClientConfig{BaseURL: url, Profile: p, Sleep: s.sleep, Observe: obs.observe, MaxAttempts: 3,
				Auth: outbound.ClientAuth{PushAuth: bearerAuth, Token: testToken}})
			if err != nil {
				t.Fatal(err)
			}
			if method == "POST" {
				_, err = c.Create(ctx, outbound.KindUsers, userBody("a@example.com", ""))
			} else {
				_, err = c.Get(ctx, outbound.KindUsers, "u-1")
			}
			var te *outbound.TargetError
			if err == nil || errors.As(err, &te) || errors.Is(err, outbound.ErrOutcomeUnknown) {
				t.Fatalf("err = %v, want a plain network error", err)
			}
			if !strings.Contains(err.Error(), "3 attempts") {
				t.Errorf("err = %v, want it to say how often it tried", err)
			}
			if len(s.all()) != 2 || !slices.Equal(obs.all(), []string{method + " network", method + " network", method + " network"}) {
				t.Errorf("waits %v, observed %v", s.all(), obs.all())
			}
		})
	}
}

func TestClientCancelledWhileWaiting(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: testToken})
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := newClient(t, tgt, "generic", func(cfg *outbound.ClientConfig) {
		cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			cancel() // the run is stopped while the client waits
			<-ctx.Done()
			return ctx.Err()
		}
	})
	tgt.Fail429(5, 10*time.Second)
	_, err := c.Get(ctx, outbound.KindUsers, "u-1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(tgt.Requests()); n != 1 {
		t.Fatalf("target saw %d requests after the cancel, want 1", n)
	}
}

func TestClientSlowTarget(t *testing.T) {
	// The target takes far longer than the client waits: a read is tried
	// again and gives up, a create sent on the wire is outcome unknown.
	tgt := targettest.New(t, targettest.Options{Token: testToken})
	tgt.Latency(time.Hour)
	t.Cleanup(func() { tgt.Latency(0) })
	c, s := newClient(t, tgt, "generic", func(cfg *outbound.ClientConfig) {
		cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
		cfg.MaxAttempts = 2
	})
	_, err := c.Get(context.Background(), outbound.KindUsers, "u-1")
	if err == nil || errors.Is(err, outbound.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "2 attempts") || len(s.all()) != 1 {
		t.Fatalf("slow GET: err = %v, waits %v", err, s.all())
	}
	_, err = c.Create(context.Background(), outbound.KindUsers, userBody("slow@example.com", ""))
	if !errors.Is(err, outbound.ErrOutcomeUnknown) || len(s.all()) != 1 {
		t.Fatalf("slow POST: err = %v, waits %v", err, s.all())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c2, _ := newClient(t, tgt, "generic")
	_, err = c2.Create(ctx, outbound.KindUsers, userBody("slow2@example.com", ""))
	if !errors.Is(err, outbound.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("POST past the context's deadline: err = %v, want outcome unknown and the deadline", err)
	}
}
