package main

import (
	"fmt"
	"path/filepath"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/ldap"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// kinds is the complete list of source kinds this binary knows, set up
// with the settings that confine them (csv files only in cfg's csvDirs).
func kinds(cfg Config) sources.Registry {
	return sources.Registry{
		"csv":   csv.Kind(cfg.csvDirList()...),
		"entra": entra.Kind(),
		"ldap":  ldap.Kind(),
		"okta":  okta.Kind(),
	}
}

// sealer loads the key that encrypts source secrets: SCIMGATE_SECRET_KEY,
// or the key file (created with a random key on first start).
func (m *Main) sealer(cfg Config) (*engine.Sealer, error) {
	env, _ := m.LookupEnv(envSecretKey)
	path := cfg.SecretKeyFile
	if path == "" {
		path = defaultKeyFile(cfg.DB)
	}
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
