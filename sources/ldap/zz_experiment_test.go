package ldap

import (
	"os"
	"slices"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

func TestZZExperiment(t *testing.T) {
	if os.Getenv("SCIMGATE_LDAP_EXPERIMENT") != "1" {
		t.Skip()
	}
	l := needLab(t)
	ctx := background(t)
	cfg := l.config()
	cfg.PageSize = 1000
	set, _ := cfg.settings()
	for round := 0; round < 3; round++ {
		d, n := ldapsearch(t, l, set.userFilter, set.userAttrs)
		t.Logf("ldapsearch users %v %d", d, n)
		dg, ng := ldapsearch(t, l, set.groupFilter, append(slices.Clone(set.groupAttrs), "member"))
		t.Logf("ldapsearch groups %v %d", dg, ng)
		for _, ext := range []bool{true, false} {
			src := l.open(t, cfg)
			c, err := src.connect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ses := &session{c: c, set: src.set, log: src.log, stats: &src.stats}
			var ctrls []goldap.Control
			if ext {
				ctrls = append(ctrls, extendedDNControl())
			}
			start := time.Now()
			n := 0
			ses.paged(ctx, set.userBaseDN, set.userFilter, set.userAttrs, ctrls, func(e []*goldap.Entry) error { n += len(e); return nil })
			t.Logf("paged users ext=%v %v %d", ext, time.Since(start), n)
			start = time.Now()
			n = 0
			ses.paged(ctx, set.groupBaseDN, set.groupFilter, append(slices.Clone(set.groupAttrs), "member;range=0-1499"), ctrls, func(e []*goldap.Entry) error { n += len(e); return nil })
			t.Logf("paged groups ext=%v %v %d", ext, time.Since(start), n)
			c.Close()
		}
		src := l.open(t, cfg)
		start := time.Now()
		rd := &recorder{}
		src.Sync(ctx, sources.Request{}, &countingSink{})
		_ = rd
		t.Logf("full source %v", time.Since(start))
	}
}
