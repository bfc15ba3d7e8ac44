package sources_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestHTTPOutcome(t *testing.T) {
	answer := func(status int, header ...string) *http.Response {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	tests := []struct {
		resp *http.Response
		err  error
		want sources.UpstreamOutcome
	}{
		{answer(200), nil, sources.UpstreamOK},
		{answer(204), nil, sources.UpstreamOK},
		{answer(429), nil, sources.UpstreamThrottled},
		{answer(503, "Retry-After", "5"), nil, sources.UpstreamThrottled},
		{answer(503), nil, sources.UpstreamError},
		{answer(401), nil, sources.UpstreamError},
		{answer(500), nil, sources.UpstreamError},
		{nil, fmt.Errorf("get: %w", context.DeadlineExceeded), sources.UpstreamTimeout},
		{nil, timeoutErr{}, sources.UpstreamTimeout},
		{nil, errors.New("connection refused"), sources.UpstreamError},
	}
	for _, tc := range tests {
		if got := sources.HTTPOutcome(tc.resp, tc.err); got != tc.want {
			status := 0
			if tc.resp != nil {
				status = tc.resp.StatusCode
			}
			t.Errorf("HTTPOutcome(%d, %v) = %s, want %s", status, tc.err, got, tc.want)
		}
	}
}
