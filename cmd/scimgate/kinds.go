package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/ldap"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// kinds is the complete list of source kinds this binary knows, set up
// with the settings that confine them (csv files only in cfg's csvDirs,
// never the server's own files).
func kinds(cfg Config) sources.Registry {
	return sources.Registry{
		"csv":   csv.ConfinedKind(cfg.csvDirList(), ownFiles(cfg)),
		"entra": entra.Kind(),
		"ldap":  ldap.Kind(),
		"okta":  okta.Kind(),
	}
}

// ownFiles are the server's own files, which no csv source may read even
// when an allowed csv directory holds them: the SQLite database with its
// journal files, the secret key file and the TLS key.
func ownFiles(cfg Config) []string {
	files := []string{cfg.keyFile()}
	if !sqlstore.IsPostgres(cfg.DB) {
		files = append(files, cfg.DB, cfg.DB+"-wal", cfg.DB+"-shm", cfg.DB+"-journal")
	}
	if cfg.TLSKey != "" {
		files = append(files, cfg.TLSKey)
	}
	return files
}

// resealSecrets binds secrets stored by a release that sealed them to
// their setting name only to their source (see engine.Reseal). Every
// replica may run it: a rewritten secret is not rewritten again.
func resealSecrets(ctx context.Context, store storage.SourceStore, sealer *engine.Sealer, logger *slog.Logger) error {
	n, err := engine.Reseal(ctx, store, sealer, logger)
	if err != nil {
		return fmt.Errorf("reseal source secrets: %w", err)
	}
	if n > 0 {
		logger.Info("source secrets resealed, bound to their source", "sources", n)
	}
	return nil
}

// sealer loads the key that encrypts source secrets: SCIMGATE_SECRET_KEY,
// or the key file (created with a random key on first start).
func (m *Main) sealer(cfg Config) (*engine.Sealer, error) {
	env, _ := m.LookupEnv(envSecretKey)
	path := cfg.keyFile()
	if env == "" {
		if err := keyFileProblem(path); err != nil {
			return nil, err
		}
	}
	key, err := engine.LoadKey(env, path)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return engine.NewSealer(key)
}

// keyFile is the secret key file serve reads (or creates) when
// SCIMGATE_SECRET_KEY is not set.
func (c Config) keyFile() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
	}
	return defaultKeyFile(c.DB)
}

// defaultKeyFile is scimgate.key beside a SQLite database, or in the
// working directory when the database is not a file (a PostgreSQL DSN has
// no directory). Replicas each have their own working directory, so they
// must be given one key through SCIMGATE_SECRET_KEY instead.
func defaultKeyFile(db string) string {
	if sqlstore.IsPostgres(db) {
		return "scimgate.key"
	}
	return filepath.Join(filepath.Dir(db), "scimgate.key")
}
