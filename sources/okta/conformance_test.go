package okta_test

import (
	"errors"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		New:              newConformanceOrg,
		Incremental:      true,
		PageSize:         200, // the limit the source asks for
		IsUnreachable:    func(err error) bool { return errors.Is(err, okta.ErrUnreachable) },
		IsBadCredentials: func(err error) bool { return errors.Is(err, okta.ErrUnauthorized) },
	})
}

// conformanceOrg is an emulated org and the settings sources are opened
// with. Time moves on an hour at every open and before every change, so
// each change is later than the last run's watermark and its overlap.
type conformanceOrg struct {
	t        *testing.T
	srv      *oktatest.Server
	settings map[string]any
}

func newConformanceOrg(t *testing.T) sourcetest.Upstream {
	return &conformanceOrg{t: t, srv: newOrg(t, oktatest.Options{}), settings: map[string]any{}}
}

func (o *conformanceOrg) AddUser(i int) string { return o.srv.AddUser(person(i)) }

func (o *conformanceOrg) AddGroup(name string, members ...string) string {
	id := o.srv.AddGroup(oktatest.GroupSpec{Name: name})
	for _, m := range members {
		if err := o.srv.AddMember(id, m); err != nil {
			o.t.Fatal(err)
		}
	}
	return id
}

func (o *conformanceOrg) ChangeUser(id string) {
	later(o.srv, time.Hour)
	if err := o.srv.UpdateUser(id, map[string]any{"title": "Manager"}); err != nil {
		o.t.Fatal(err)
	}
}

// DeleteUser deactivates, then deletes: Okta's two steps to a user gone
// for good.
func (o *conformanceOrg) DeleteUser(id string) {
	later(o.srv, time.Hour)
	for range 2 {
		if _, err := o.srv.DeleteUser(id); err != nil {
			o.t.Fatal(err)
		}
	}
}

func (o *conformanceOrg) AddMalformed() {
	spec := person(99999)
	spec.Garbled = true
	o.srv.AddUser(spec)
}

func (o *conformanceOrg) BreakCredentials() { o.settings["apiToken"] = "00not-the-token" }

func (o *conformanceOrg) BreakHost() {
	addr := sourcetest.ClosedAddr(o.t)
	o.settings["orgURL"] = "http://" + addr
}

func (o *conformanceOrg) Open(env sources.Env) sources.Source {
	later(o.srv, time.Hour)
	return open(o.t, o.srv, o.settings, func(e *sources.Env) { e.Upstream = env.Upstream })
}
