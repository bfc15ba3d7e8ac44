package api

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// pushJSON is an app's push as the config API shows it: secrets only as
// "set", with the push's health and its run in progress.
type pushJSON struct {
	URL                string                 `json:"url"`
	Auth               pushAuthJSON           `json:"auth"`
	Schedule           string                 `json:"schedule"`
	AfterChangeSeconds int                    `json:"afterChangeSeconds"`
	Profile            string                 `json:"profile"`
	Match              []string               `json:"match"`
	OnLeave            string                 `json:"onLeave"`
	Deletion           storage.DeletionLimits `json:"deletion"`
	Mapping            storage.SourceMapping  `json:"mapping"`
	Enabled            bool                   `json:"enabled"`
	Health             storage.SourceHealth   `json:"health"`
	// Waiting is since when a change to the view waits to be pushed.
	Waiting      *time.Time   `json:"waitingSince,omitempty"`
	RunningRunID string       `json:"runningRunId,omitempty"`
	LastRun      *lastRunJSON `json:"lastRun,omitempty"`
}

type pushAuthJSON struct {
	Type         string `json:"type"`
	Token        string `json:"token,omitempty"` // "set" when stored
	TokenURL     string `json:"tokenURL,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"` // "set" when stored
	Scope        string `json:"scope,omitempty"`
}

// pushView renders a's push (nil without one); its state is best effort.
func (s *Server) pushView(ctx context.Context, a storage.App) *pushJSON {
	p := a.Push
	if p == nil {
		return nil
	}
	v := &pushJSON{
		URL: p.URL, Schedule: p.Schedule, AfterChangeSeconds: p.AfterChangeSeconds, Profile: p.Profile,
		Match: nonNil(slices.Clone(p.Match)), OnLeave: p.OnLeave, Deletion: p.Deletion, Mapping: p.Mapping, Enabled: p.Enabled,
		Auth: pushAuthJSON{Type: p.Auth.Type, TokenURL: p.Auth.TokenURL, ClientID: p.Auth.ClientID, Scope: p.Auth.Scope},
	}
	if _, ok := p.Secrets[storage.PushSecretToken]; ok {
		v.Auth.Token = secretSet
	}
	if _, ok := p.Secrets[storage.PushSecretClientSecret]; ok {
		v.Auth.ClientSecret = secretSet
	}
	if s.cfg.Pushes != nil {
		if id, ok := s.cfg.Pushes.Running(a.ID); ok {
			v.RunningRunID = id
		}
	}
	ps := s.pushStore()
	if ps == nil {
		return v
	}
	if st, err := ps.GetPushState(ctx, a.ID); err == nil {
		v.Health, v.Waiting = st.Health, optTime(st.FirstChange)
	} else if !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("cannot read an application's push state", "app", a.ID, "error", err)
	}
	if runs, err := ps.PushRuns().ListRuns(ctx, a.ID, 1); err == nil && len(runs) == 1 {
		v.LastRun = &lastRunJSON{ID: runs[0].ID, Status: runs[0].Status, Finished: optTime(runs[0].Finished)}
	}
	return v
}

// pushSealerFor seals push secrets for the app id; nil without a key.
func (s *Server) pushSealerFor(appID string) pushSealer {
	if s.cfg.Sealer == nil {
		return nil
	}
	return func(name, value string) []byte { return s.cfg.Sealer.Seal(appID, name, value) }
}
