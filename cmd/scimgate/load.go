package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Names of the settings that choose where the other settings come from.
const (
	flagConfig      = "config"
	envConfig       = "SCIMGATE_CONFIG"
	flagNoExpandEnv = "no-expand-env"
)

// setting ties one Config field to its flag, environment variable and YAML
// key. Flag registration, loading and help text all read this one table, so
// a new setting cannot be half wired.
type setting struct {
	key   string // YAML key, as in Config's tags
	flag  string
	env   string
	usage string
	field func(*Config) any // a *string or *int64 into the Config
}

func settings() []setting {
	return []setting{
		{"listen", "listen", "SCIMGATE_LISTEN", "address to listen on, host:port",
			func(c *Config) any { return &c.Listen }},
		{"db", "db", "SCIMGATE_DB", "database: path of the SQLite file (created and migrated if missing), or postgres://user:pass@host/db for several replicas",
			func(c *Config) any { return &c.DB }},
		{"dbMaxConns", "db-max-conns", "SCIMGATE_DB_MAX_CONNS", "read connections to the database (0: 2×cores+2 for SQLite, 10 for PostgreSQL)",
			func(c *Config) any { return &c.DBMaxConns }},
		{"consoleIdleMinutes", "console-idle-minutes", "SCIMGATE_CONSOLE_IDLE_MINUTES", "minutes an unused admin console session lasts (0: 30)",
			func(c *Config) any { return &c.ConsoleIdleMinutes }},
		{"consoleMaxHours", "console-max-hours", "SCIMGATE_CONSOLE_MAX_HOURS", "hours an admin console session lasts at most, however busy (0: 12)",
			func(c *Config) any { return &c.ConsoleMaxHours }},
		{"syncLeaseSeconds", "sync-lease-seconds", "SCIMGATE_SYNC_LEASE_SECONDS", "seconds a replica's claim on a running sync lasts unrenewed; another replica takes over this long after it dies (0: 30)",
			func(c *Config) any { return &c.SyncLeaseSeconds }},
		{"logFormat", "log-format", "SCIMGATE_LOG_FORMAT", "log format: text or json",
			func(c *Config) any { return &c.LogFormat }},
		{"logLevel", "log-level", "SCIMGATE_LOG_LEVEL", "log level: debug, info, warn or error",
			func(c *Config) any { return &c.LogLevel }},
		{"baseURL", "base-url", "SCIMGATE_BASE_URL", "public URL of the server for meta.location, e.g. https://scim.example.com (default: each request's Host)",
			func(c *Config) any { return &c.BaseURL }},
		{"maxBodyBytes", "max-body-bytes", "SCIMGATE_MAX_BODY_BYTES", "largest request body accepted, in bytes",
			func(c *Config) any { return &c.MaxBodyBytes }},
		{"secretKeyFile", "secret-key-file", "SCIMGATE_SECRET_KEY_FILE", "file with the key that encrypts source secrets, created on first start unless SCIMGATE_SECRET_KEY (base64 of 32 bytes) is set (default: scimgate.key beside the SQLite database, or in the working directory for PostgreSQL; replicas must share SCIMGATE_SECRET_KEY)",
			func(c *Config) any { return &c.SecretKeyFile }},
		{"maxConcurrentRuns", "max-concurrent-runs", "SCIMGATE_MAX_CONCURRENT_RUNS", "sync runs of different sources at the same time",
			func(c *Config) any { return &c.MaxConcurrentRuns }},
		{"authFailuresPerMinute", "auth-failures-per-minute", "SCIMGATE_AUTH_FAILURES_PER_MINUTE", "failed authentications one client address may make in a minute before it is answered 429 (0: no limit)",
			func(c *Config) any { return &c.AuthFailuresPerMinute }},
		{"tokenRequestsPerSecond", "token-requests-per-second", "SCIMGATE_TOKEN_REQUESTS_PER_SECOND", "average requests a second one API token may make before it is answered 429 (0: no limit)",
			func(c *Config) any { return &c.TokenRequestsPerSecond }},
		{"tokenBurst", "token-burst", "SCIMGATE_TOKEN_BURST", "requests one API token may make at once above its average rate",
			func(c *Config) any { return &c.TokenBurst }},
		{"trustedProxies", "trusted-proxies", "SCIMGATE_TRUSTED_PROXIES", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (default: none; the TCP peer is the client)",
			func(c *Config) any { return &c.TrustedProxies }},
		{"tlsCert", "tls-cert", "SCIMGATE_TLS_CERT", "PEM certificate (chain) file; with --tls-key, serve HTTPS and reload both when they change",
			func(c *Config) any { return &c.TLSCert }},
		{"tlsKey", "tls-key", "SCIMGATE_TLS_KEY", "PEM private key file of --tls-cert",
			func(c *Config) any { return &c.TLSKey }},
		{"csvDirs", "csv-dir", "SCIMGATE_CSV_DIRS", "directories csv sources may read, separated by ':' (relative to the working directory; symlinks are resolved; files must be regular, at most 1 GiB with lines of at most 1 MiB)",
			func(c *Config) any { return &c.CSVDirs }},
	}
}

