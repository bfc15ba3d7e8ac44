package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// serveFlags parses args as the real `scimgate serve` command would, so the
// tests exercise the flags actually registered, persistent ones included.
func serveFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	root := (&Main{}).rootCommand()
	serve, _, err := root.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return serve.Flags()
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigPrecedence(t *testing.T) {
	t.Parallel()
	fileA := writeFile(t, "a.yaml", "listen: ':9000'\nlogLevel: debug\nmaxBodyBytes: 2048\n")
	fileB := writeFile(t, "b.yaml", "listen: ':9001'\n")
	fileExpand := writeFile(t, "e.yaml", "db: ${DATA}/scim.db\n")
	fileEmpty := writeFile(t, "empty.yaml", "")

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(*Config)
	}{
		{
			name: "defaults",
			want: func(*Config) {},
		},
		{
			name: "file beats default",
			args: []string{"--config", fileA},
			want: func(c *Config) { c.Listen, c.LogLevel, c.MaxBodyBytes = ":9000", "debug", 2048 },
		},
		{
			name: "env beats file, file keys the env leaves alone survive",
			env:  map[string]string{"SCIMGATE_LISTEN": ":9100", "SCIMGATE_MAX_BODY_BYTES": "4096"},
			args: []string{"--config", fileA},
			want: func(c *Config) { c.Listen, c.LogLevel, c.MaxBodyBytes = ":9100", "debug", 4096 },
		},
		{
			name: "flag beats env beats file",
			env:  map[string]string{"SCIMGATE_LISTEN": ":9100", "SCIMGATE_MAX_BODY_BYTES": "4096"},
			args: []string{"--config", fileA, "--listen", ":9200", "--max-body-bytes", "8192"},
			want: func(c *Config) { c.Listen, c.LogLevel, c.MaxBodyBytes = ":9200", "debug", 8192 },
		},
		{
			name: "flag beats a bad env value",
			env:  map[string]string{"SCIMGATE_MAX_BODY_BYTES": "lots"},
			args: []string{"--max-body-bytes", "10"},
			want: func(c *Config) { c.MaxBodyBytes = 10 },
		},
		{
			name: "SCIMGATE_CONFIG names the file",
			env:  map[string]string{"SCIMGATE_CONFIG": fileA},
			want: func(c *Config) { c.Listen, c.LogLevel, c.MaxBodyBytes = ":9000", "debug", 2048 },
		},
		{
			name: "--config beats SCIMGATE_CONFIG",
			env:  map[string]string{"SCIMGATE_CONFIG": fileA},
			args: []string{"--config", fileB},
			want: func(c *Config) { c.Listen = ":9001" },
		},
		{
			name: "empty env counts as unset",
			env:  map[string]string{"SCIMGATE_LISTEN": "", "SCIMGATE_CONFIG": ""},
			want: func(*Config) {},
		},
		{
			name: "empty file keeps defaults",
			args: []string{"--config", fileEmpty},
			want: func(*Config) {},
		},
		{
			name: "file values expand the environment",
			env:  map[string]string{"DATA": "/srv"},
			args: []string{"--config", fileExpand},
			want: func(c *Config) { c.DB = "/srv/scim.db" },
		},
		{
			name: "--no-expand-env keeps them literal",
			env:  map[string]string{"DATA": "/srv"},
			args: []string{"--config", fileExpand, "--no-expand-env"},
			want: func(c *Config) { c.DB = "${DATA}/scim.db" },
		},
		{
			name: "every setting from the environment",
			env: map[string]string{
				"SCIMGATE_LISTEN":              "127.0.0.1:7000",
				"SCIMGATE_DB":                  "/tmp/x.db",
				"SCIMGATE_LOG_FORMAT":          "json",
				"SCIMGATE_LOG_LEVEL":           "warn",
				"SCIMGATE_BASE_URL":            "https://scim.example.com",
				"SCIMGATE_MAX_BODY_BYTES":      "123",
				"SCIMGATE_SECRET_KEY_FILE":     "/etc/scimgate/key",
				"SCIMGATE_MAX_CONCURRENT_RUNS": "2",

				"SCIMGATE_AUTH_FAILURES_PER_MINUTE":  "5",
				"SCIMGATE_TOKEN_REQUESTS_PER_SECOND": "7",
				"SCIMGATE_TOKEN_BURST":               "9",
				"SCIMGATE_TRUSTED_PROXIES":           "10.0.0.1",
				"SCIMGATE_TLS_CERT":                  "c.pem",
				"SCIMGATE_TLS_KEY":                   "k.pem",
				"SCIMGATE_CSV_DIRS":                  "/srv/hr:/srv/it",
			},
			want: func(c *Config) {
				*c = Config{Listen: "127.0.0.1:7000", DB: "/tmp/x.db", LogFormat: "json", LogLevel: "warn", BaseURL: "https://scim.example.com", MaxBodyBytes: 123,
					SecretKeyFile: "/etc/scimgate/key", MaxConcurrentRuns: 2,
					AuthFailuresPerMinute: 5, TokenRequestsPerSecond: 7, TokenBurst: 9, TrustedProxies: "10.0.0.1", TLSCert: "c.pem", TLSKey: "k.pem", CSVDirs: "/srv/hr:/srv/it"}
			},
		},
		{
			name: "every setting from flags",
			args: []string{"--listen", "127.0.0.1:7001", "--db", "y.db", "--log-format", "json", "--log-level", "error", "--base-url", "http://localhost:7001", "--max-body-bytes", "99",
				"--secret-key-file", "k.key", "--max-concurrent-runs", "8",
				"--auth-failures-per-minute", "0", "--token-requests-per-second", "0", "--token-burst", "0", "--trusted-proxies", "::1", "--tls-cert", "c", "--tls-key", "k", "--csv-dir", "exports"},
			want: func(c *Config) {
				*c = Config{Listen: "127.0.0.1:7001", DB: "y.db", LogFormat: "json", LogLevel: "error", BaseURL: "http://localhost:7001", MaxBodyBytes: 99,
					SecretKeyFile: "k.key", MaxConcurrentRuns: 8, TrustedProxies: "::1", TLSCert: "c", TLSKey: "k", CSVDirs: "exports"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadConfig(serveFlags(t, tt.args...), mapEnv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultConfig()
			tt.want(&want)
			if got != want {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	typo := writeFile(t, "typo.yaml", "listn: ':9000'\n")
	badType := writeFile(t, "type.yaml", "maxBodyBytes: 1MiB\n")
	badValues := writeFile(t, "values.yaml", "logLevel: loud\nlisten: nowhere\n")

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // substrings of the error, in order of the problems
	}{
		{"missing file", nil, []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, []string{"config file", "no such file"}},
		{"unknown key", nil, []string{"--config", typo}, []string{"listn", "not found"}},
		{"wrong type", nil, []string{"--config", badType}, []string{"1MiB"}},
		{"bad env number", map[string]string{"SCIMGATE_MAX_BODY_BYTES": "1MiB"}, nil, []string{`SCIMGATE_MAX_BODY_BYTES: "1MiB" is not a whole number`}},
		{
			name: "every problem from every layer at once",
			env:  map[string]string{"SCIMGATE_MAX_BODY_BYTES": "x", "SCIMGATE_LOG_FORMAT": "xml"},
			args: []string{"--config", badValues, "--base-url", "scim.example.com"},
			want: []string{"SCIMGATE_MAX_BODY_BYTES", `listen "nowhere"`, `logFormat "xml"`, `logLevel "loud"`, `baseURL "scim.example.com"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(serveFlags(t, tt.args...), mapEnv(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			msg, last := err.Error(), -1
			for _, w := range tt.want {
				i := strings.Index(msg, w)
				if i < 0 || i < last {
					t.Fatalf("error does not contain %q (in order):\n%s", w, msg)
				}
				last = i
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Config)
		want []string // one substring per expected problem; none for valid
	}{
		{"defaults", func(*Config) {}, nil},
		{"loopback ipv6 and https base URL", func(c *Config) { c.Listen, c.BaseURL = "[::1]:8443", "https://scim.example.com/tenant" }, nil},
		{"port 0", func(c *Config) { c.Listen = "127.0.0.1:0" }, nil},
		{"no port", func(c *Config) { c.Listen = "localhost" }, []string{"not host:port"}},
		{"named port", func(c *Config) { c.Listen = ":http" }, []string{"port must be a number"}},
		{"port too big", func(c *Config) { c.Listen = ":70000" }, []string{"port must be a number"}},
		{"empty db", func(c *Config) { c.DB = " " }, []string{"db must not be empty"}},
		{"log format", func(c *Config) { c.LogFormat = "logfmt" }, []string{`logFormat "logfmt"`}},
		{"log level", func(c *Config) { c.LogLevel = "DEBUG" }, []string{`logLevel "DEBUG"`}},
		{"relative base URL", func(c *Config) { c.BaseURL = "/scim" }, []string{"absolute http(s) URL"}},
		{"ftp base URL", func(c *Config) { c.BaseURL = "ftp://example.com" }, []string{"absolute http(s) URL"}},
		{"base URL with query", func(c *Config) { c.BaseURL = "https://example.com/?a=b" }, []string{"query or fragment"}},
		{"zero body limit", func(c *Config) { c.MaxBodyBytes = 0 }, []string{"must be positive"}},
		{"negative body limit", func(c *Config) { c.MaxBodyBytes = -1 }, []string{"must be positive"}},
		{"console sessions", func(c *Config) { c.ConsoleIdleMinutes, c.ConsoleMaxHours = 5, 1 }, nil},
		{"negative console sessions", func(c *Config) { c.ConsoleIdleMinutes, c.ConsoleMaxHours = -1, -2 },
			[]string{"consoleIdleMinutes -1", "consoleMaxHours -2"}},
		{
			name: "all at once",
			edit: func(c *Config) {
				*c = Config{Listen: "x", DB: "", LogFormat: "yaml", LogLevel: "trace", BaseURL: "example.com", MaxBodyBytes: -5}
			},
			want: []string{"listen", "db", "logFormat", "logLevel", "baseURL", "maxBodyBytes", "maxConcurrentRuns", "csvDirs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if len(ce.Problems) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ce.Problems), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(ce.Problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, ce.Problems[i], w)
				}
			}
		})
	}
}
