package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// ClientAuth is how the client authenticates: the push's auth settings
// and the secrets opened for it.
type ClientAuth struct {
	storage.PushAuth
	Token        string // bearer
	ClientSecret string // oauth2
}

// ClientConfig configures a Client.
type ClientConfig struct {
	BaseURL string // the target's SCIM base, e.g. https://api.example.com/scim/v2
	Auth    ClientAuth
	Profile Profile
	// HTTPClient sends the requests (and fetches oauth2 tokens); nil
	// means a client with connect, TLS, header and overall timeouts.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Sleep waits between attempts; nil waits on a timer. Tests inject
	// one that records the wait and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe, when set, is told each attempt's method and outcome
	// (OutcomeOK, OutcomeClientError, ...), for metrics.
	Observe func(method, outcome string)
	// MaxAttempts bounds the attempts of one request (default 5).
	MaxAttempts int
	// MaxRetryAfter caps how long a Retry-After is waited for (default
	// 60 s); a target asking for longer gets a *TargetError with
	// RetryAfter set instead of a wait.
	MaxRetryAfter time.Duration
	// BaseBackoff is the first backoff after a network error or 5xx
	// (default 500 ms), doubled per attempt up to 30 s, with jitter.
	BaseBackoff time.Duration
	// MaxBody bounds one response body (default 16 MiB).
	MaxBody int64
	// MaxPages bounds the pages of one list (default 100000), so a target
	// that never ends cannot hold a run forever.
	MaxPages int
	// Now reads the time for a Retry-After given as an HTTP-date when the
	// answer has no Date header; nil is time.Now.
	Now func() time.Time
}

// Request outcomes, as Observe reports them.
const (
	OutcomeOK          = "ok"
	OutcomeClientError = "client_error"
	OutcomeServerError = "server_error"
	OutcomeThrottled   = "throttled"
	OutcomeNetwork     = "network"
)

// Client is a SCIM 2.0 client for one target; it implements Target and
// is safe for concurrent use. What its errors mean for the engine:
//
//   - *TargetError: the target's final answer about this request (a 4xx,
//     or a 5xx that outlasted the retries; a 404 from Get, Replace or
//     Patch means the object is gone from the target). 401 and 403 are
//     about every request, not one object; so is a 429 or 503 with
//     RetryAfter set (the target throttles past MaxRetryAfter or the
//     attempts).
//   - errors.Is(err, ErrOutcomeUnknown): a create that may or may not
//     have been applied; look the object up before creating it again.
//   - anything else (no answer after the retries, DNS, TLS, the oauth2
//     token endpoint, a malformed answer, a cancelled context): the
//     target cannot be worked with now.
//
// Delete treats 404 as done.
type Client struct {
	base    *url.URL
	cfg     ClientConfig
	http    *http.Client
	log     *slog.Logger
	auth    authorizer
	profile Profile

	mu   sync.Mutex
	caps *Capabilities
}

var _ Target = (*Client)(nil)

// NewClient checks cfg and returns a client; it sends nothing.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("push url %q: must be an absolute http(s) URL such as https://api.example.com/scim/v2", cfg.BaseURL)
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("push url %q: must not have a query or fragment", cfg.BaseURL)
	}
	if cfg.Profile.Name == "" {
		cfg.Profile, _ = ProfileByName(DefaultProfile)
	}
	if cfg.Profile.PageSize <= 0 {
		cfg.Profile.PageSize = 100
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 60 * time.Second
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 100000
	}
	auth, err := newAuthorizer(cfg.Auth, cfg.HTTPClient)
	if err != nil {
		return nil, err
	}
	return &Client{base: base, cfg: cfg, http: cfg.HTTPClient, log: cfg.Logger, auth: auth, profile: cfg.Profile}, nil
}

// Profile returns the client's profile.
func (c *Client) Profile() Profile { return c.profile }

func defaultHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   32,
			ForceAttemptHTTP2:     true,
		},
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Capabilities reads what the target can do once and keeps it: the SPC
// (RFC 7643 §5: patch.supported, filter.supported, filter.maxResults)
// when the profile says to, bounded by the profile.
func (c *Client) Capabilities(ctx context.Context) (Capabilities, error) {
	c.mu.Lock()
	if c.caps != nil {
		caps := *c.caps
		c.mu.Unlock()
		return caps, nil
	}
	c.mu.Unlock()
	p := c.profile
	caps := Capabilities{
		Patch:              p.Patch != PatchNever,
		Filter:             true,
		FilterAttrs:        p.filterAttrUnion(),
		MaxMembersPerPatch: p.MaxMembersPerPatch,
		PathlessReplace:    p.PathlessReplace,
		PageSize:           p.PageSize,
		GroupMembersHidden: p.GroupMembersHidden,
		SingleValues:       p.SingleValues,
		// A copy: callers may keep the capabilities.
		UnsupportedUserAttrs: slices.Clone(p.UnsupportedUserAttrs),
	}
	if p.ReadSPC {
		var spc struct {
			Patch  struct{ Supported bool } `json:"patch"`
			Filter struct {
				Supported  bool `json:"supported"`
				MaxResults int  `json:"maxResults"`
			} `json:"filter"`
		}
		err := c.do(ctx, http.MethodGet, "/ServiceProviderConfig", "", nil, &spc)
		var te *TargetError
		switch {
		case errors.As(err, &te) && te.Status == http.StatusNotFound:
			// RFC 7644 §4 requires the endpoint, yet some SaaS targets
			// lack it; PATCH and eq filters are what they commonly have.
			c.log.Warn("push target has no /ServiceProviderConfig; assuming PATCH and filters", "url", c.base.String())
		case err != nil:
			return Capabilities{}, fmt.Errorf("read the target's capabilities: %w", err)
		default:
			if p.Patch == PatchFromSPC {
				caps.Patch = spc.Patch.Supported
			}
			caps.Filter = spc.Filter.Supported
			if m := spc.Filter.MaxResults; m > 0 && m < caps.PageSize {
				caps.PageSize = m
			}
		}
	}
	c.mu.Lock()
	c.caps = &caps
	c.mu.Unlock()
	return caps, nil
}

// pageSize is the count to ask for: the profile's, bounded by the SPC's
// maxResults once Capabilities has read it.
func (c *Client) pageSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.caps != nil {
		return c.caps.PageSize
	}
	return c.profile.PageSize
}

// CloseIdleConnections releases the connections the client keeps for
// reuse; whoever makes a client per run calls it when the run ends, so
// a default HTTP client's idle connections do not outlive it.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }
