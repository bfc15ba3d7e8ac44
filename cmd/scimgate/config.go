package main

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is every setting the scimgate commands read. It is filled in order
// DefaultConfig, YAML file, environment, flags (see load.go), then checked
// once with Validate.
type Config struct {
	// Listen is the host:port serve listens on.
	Listen string `yaml:"listen"`
	// DB is the database: a SQLite file path (created and migrated if
	// missing) or a postgres:// URL (several replicas share one database).
	DB string `yaml:"db"`
	// DBMaxConns caps the read connection pool; 0 means the store's
	// default (see sqlstore.Options.MaxOpenConns).
	DBMaxConns int64 `yaml:"dbMaxConns"`
	// SyncLeaseSeconds is how long a replica's claim on a running source
	// lasts without renewal (renewed every third of it); another replica
	// takes the source over this long after the holder died. 0 means 30.
	SyncLeaseSeconds int64 `yaml:"syncLeaseSeconds"`
	// LogFormat is text or json.
	LogFormat string `yaml:"logFormat"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"logLevel"`
	// BaseURL is the public URL of the server, used for meta.location; empty
	// means "derive it from each request's Host".
	BaseURL string `yaml:"baseURL"`
	// MaxBodyBytes caps request bodies.
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// SecretKeyFile holds the key that seals source secrets when
	// SCIMGATE_SECRET_KEY is not set; generated on first start. Empty
	// means scimgate.key beside the database file, or in the working
	// directory when the database is PostgreSQL. Replicas must share one
	// key: set SCIMGATE_SECRET_KEY on all of them.
	SecretKeyFile string `yaml:"secretKeyFile"`
	// MaxConcurrentRuns caps sync runs of different sources at once.
	MaxConcurrentRuns int64 `yaml:"maxConcurrentRuns"`
	// CSVDirs are the directories csv sources may read files from, joined
	// with the OS list separator (":" as in PATH); relative ones are taken
	// from the working directory at start. The default, ./csv and the
	// bundled example, holds neither the key file nor the database (both
	// in the working directory by default), so a csv source cannot be
	// pointed at them, while the README's first sync works unchanged.
	CSVDirs string `yaml:"csvDirs"`

	// AuthFailuresPerMinute is how many failed authentications one client
	// address may make in a minute before it is answered 429; 0: no limit.
	AuthFailuresPerMinute int64 `yaml:"authFailuresPerMinute"`
	// TokenRequestsPerSecond and TokenBurst limit each API token's
	// request rate (429 past it); 0 rate: no limit.
	TokenRequestsPerSecond int64 `yaml:"tokenRequestsPerSecond"`
	TokenBurst             int64 `yaml:"tokenBurst"`
	// TrustedProxies lists, comma-separated, the addresses or CIDR ranges
	// of reverse proxies whose X-Forwarded-For names the client; empty:
	// the TCP peer is the client.
	TrustedProxies string `yaml:"trustedProxies"`
	// TLSCert and TLSKey are PEM files; with both set serve speaks HTTPS
	// and reloads the pair when the files change.
	TLSCert string `yaml:"tlsCert"`
	TLSKey  string `yaml:"tlsKey"`

	// ConsoleIdleMinutes ends an admin console session nobody used for
	// that long; ConsoleMaxHours ends any session that old. 0: 30 and 12.
	ConsoleIdleMinutes int64 `yaml:"consoleIdleMinutes"`
	ConsoleMaxHours    int64 `yaml:"consoleMaxHours"`
}

// Settings read from the environment only: secrets, kept out of flags
// (visible in ps) and of the config file.
const (
	envAdminToken = "SCIMGATE_ADMIN_TOKEN"
	envSecretKey  = "SCIMGATE_SECRET_KEY"
)

// envOnlySettings describes them for the help.
func envOnlySettings() []struct{ env, usage string } {
	return []struct{ env, usage string }{
		{envAdminToken, "bootstrap admin token for the config API, accepted besides stored admin tokens (default: none)"},
		{envSecretKey, "base64 of the 32-byte key that encrypts source secrets; when set, the key file is not used (replicas must share it)"},
	}
}