// addFlags registers the flags of the named settings on fs, with the
// defaults of DefaultConfig and the environment variable in the usage.
func addFlags(fs *pflag.FlagSet, keys ...string) {
	def := DefaultConfig()
	for _, s := range settings() {
		if !slices.Contains(keys, s.key) {
			continue
		}
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		switch p := s.field(&def).(type) {
		case *string:
			fs.String(s.flag, *p, usage)
		case *int64:
			fs.Int64(s.flag, *p, usage)
		}
	}
}

// loadConfig builds the configuration from, lowest precedence first:
// DefaultConfig, the YAML file (--config or SCIMGATE_CONFIG), environment
// variables, and the flags set on fs. It validates the result; a
// *ConfigError lists every problem, including unparsable environment values.
// An empty environment variable counts as unset, so `-e SCIMGATE_X=` in a
// container does not clear a value from the file.
func loadConfig(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) (Config, error) {
	cfg := DefaultConfig()
	if path := configPath(fs, lookupEnv); path != "" {
		noExpand := false
		if f := fs.Lookup(flagNoExpandEnv); f != nil {
			noExpand = f.Value.String() == "true"
		}
		if err := readConfigFile(path, !noExpand, lookupEnv, &cfg); err != nil {
			return Config{}, err
		}
	}

	var problems []string
	for _, s := range settings() {
		// A flag the user set wins outright, so a bad environment value it
		// overrides is not worth reporting.
		if f := fs.Lookup(s.flag); f != nil && f.Changed {
			if err := setValue(s.field(&cfg), f.Value.String()); err != nil {
				problems = append(problems, fmt.Sprintf("--%s: %v", s.flag, err))
			}
			continue
		}
		if v, ok := lookupEnv(s.env); ok && v != "" {
			if err := setValue(s.field(&cfg), v); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", s.env, err))
			}
		}
	}

	var ce *ConfigError
	if err := cfg.Validate(); errors.As(err, &ce) {
		problems = append(problems, ce.Problems...)
	}
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// configPath is the config file named by --config, else by SCIMGATE_CONFIG,
// else "" (no file: there is no default location to surprise anyone).
func configPath(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) string {
	if f := fs.Lookup(flagConfig); f != nil && f.Changed {
		return f.Value.String()
	}
	v, _ := lookupEnv(envConfig)
	return v
}

// readConfigFile decodes the YAML file at path over cfg, so keys it omits
// keep their current values. Unknown keys are errors: a typo must not
// silently fall back to a default. With expandEnv, $VAR and ${VAR} are
// replaced from the environment first, which keeps secrets out of the file.
func readConfigFile(path string, expandEnv bool, lookupEnv func(string) (string, bool), cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if expandEnv {
		data = []byte(os.Expand(string(data), func(k string) string {
			v, _ := lookupEnv(k)
			return v
		}))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // EOF: empty file
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// setValue parses v into the Config field p points at.
func setValue(p any, v string) error {
	switch p := p.(type) {
	case *string:
		*p = v
	case *int64:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p = n
	default:
		return fmt.Errorf("unsupported setting type %T", p)
	}
	return nil
}
