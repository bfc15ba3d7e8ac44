package api_test

import (
	"net/url"
	"testing"
	"time"
)

// runTimes reads a list of RFC 3339 times from an answer.
func runTimes(t *testing.T, r *apiResp, key string) []time.Time {
	t.Helper()
	raw, ok := r.Body[key].([]any)
	if !ok {
		t.Fatalf("%v: no list %s", r, key)
	}
	out := make([]time.Time, len(raw))
	for i, v := range raw {
		s, _ := v.(string)
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("%v: %s[%d]: %v", r, key, i, err)
		}
		out[i] = tm
	}
	return out
}

// TestSourcesShowTheirNextRuns: a scheduled source shows its next three
// run times, spaced by its interval (plus its fixed spread); a disabled
// or manual-only one shows none.
func TestSourcesShowTheirNextRuns(t *testing.T) {
	e := newAPIEnv(t)
	settings := map[string]any{"usersPath": "/tmp/u.csv"}
	tests := []struct {
		name     string
		schedule string
		enabled  bool
		want     int
	}{
		{"hourly", "1h", true, 3},
		{"disabled", "1h", false, 0},
		{"manual", "", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
				"name": tc.name, "kind": "csv", "enabled": tc.enabled, "schedule": tc.schedule, "settings": settings,
			}).want(t, 201)
			next := runTimes(t, src, "nextRuns")
			if len(next) != tc.want {
				t.Fatalf("nextRuns = %v, want %d", next, tc.want)
			}
			if tc.want == 0 {
				return
			}
			// Never run: due at once; then every hour plus a spread of
			// at most five minutes, the same each time.
			gap := next[1].Sub(next[0])
			if gap < time.Hour || gap >= time.Hour+5*time.Minute || next[2].Sub(next[1]) != gap {
				t.Errorf("nextRuns %v are not an hour (plus a fixed spread) apart", next)
			}
			got := runTimes(t, e.call(t, "GET", "/api/v1/sources/"+src.str("id"), e.Admin, nil).want(t, 200), "nextRuns")
			if got[1].Sub(got[0]) != gap {
				t.Errorf("GET shows %v, POST showed %v", got, next)
			}
		})
	}
}

func TestSchedulePreview(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		schedule string
		check    func(t *testing.T, next []time.Time)
	}{
		{"0 6 * * *", func(t *testing.T, next []time.Time) {
			for i, n := range next {
				if n.Hour() != 6 || n.Minute() != 0 || (i > 0 && n.Sub(next[i-1]).Round(time.Hour) != 24*time.Hour) {
					t.Errorf("next = %v, want 06:00 UTC on following days", next)
				}
			}
		}},
		{"15m", func(t *testing.T, next []time.Time) {
			if g := next[1].Sub(next[0]); g < 15*time.Minute || g >= 17*time.Minute {
				t.Errorf("next = %v, want 15m (plus spread) apart", next)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.schedule, func(t *testing.T) {
			r := e.call(t, "GET", "/api/v1/schedules/preview?schedule="+url.QueryEscape(tc.schedule), e.Admin, nil).want(t, 200)
			next := runTimes(t, r, "next")
			if len(next) != 3 {
				t.Fatalf("next = %v, want 3", next)
			}
			tc.check(t, next[1:])
		})
	}
	if r := e.call(t, "GET", "/api/v1/schedules/preview?schedule=", e.Admin, nil).want(t, 200); len(runTimes(t, r, "next")) != 0 {
		t.Errorf("manual only: %v", r)
	}
	bad := e.call(t, "GET", "/api/v1/schedules/preview?schedule=every+tuesday", e.Admin, nil)
	fields, _ := bad.wantErr(t, 422, "invalid_config")["fields"].(map[string]any)
	if msg, _ := fields["schedule"].(string); msg == "" {
		t.Errorf("no schedule problem: %v", bad)
	}
	e.call(t, "GET", "/api/v1/schedules/preview?schedule=1h&source=nope", e.Admin, nil).wantErr(t, 404, "not_found")
	e.call(t, "GET", "/api/v1/schedules/preview?schedule=1h", e.Reader, nil).wantErr(t, 403, "forbidden")
}