// DefaultConfig is what `scimgate serve` runs with when nothing is
// configured: port 8080 on every interface and a SQLite file in the working
// directory, so a first run needs no setup.
func DefaultConfig() Config {
	return Config{
		Listen:            ":8080",
		DB:                "scimgate.db",
		LogFormat:         "text",
		LogLevel:          "info",
		MaxBodyBytes:      1 << 20,
		MaxConcurrentRuns: 4,

		AuthFailuresPerMinute:  20,
		TokenRequestsPerSecond: 50,
		TokenBurst:             100,
		CSVDirs:                strings.Join([]string{"csv", filepath.Join("sources", "csv", "example")}, string(filepath.ListSeparator)),
	}
}

// ConfigError lists every problem found in a configuration, so a user fixes
// them in one round rather than one per run.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// Validate checks every setting and reports all problems at once as a
// *ConfigError, or returns nil.
func (c Config) Validate() error {
	listen, baseURL := listenProblem(c.Listen), baseURLProblem(c.BaseURL)
	_, proxyErr := parseTrustedProxies(c.TrustedProxies)
	proxies := ""
	if proxyErr != nil {
		proxies = proxyErr.Error()
	}
	checks := []struct {
		bad bool
		msg string
	}{
		{listen != "", listen},
		{strings.TrimSpace(c.DB) == "", "db must not be empty"},
		{c.LogFormat != "text" && c.LogFormat != "json", fmt.Sprintf("logFormat %q is not text or json", c.LogFormat)},
		{!validLevel(c.LogLevel), fmt.Sprintf("logLevel %q is not debug, info, warn or error", c.LogLevel)},
		{baseURL != "", baseURL},
		{c.MaxBodyBytes <= 0, fmt.Sprintf("maxBodyBytes %d must be positive", c.MaxBodyBytes)},
		{c.MaxConcurrentRuns <= 0, fmt.Sprintf("maxConcurrentRuns %d must be positive", c.MaxConcurrentRuns)},
		{c.DBMaxConns < 0, fmt.Sprintf("dbMaxConns %d must not be negative", c.DBMaxConns)},
		{len(c.csvDirList()) == 0, "csvDirs must name at least one directory"},
		{c.SyncLeaseSeconds < 0, fmt.Sprintf("syncLeaseSeconds %d must not be negative", c.SyncLeaseSeconds)},
		{c.AuthFailuresPerMinute < 0, fmt.Sprintf("authFailuresPerMinute %d must not be negative (0: no limit)", c.AuthFailuresPerMinute)},
		{c.TokenRequestsPerSecond < 0, fmt.Sprintf("tokenRequestsPerSecond %d must not be negative (0: no limit)", c.TokenRequestsPerSecond)},
		{c.TokenBurst < 0, fmt.Sprintf("tokenBurst %d must not be negative", c.TokenBurst)},
		{proxies != "", proxies},
		{(c.TLSCert == "") != (c.TLSKey == ""), "tlsCert and tlsKey must be set together"},
		{c.ConsoleIdleMinutes < 0, fmt.Sprintf("consoleIdleMinutes %d must not be negative (0: 30)", c.ConsoleIdleMinutes)},
		{c.ConsoleMaxHours < 0, fmt.Sprintf("consoleMaxHours %d must not be negative (0: 12)", c.ConsoleMaxHours)},
	}
	var problems []string
	for _, chk := range checks {
		if chk.bad {
			problems = append(problems, chk.msg)
		}
	}
	if len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	return nil
}

// csvDirList splits CSVDirs, dropping empty entries.
func (c Config) csvDirList() []string {
	var dirs []string
	for _, d := range filepath.SplitList(c.CSVDirs) {
		if strings.TrimSpace(d) != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

func validLevel(s string) bool {
	switch s {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

// listenProblem explains what is wrong with a listen address, or returns "".
// The port must be numeric: service names would make the healthcheck
// command's derived URL ambiguous and are rare in practice.
func listenProblem(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("listen %q is not host:port (e.g. :8080 or 127.0.0.1:8080)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("listen %q: port must be a number from 0 to 65535", addr)
	}
	return ""
}

// baseURLProblem explains what is wrong with a base URL, or returns "".
func baseURLProblem(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("baseURL %q must be an absolute http(s) URL such as https://scim.example.com", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("baseURL %q must not have a query or fragment", s)
	}
	return ""
}

// parseTrustedProxies reads a comma-separated list of addresses and CIDR
// ranges.
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("trustedProxies: %q is not an IP address or CIDR range such as 10.0.0.0/8", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
